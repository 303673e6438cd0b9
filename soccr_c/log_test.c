/*
 * libsoccr_set_log: levels, message format and detail, switching it off,
 * and thread safety (different handles on different threads while another
 * thread changes the log setting).
 */

#include <pthread.h>
#include <soccr/soccr.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "soccr_c/testing/harness.h"
#include "soccr_c/testing/image.h"
#include "soccr_c/testing/log_capture.h"
#include "soccr_c/testing/tcp.h"

/* Checkpoints a fresh pair's client and restores it: every call once. */
static int round_trip(uint64_t seed) {
  struct ct_image img;
  int client, server, restored, ok;
  char *data = ct_pattern(5000, seed, 0);
  if (ct_connected_pair(CT_V4, 0, &client, &server) != 0) return -1;
  if (ct_write_all(server, data, 5000) != 0 || ct_wait_inq(client, 5000) != 0 ||
      ct_wait_nothing_in_flight(server) != 0 ||
      ct_checkpoint(client, &img) != 0) {
    return -1;
  }
  close(client);
  restored = ct_restore(&img, seed % 2 ? SOCCR_MEM_EXCL : 0);
  ok = restored >= 0 && ct_expect_stream(restored, data, 5000) == 0 &&
       ct_traffic_both_ways(restored, server, 3000, seed) == 0;
  ct_image_free(&img);
  if (restored >= 0) close(restored);
  close(server);
  free(data);
  return ok ? 0 : -1;
}

static void TestErrorLevelReportsErrorsOnly(void) {
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(round_trip(1) == 0);
  EXPECT_EQ(ct_log_count(0), 0);
  EXPECT(libsoccr_pause(-5) == NULL);
  EXPECT_EQ(ct_log_count(SOCCR_LOG_ERR), 1);
  EXPECT_EQ(ct_log_count(0), 1);
  EXPECT(ct_log_has(SOCCR_LOG_ERR,
                    "libsoccr_pause: INVALID_ARGUMENT: pause fd -5: not a "
                    "descriptor\n"));
  EXPECT_EQ(ct_log_malformed(), 0);
}

static void TestDebugLevelReportsEachStep(void) {
  ct_log_capture(SOCCR_LOG_DBG);
  CHECK(round_trip(2) == 0);
  EXPECT(ct_log_has(SOCCR_LOG_DBG, "libsoccr_pause: fd "));
  EXPECT(ct_log_has(SOCCR_LOG_DBG,
                    "libsoccr_save: state=ESTABLISHED local=127.0.0.1:"));
  EXPECT(ct_log_has(SOCCR_LOG_DBG, " inq_len=5000 "));
  EXPECT(ct_log_has(SOCCR_LOG_DBG, "libsoccr_release: fd "));
  EXPECT(ct_log_has(SOCCR_LOG_DBG, "libsoccr_restore: state=ESTABLISHED"));
  EXPECT(ct_log_has(SOCCR_LOG_DBG, "libsoccr_resume: fd "));
  EXPECT_EQ(ct_log_count(SOCCR_LOG_ERR), 0);
  /* Errors still come at their own level. */
  EXPECT_EQ(libsoccr_save(NULL, NULL, 0), -1);
  EXPECT_EQ(ct_log_count(SOCCR_LOG_ERR), 1);
  EXPECT_EQ(ct_log_malformed(), 0);
  if (ct_failed()) ct_log_dump();
}

static void TestOffReportsNothing(void) {
  ct_log_capture(0);
  EXPECT(libsoccr_pause(-1) == NULL);
  CHECK(round_trip(3) == 0);
  EXPECT_EQ(ct_log_count(0), 0);
  /* No function at all (the initial setting): nothing, and no crash. */
  libsoccr_set_log(SOCCR_LOG_DBG, NULL);
  EXPECT(libsoccr_pause(-1) == NULL);
  CHECK(round_trip(4) == 0);
  EXPECT_EQ(ct_log_count(0), 0);
}

/* Errors carry the detail of the C++ API's Status: the connection, the
 * step, the kernel call and errno. */
