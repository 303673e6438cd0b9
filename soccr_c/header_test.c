/*
 * <soccr/soccr.h> compiled as strict ISO C (built twice: -std=c99 and
 * -std=c11, -pedantic-errors, no feature-test macros) and linked with
 * libsoccr.so: libsoccr's names, types and values, and every call's
 * signature (assigned to a pointer of libsoccr's exact type, which does
 * not compile if they differ).
 */

#include <soccr/soccr.h>
#include <stddef.h>
#include <stdio.h>

static int failures;

static void expect(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "failed: %s\n", what);
    ++failures;
  }
}
#define EXPECT(cond) expect((cond), #cond)

typedef void (*log_fn)(unsigned int level, const char *fmt, ...);

int main(void) {
  void (*set_log)(unsigned int, log_fn) = libsoccr_set_log;
  struct libsoccr_sk *(*pause)(int) = libsoccr_pause;
  void (*resume)(struct libsoccr_sk *) = libsoccr_resume;
  void (*release)(struct libsoccr_sk *) = libsoccr_release;
  int (*save)(struct libsoccr_sk *, struct libsoccr_sk_data *, unsigned) =
      libsoccr_save;
  char *(*get_queue_bytes)(struct libsoccr_sk *, int, unsigned) =
      libsoccr_get_queue_bytes;
  union libsoccr_addr *(*get_addr)(struct libsoccr_sk *, int, unsigned) =
      libsoccr_get_addr;
  int (*set_queue_bytes)(struct libsoccr_sk *, int, char *, unsigned) =
      libsoccr_set_queue_bytes;
  int (*set_addr)(struct libsoccr_sk *, int, union libsoccr_addr *, unsigned) =
      libsoccr_set_addr;
  int (*restore)(struct libsoccr_sk *, struct libsoccr_sk_data *, unsigned) =
      libsoccr_restore;
  union libsoccr_addr addr;

  EXPECT(set_log && pause && resume && release && save && get_queue_bytes &&
         get_addr && set_queue_bytes && set_addr && restore);
  EXPECT(sizeof(struct libsoccr_sk_data) == 68);
  EXPECT(offsetof(struct libsoccr_sk_data, state) == 0);
  EXPECT(offsetof(struct libsoccr_sk_data, unsq_len) == 20);
  EXPECT(offsetof(struct libsoccr_sk_data, flags) == 44);
  EXPECT(offsetof(struct libsoccr_sk_data, rcv_wup) == 64);
  EXPECT(sizeof(union libsoccr_addr) == sizeof(struct sockaddr_in6));
  EXPECT((void *)&addr.sa == (void *)&addr.v4 &&
         (void *)&addr.sa == (void *)&addr.v6);
  EXPECT(SOCCR_FLAGS_WINDOW == 0x1);
  EXPECT(SOCCR_MEM_EXCL == 0x1);
  EXPECT(SOCCR_MARK == 0xC114);
  EXPECT(SOCCR_LOG_ERR == 1);
  EXPECT(SOCCR_LOG_DBG == 2);
  EXPECT(TCP_NO_QUEUE == 0);
  EXPECT(TCP_RECV_QUEUE == 1);
  EXPECT(TCP_SEND_QUEUE == 2);
  EXPECT(TCP_TIMESTAMP == 24);
  EXPECT(TCP_REPAIR_WINDOW == 29);
  /* Calls that need no socket behave. */
  EXPECT(pause(-1) == NULL);
  resume(NULL);
  EXPECT(save(NULL, NULL, 0) == -1);
  printf("%s\n", failures ? "FAILED" : "OK");
  return failures ? 1 : 0;
}
