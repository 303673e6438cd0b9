/*
 * Every bad argument to every call: the error value (NULL or -1), a logged
 * reason naming what was wrong, and no crash. A restore rejected before it
 * touched the socket leaves the handle usable: the same handle then
 * restores the real connection.
 */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <soccr/soccr.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "soccr_c/testing/harness.h"
#include "soccr_c/testing/image.h"
#include "soccr_c/testing/log_capture.h"
#include "soccr_c/testing/tcp.h"

/* Expects exactly one error message since the last check, containing
 * `text`, and forgets it. */
#define EXPECT_LOGGED(text)                                                  \
  do {                                                                       \
    EXPECT_EQ(ct_log_count(SOCCR_LOG_ERR), 1);                               \
    if (!ct_log_has(SOCCR_LOG_ERR, text)) {                                  \
      ct_fail(__FILE__, __LINE__, "no error message contains \"%s\"", text); \
      ct_log_dump();                                                         \
    }                                                                        \
    ct_log_clear();                                                          \
  } while (0)

static void TestPauseRejectsWhatIsNotATcpSocket(void) {
  int udp, pipefd[2], closed;
  ct_log_capture(SOCCR_LOG_ERR);

  EXPECT(libsoccr_pause(-1) == NULL);
  EXPECT_LOGGED(
      "libsoccr_pause: INVALID_ARGUMENT: pause fd -1: not a descriptor");

  udp = socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT(libsoccr_pause(udp) == NULL);
  EXPECT_LOGGED("not a TCP socket");
  close(udp);

  CHECK(pipe(pipefd) == 0);
  EXPECT(libsoccr_pause(pipefd[0]) == NULL);
  EXPECT_LOGGED("INVALID_ARGUMENT: pause fd");
  close(pipefd[0]);
  close(pipefd[1]);

  closed = dup(0);
  close(closed);
  EXPECT(libsoccr_pause(closed) == NULL);
  EXPECT_LOGGED("Bad file descriptor");
}

static void TestNullHandles(void) {
  struct libsoccr_sk_data data;
  union libsoccr_addr addr;
  char byte = 0;
  memset(&addr, 0, sizeof(addr));
  addr.v4.sin_family = AF_INET;
  ct_log_capture(SOCCR_LOG_ERR);

  libsoccr_resume(NULL);
  EXPECT_LOGGED("libsoccr_resume: INVALID_ARGUMENT: the handle is NULL");
  libsoccr_release(NULL);
  EXPECT_LOGGED("libsoccr_release: INVALID_ARGUMENT: the handle is NULL");
  EXPECT_EQ(libsoccr_save(NULL, &data, sizeof(data)), -1);
  EXPECT_LOGGED("libsoccr_save: INVALID_ARGUMENT: the handle is NULL");
  EXPECT(libsoccr_get_queue_bytes(NULL, TCP_RECV_QUEUE, 0) == NULL);
  EXPECT_LOGGED("libsoccr_get_queue_bytes: INVALID_ARGUMENT: the handle");
  EXPECT(libsoccr_get_addr(NULL, 1, 0) == NULL);
  EXPECT_LOGGED("libsoccr_get_addr: INVALID_ARGUMENT: the handle is NULL");
  EXPECT_EQ(libsoccr_set_queue_bytes(NULL, TCP_RECV_QUEUE, &byte, 0), -1);
  EXPECT_LOGGED("libsoccr_set_queue_bytes: INVALID_ARGUMENT: the handle");
  EXPECT_EQ(libsoccr_set_addr(NULL, 1, &addr, 0), -1);
  EXPECT_LOGGED("libsoccr_set_addr: INVALID_ARGUMENT: the handle is NULL");
  EXPECT_EQ(libsoccr_restore(NULL, &data, sizeof(data)), -1);
  EXPECT_LOGGED("libsoccr_restore: INVALID_ARGUMENT: the handle is NULL");
}