static void TestErrorsSayWhatWhereAndWhy(void) {
  struct ct_image img;
  struct libsoccr_sk *h;
  char expected[256];
  int client, server, sk;
  uint16_t port;
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(ct_connected_pair(CT_V4, 0, &client, &server) == 0);
  CHECK(ct_checkpoint(client, &img) == 0);
  /* Not closed: its addresses are still taken, so the restore's connect()
   * fails. */
  sk = socket(AF_INET, SOCK_STREAM, 0);
  h = libsoccr_pause(sk);
  CHECK(h != NULL);
  CHECK(libsoccr_set_addr(h, 1, &img.self, 0) == 0);
  CHECK(libsoccr_set_addr(h, 0, &img.peer, 0) == 0);
  EXPECT_EQ(libsoccr_restore(h, &img.data, sizeof(img.data)), -1);
  port = ntohs(img.self.v4.sin_port);
  snprintf(expected, sizeof(expected),
           "libsoccr_restore: ALREADY_EXISTS: restore 127.0.0.1:%u->127.0.0.1:"
           "%u: connect to peer: connect: Cannot assign requested address",
           (unsigned)port, (unsigned)ntohs(img.peer.v4.sin_port));
  if (!ct_log_has(SOCCR_LOG_ERR, expected)) {
    ct_fail(__FILE__, __LINE__, "want \"%s\"", expected);
    ct_log_dump();
  }
  libsoccr_release(h);
  close(sk);
  close(client);
  close(server);
  ct_image_free(&img);
}

/* A log function may call back into the library. */
static int reentered;
static void reentrant_log(unsigned int level, const char *fmt, ...) {
  (void)level;
  (void)fmt;
  if (!reentered) {
    reentered = 1;
    libsoccr_set_log(SOCCR_LOG_ERR, ct_log_function);
    (void)libsoccr_pause(-1);
  }
}

static void TestLogFunctionMayCallTheLibrary(void) {
  ct_log_clear();
  reentered = 0;
  libsoccr_set_log(SOCCR_LOG_ERR, reentrant_log);
  EXPECT(libsoccr_pause(-2) == NULL);
  EXPECT(reentered);
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "pause fd -1"));
  libsoccr_set_log(0, NULL);
}

/* Threads that each checkpoint and restore their own connections, while
 * the main thread keeps changing the log setting. */
#define THREADS 4
#define ROUNDS 25

static void *worker(void *arg) {
  const uint64_t id = (uint64_t)(uintptr_t)arg;
  int i;
  for (i = 0; i < ROUNDS; ++i) {
    if (round_trip(1000 * id + (uint64_t)i) != 0) return (void *)1;
  }
  return NULL;
}

static void TestHandlesOnManyThreads(void) {
  pthread_t threads[THREADS];
  void *result;
  int i, failures = 0, started = 0, toggles = 0;
  ct_log_capture(SOCCR_LOG_DBG);
  for (i = 0; i < THREADS; ++i) {
    if (pthread_create(&threads[i], NULL, worker, (void *)(uintptr_t)i) != 0) {
      break;
    }
    ++started;
  }
  CHECK_EQ(started, THREADS);
  /* Until the workers are done, flip between levels and functions; any
   * torn read of the setting would call a NULL function. */
  while (ct_log_count(SOCCR_LOG_DBG) < THREADS * ROUNDS * 8 &&
         toggles < 200000) {
    libsoccr_set_log((unsigned)(toggles % 3),
                     toggles % 5 ? ct_log_function : NULL);
    libsoccr_set_log(SOCCR_LOG_DBG, ct_log_function);
    ++toggles;
  }
  for (i = 0; i < THREADS; ++i) {
    pthread_join(threads[i], &result);
    if (result != NULL) ++failures;
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(ct_log_count(SOCCR_LOG_ERR), 0);
  EXPECT_EQ(ct_log_malformed(), 0);
  if (ct_failed()) ct_log_dump();
  libsoccr_set_log(0, NULL);
}

int main(int argc, char **argv) {
  static const struct ct_test tests[] = {
      CT_TEST(TestErrorLevelReportsErrorsOnly),
      CT_TEST(TestDebugLevelReportsEachStep),
      CT_TEST(TestOffReportsNothing),
      CT_TEST(TestErrorsSayWhatWhereAndWhy),
      CT_TEST(TestLogFunctionMayCallTheLibrary),
      CT_TEST(TestHandlesOnManyThreads),
  };
  return ct_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