static void TestCheckpointCallsRejectBadArguments(void) {
  struct libsoccr_sk_data data;
  unsigned char big[100];
  struct libsoccr_sk *h;
  int client, server;
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(ct_connected_pair(CT_V4, 0, &client, &server) == 0);
  h = libsoccr_pause(client);
  CHECK(h != NULL);

  EXPECT(libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, 0) == NULL);
  EXPECT_LOGGED("FAILED_PRECONDITION: fd");
  EXPECT(ct_log_count(0) == 0);
  EXPECT(libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, SOCCR_MEM_EXCL) == NULL);
  EXPECT_LOGGED("call libsoccr_save first");

  EXPECT_EQ(libsoccr_save(h, NULL, sizeof(data)), -1);
  EXPECT_LOGGED("INVALID_ARGUMENT: data is NULL");
  EXPECT_EQ(libsoccr_save(h, &data, sizeof(data) - 1), -1);
  EXPECT_LOGGED("data_size 67 is smaller than struct libsoccr_sk_data (68");
  EXPECT_EQ(libsoccr_save(h, &data, 0), -1);
  EXPECT_LOGGED("data_size 0 is smaller");
  /* A bigger buffer is fine; the library fills (and touches) 68 bytes. */
  memset(big, 0xab, sizeof(big));
  EXPECT_EQ(libsoccr_save(h, (struct libsoccr_sk_data *)big, sizeof(big)), 68);
  EXPECT(big[68] == 0xab && big[99] == 0xab);
  EXPECT_EQ(((struct libsoccr_sk_data *)big)->state, 1);

  EXPECT(libsoccr_get_queue_bytes(h, TCP_NO_QUEUE, 0) == NULL);
  EXPECT_LOGGED("queue id 0 is neither TCP_RECV_QUEUE (1) nor TCP_SEND_QUEUE");
  EXPECT(libsoccr_get_queue_bytes(h, 3, 0) == NULL);
  EXPECT_LOGGED("queue id 3");
  EXPECT(libsoccr_get_queue_bytes(h, -1, SOCCR_MEM_EXCL) == NULL);
  EXPECT_LOGGED("queue id -1");
  EXPECT(libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, 2) == NULL);
  EXPECT_LOGGED("flags 0x2: unknown bits 0x2");
  EXPECT(libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, 0x80000001u) == NULL);
  EXPECT_LOGGED("unknown bits 0x80000000");
  EXPECT(libsoccr_get_addr(h, 1, 4) == NULL);
  EXPECT_LOGGED("libsoccr_get_addr: INVALID_ARGUMENT: flags 0x4");

  libsoccr_resume(h);
  EXPECT_EQ(ct_log_count(0), 0);
  EXPECT(ct_traffic_both_ways(client, server, 1000, 1) == 0);
  close(client);
  close(server);
}

static void TestGetAddrOfAnUnconnectedSocket(void) {
  const int sk = socket(AF_INET6, SOCK_STREAM, 0);
  struct libsoccr_sk *h = libsoccr_pause(sk);
  union libsoccr_addr *self;
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(h != NULL);
  EXPECT(libsoccr_get_addr(h, 0, 0) == NULL);
  EXPECT_LOGGED(
      "read peer address (SO_PEERNAME): getsockopt: Transport endpoint is not");
  /* Its local address is the unspecified one, port 0. */
  self = libsoccr_get_addr(h, 1, 0);
  CHECK(self != NULL);
  EXPECT_EQ(self->sa.sa_family, AF_INET6);
  EXPECT_EQ(self->v6.sin6_port, 0);
  libsoccr_release(h);
  close(sk);
}

static void TestSetCallsRejectBadArguments(void) {
  const int sk = socket(AF_INET, SOCK_STREAM, 0);
  struct libsoccr_sk *h = libsoccr_pause(sk);
  union libsoccr_addr addr, *owned;
  char *bytes;
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(h != NULL);

  EXPECT_EQ(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, NULL, 0), -1);
  EXPECT_LOGGED("INVALID_ARGUMENT: bytes is NULL");
  EXPECT_EQ(libsoccr_set_queue_bytes(h, 7, "x", 0), -1);
  EXPECT_LOGGED("queue id 7");
  EXPECT_EQ(libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, "x", 3), -1);
  EXPECT_LOGGED("flags 0x3: unknown bits 0x2");
  /* A set call that fails takes nothing: the caller frees its buffer. */
  bytes = malloc(16);
  CHECK(bytes != NULL);
  EXPECT_EQ(libsoccr_set_queue_bytes(h, 9, bytes, SOCCR_MEM_EXCL), -1);
  EXPECT_LOGGED("queue id 9");
  free(bytes);

  EXPECT_EQ(libsoccr_set_addr(h, 1, NULL, 0), -1);
  EXPECT_LOGGED("INVALID_ARGUMENT: the address is NULL");
  memset(&addr, 0, sizeof(addr));
  addr.sa.sa_family = AF_UNIX;
  EXPECT_EQ(libsoccr_set_addr(h, 1, &addr, 0), -1);
  EXPECT_LOGGED("address family 1 is neither AF_INET (2) nor AF_INET6 (10)");
  addr.sa.sa_family = AF_INET;
  EXPECT_EQ(libsoccr_set_addr(h, 0, &addr, 0x10), -1);
  EXPECT_LOGGED("flags 0x10");
  owned = malloc(sizeof(*owned));
  CHECK(owned != NULL);
  memset(owned, 0, sizeof(*owned));
  owned->sa.sa_family = 12345;
  EXPECT_EQ(libsoccr_set_addr(h, 0, owned, SOCCR_MEM_EXCL), -1);
  EXPECT_LOGGED("address family 12345");
  free(owned);
  libsoccr_release(h);
  close(sk);
}

/* Restores `img` through `h` after changing one field with `mutate`;
 * expects -1 and a message containing `text`. */
static void restore_mutated(struct libsoccr_sk *h, const struct ct_image *img,
                            void (*mutate)(struct libsoccr_sk_data *),
                            const char *text) {
  struct libsoccr_sk_data d = img->data;
  mutate(&d);
  EXPECT_EQ(libsoccr_restore(h, &d, sizeof(d)), -1);
  EXPECT_LOGGED(text);
}

static void state_99(struct libsoccr_sk_data *d) { d->state = 99; }
static void state_257(struct libsoccr_sk_data *d) { d->state = 257; }
static void time_wait(struct libsoccr_sk_data *d) { d->state = 6; }
static void flags_2(struct libsoccr_sk_data *d) { d->flags |= 2; }
static void opt_mask_256(struct libsoccr_sk_data *d) { d->opt_mask |= 256; }
static void opt_mask_usec(struct libsoccr_sk_data *d) { d->opt_mask |= 64; }
static void wscale_15(struct libsoccr_sk_data *d) { d->snd_wscale = 15; }
static void wscale_270(struct libsoccr_sk_data *d) { d->rcv_wscale = 270; }
static void unsent_too_long(struct libsoccr_sk_data *d) {
  d->unsq_len = d->outq_len + 1;
}
/* The kernel keeps the MSS in 16 bits; any smaller clamp is valid. */
static void mss_huge(struct libsoccr_sk_data *d) { d->mss_clamp = 70000; }
static void max_window_small(struct libsoccr_sk_data *d) {
  d->max_window = d->snd_wnd - 1;
}

static void TestRestoreRejectsBadArguments(void) {
  struct ct_image img;
  struct libsoccr_sk *h, *other;
  struct libsoccr_sk_data d;
  union libsoccr_addr v6;
  int client, server, sk, restored, fds, busy, busy_peer;
  char *tiny;

  CHECK(ct_connected_pair(CT_V4, 0, &client, &server) == 0);
  CHECK(ct_write_all(server, "0123456789", 10) == 0);
  CHECK(ct_wait_inq(client, 10) == 0);
  CHECK(ct_write_all(client, "abcdef", 6) == 0);
  CHECK(ct_read_exactly(server, (char[6]){0}, 6) == 0);
  CHECK(ct_wait_nothing_in_flight(client) == 0);
  CHECK(ct_checkpoint(client, &img) == 0);
  close(client);
  CHECK_EQ(img.data.inq_len, 10);

  ct_log_capture(SOCCR_LOG_ERR);
  fds = ct_count_open_fds();
  sk = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  h = libsoccr_pause(sk);
  CHECK(h != NULL);

  EXPECT_EQ(libsoccr_restore(h, NULL, sizeof(d)), -1);
  EXPECT_LOGGED("libsoccr_restore: INVALID_ARGUMENT: data is NULL");
  EXPECT_EQ(libsoccr_restore(h, &img.data, 10), -1);
  EXPECT_LOGGED("data_size 10 is smaller");
  /* The receive queue holds 10 bytes, which were not given. */
  EXPECT_EQ(libsoccr_restore(h, &img.data, sizeof(img.data)), -1);
  EXPECT_LOGGED(
      "restore (none)->(none): data.inq_len is 10 but no receive "
      "queue bytes were given");
  /* Memory the library owns has a known size: a length beyond it is
   * caught. */
  tiny = malloc(4);
  CHECK(tiny != NULL);
  memcpy(tiny, "0123", 4);
  CHECK(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, tiny, SOCCR_MEM_EXCL) == 0);
  d = img.data;
  d.inq_len = 1000;
  EXPECT_EQ(libsoccr_restore(h, &d, sizeof(d)), -1);
  EXPECT_LOGGED(
      "data.inq_len is 1000 but the receive queue buffer given "
      "with SOCCR_MEM_EXCL holds only");
  /* Replacing it frees `tiny` (the library's now). */
  CHECK(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, img.inq, 0) == 0);
  CHECK(libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, img.outq, 0) == 0);
  /* No addresses, then one of the two. */
  EXPECT_EQ(libsoccr_restore(h, &img.data, sizeof(img.data)), -1);
  EXPECT_LOGGED(
      "local address is missing; no local address was given "
      "(libsoccr_set_addr(sk, 1, ...)); no peer address was given "
      "(libsoccr_set_addr(sk, 0, ...))");
  CHECK(libsoccr_set_addr(h, 1, &img.self, 0) == 0);
  EXPECT_EQ(libsoccr_restore(h, &img.data, sizeof(img.data)), -1);
  EXPECT_LOGGED("peer address is missing; no peer address was given");
  CHECK(libsoccr_set_addr(h, 0, &img.peer, 0) == 0);

  /* Fields the struct carries that cannot be right. Each message names the
   * connection and the field. */
  restore_mutated(h, &img, state_99, "INVALID_ARGUMENT: restore 127.0.0.1:");
  restore_mutated(h, &img, state_99, "data.state 99 is not a TCP state");
  restore_mutated(h, &img, state_257, "data.state 257 is not a TCP state");
  restore_mutated(h, &img, time_wait, "UNIMPLEMENTED");
  restore_mutated(h, &img, flags_2, "data.flags 0x3: unknown bits 0x2");
  restore_mutated(h, &img, opt_mask_256, "data.opt_mask");
  restore_mutated(h, &img, opt_mask_usec, "microsecond");
  restore_mutated(h, &img, wscale_15, "data.snd_wscale 15 exceeds");
  restore_mutated(h, &img, wscale_270, "data.rcv_wscale 270 exceeds");
  restore_mutated(h, &img, unsent_too_long, "unsent_len 1 exceeds outq_len 0");
  restore_mutated(h, &img, mss_huge, "options.mss_clamp 70000 exceeds");
  restore_mutated(h, &img, max_window_small, "window.max_window");

  /* Addresses of the other family than the socket's. */
  memset(&v6, 0, sizeof(v6));
  v6.v6.sin6_family = AF_INET6;
  v6.v6.sin6_addr = in6addr_loopback;
  v6.v6.sin6_port = htons(1234);
  CHECK(libsoccr_set_addr(h, 1, &v6, 0) == 0);
  v6.v6.sin6_port = htons(1235);
  CHECK(libsoccr_set_addr(h, 0, &v6, 0) == 0);
  EXPECT_EQ(libsoccr_restore(h, &img.data, sizeof(img.data)), -1);
  EXPECT_LOGGED("the socket is AF_INET but the addresses are AF_INET6");
  CHECK(libsoccr_set_addr(h, 1, &img.self, 0) == 0);
  CHECK(libsoccr_set_addr(h, 0, &img.peer, 0) == 0);

  /* A socket that is not new: one end of another connection. (Not the
   * server: resuming it would send a window probe to the client's port,
   * where no socket listens until the restore, and draw a reset.) */
  CHECK(ct_connected_pair(CT_V4, 0, &busy, &busy_peer) == 0);
  other = libsoccr_pause(busy);
  CHECK(other != NULL);
  CHECK(libsoccr_set_addr(other, 1, &img.self, 0) == 0);
  CHECK(libsoccr_set_addr(other, 0, &img.peer, 0) == 0);
  CHECK(libsoccr_set_queue_bytes(other, TCP_RECV_QUEUE, img.inq, 0) == 0);
  CHECK(libsoccr_set_queue_bytes(other, TCP_SEND_QUEUE, img.outq, 0) == 0);
  EXPECT_EQ(libsoccr_restore(other, &img.data, sizeof(img.data)), -1);
  EXPECT_LOGGED("the socket is ESTABLISHED: a restore needs a new socket");
  libsoccr_resume(other);
  EXPECT_EQ(ct_log_count(0), 0);
  EXPECT(ct_traffic_both_ways(busy, busy_peer, 1000, 4) == 0);
  close(busy);
  close(busy_peer);

  /* None of that touched the socket: the same handle restores the real
   * connection now. */
  CHECK(libsoccr_restore(h, &img.data, sizeof(img.data)) == 0);
  EXPECT_EQ(ct_log_count(0), 0);
  /* Once restored, nothing more can be set or restored. */
  EXPECT_EQ(libsoccr_restore(h, &img.data, sizeof(img.data)), -1);
  EXPECT_LOGGED("this socket is restored already");
  EXPECT_EQ(libsoccr_set_addr(h, 1, &img.self, 0), -1);
  EXPECT_LOGGED("libsoccr_restore has run on this handle already");
  EXPECT_EQ(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, img.inq, 0), -1);
  EXPECT_LOGGED("libsoccr_restore has run on this handle already");
  libsoccr_resume(h);
  EXPECT_EQ(ct_log_count(0), 0);
  restored = sk;
  EXPECT(ct_expect_stream(restored, "0123456789", 10) == 0);
  EXPECT(ct_traffic_both_ways(restored, server, 10000, 2) == 0);
  close(restored);
  close(server);
  ct_image_free(&img);
  EXPECT_EQ(ct_count_open_fds(), fds - 1 /* server */);
}

/* A restore that fails after it changed the socket: the error names the
 * step and the kernel call, the socket stays in repair mode through
 * libsoccr_resume (so closing it sends nothing), and the live connection
 * with the same addresses is untouched. */
static void TestRestoreFailingPartWayLeavesTheSocketSilent(void) {
  struct ct_image img;
  struct libsoccr_sk *h;
  int client, server, sk;

  CHECK(ct_connected_pair(CT_V4, 0, &client, &server) == 0);
  h = libsoccr_pause(client);
  CHECK(h != NULL);
  CHECK(ct_checkpoint(client, &img) == 0);
  libsoccr_resume(h); /* the original carries on */

  ct_log_capture(SOCCR_LOG_ERR);
  sk = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  h = libsoccr_pause(sk);
  CHECK(h != NULL);
  CHECK(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, img.inq, 0) == 0);
  CHECK(libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, img.outq, 0) == 0);
  CHECK(libsoccr_set_addr(h, 1, &img.self, 0) == 0);
  CHECK(libsoccr_set_addr(h, 0, &img.peer, 0) == 0);
  /* The original still holds these addresses. */
  EXPECT_EQ(libsoccr_restore(h, &img.data, sizeof(img.data)), -1);
  EXPECT_LOGGED("connect to peer: connect: Cannot assign requested address");
  EXPECT_EQ(libsoccr_restore(h, &img.data, sizeof(img.data)), -1);
  EXPECT_LOGGED("an earlier restore of this socket failed part-way");
  libsoccr_resume(h);
  EXPECT_LOGGED("libsoccr_resume: FAILED_PRECONDITION: resume fd");
  EXPECT_EQ(ct_int_option(sk, SOL_TCP, TCP_REPAIR), 1);
  close(sk);
  EXPECT(ct_traffic_both_ways(client, server, 10000, 3) == 0);
  close(client);
  close(server);
  ct_image_free(&img);
}

int main(int argc, char **argv) {
  static const struct ct_test tests[] = {
      CT_TEST(TestPauseRejectsWhatIsNotATcpSocket),
      CT_TEST(TestNullHandles),
      CT_TEST(TestCheckpointCallsRejectBadArguments),
      CT_TEST(TestGetAddrOfAnUnconnectedSocket),
      CT_TEST(TestSetCallsRejectBadArguments),
      CT_TEST(TestRestoreRejectsBadArguments),
      CT_TEST(TestRestoreFailingPartWayLeavesTheSocketSilent),
  };
  return ct_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
