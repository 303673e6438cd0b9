/*
 * Tens of MiB in both queues, restored through the C API onto a plain,
 * blocking socket whose buffers the caller never touched (libsoccr's
 * callers force the buffers to their maximum and set O_NONBLOCK first, or
 * its send()s block or fail). soccr sizes the buffers itself and never
 * blocks, and where the process may not make them big enough it fails at
 * once, naming the sysctl to raise.
 *
 * A private namespace cannot use SO_*BUFFORCE, and net.core.*mem_max is not
 * writable from inside it, so the tests set net.ipv4.tcp_rmem/tcp_wmem (per
 * network namespace): the buffers every new socket starts with.
 */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <soccr/soccr.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "soccr_c/testing/harness.h"
#include "soccr_c/testing/image.h"
#include "soccr_c/testing/log_capture.h"
#include "soccr_c/testing/netns.h"
#include "soccr_c/testing/tcp.h"

#define MIB (1L << 20)

/* Checkpoints a client with 32 MiB in its receive queue and at least
 * 32 MiB in its send queue, and closes it silently. */
struct big {
  int server;
  char *to_client, *to_server;
  size_t to_client_len;
  long written;
  struct ct_image img;
};

static int checkpoint_big_client(enum ct_family family, struct big *b) {
  const size_t to_server_len = 48 * MIB;
  int client;
  b->to_client_len = 32 * MIB;
  b->to_client = ct_pattern(b->to_client_len, 100 + family, 0);
  b->to_server = ct_pattern(to_server_len, 110 + family, 0);
  if (ct_raise_tcp_buffers(80 * MIB, 128 * MIB) != 0) return -1;
  /* A small server receive buffer keeps the client's data in its send
   * queue. */
  if (ct_connected_pair(family, 64 << 10, &client, &b->server) != 0) return -1;
  if (ct_write_all(b->server, b->to_client, b->to_client_len) != 0 ||
      ct_wait_inq(client, b->to_client_len) != 0 ||
      ct_wait_nothing_in_flight(b->server) != 0) {
    return -1;
  }
  b->written = ct_write_some(client, b->to_server, to_server_len);
  if (b->written < 0 || ct_wait_nothing_in_flight(client) != 0) return -1;
  if (ct_outq(client) < 32 * MIB) return -1;
  if (ct_checkpoint(client, &b->img) != 0) return -1;
  close(client);
  return 0;
}

static void free_big(struct big *b) {
  ct_image_free(&b->img);
  free(b->to_client);
  free(b->to_server);
  if (b->server >= 0) close(b->server);
}

static void tens_of_mebibytes(enum ct_family family) {
  struct big b;
  int restored;
  memset(&b, 0, sizeof(b));
  b.server = -1;
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(checkpoint_big_client(family, &b) == 0);
  EXPECT_EQ(b.img.data.inq_len, 32 * MIB);
  EXPECT(b.img.data.outq_len >= 32 * MIB);

  restored = ct_restore(&b.img, SOCCR_MEM_EXCL);
  if (restored < 0) ct_log_dump();
  CHECK(restored >= 0);
  EXPECT(ct_expect_stream(b.server, b.to_server, (size_t)b.written) == 0);
  EXPECT(ct_expect_stream(restored, b.to_client, b.to_client_len) == 0);
  EXPECT(ct_traffic_both_ways(restored, b.server, 100000, 120) == 0);
  close(restored);
  free_big(&b);
}

static void TestTensOfMebibytesV4(void) { tens_of_mebibytes(CT_V4); }
static void TestTensOfMebibytesV6(void) { tens_of_mebibytes(CT_V6); }
static void TestTensOfMebibytesMapped(void) { tens_of_mebibytes(CT_MAPPED); }

/* With the kernel's default tcp_rmem/tcp_wmem the restoring socket's
 * buffers cannot grow enough here: the restore fails at once, says which
 * sysctl to raise, and leaves nothing behind. */
static void TestNoRoomFailsFastNamingTheSysctl(void) {
  struct big b;
  struct libsoccr_sk *h;
  int sk, fds, restored;
  memset(&b, 0, sizeof(b));
  b.server = -1;
  CHECK(checkpoint_big_client(CT_V4, &b) == 0);
  CHECK(ct_set_sysctl("net/ipv4/tcp_rmem", "4096 131072 6291456") == 0);
  CHECK(ct_set_sysctl("net/ipv4/tcp_wmem", "4096 16384 4194304") == 0);

  ct_log_capture(SOCCR_LOG_ERR);
  fds = ct_count_open_fds();
  sk = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  h = libsoccr_pause(sk);
  CHECK(h != NULL);
  CHECK(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, b.img.inq, 0) == 0);
  CHECK(libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, b.img.outq, 0) == 0);
  CHECK(libsoccr_set_addr(h, 1, &b.img.self, 0) == 0);
  CHECK(libsoccr_set_addr(h, 0, &b.img.peer, 0) == 0);
  EXPECT_EQ(libsoccr_restore(h, &b.img.data, sizeof(b.img.data)), -1);
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "libsoccr_restore: FAILED_PRECONDITION"));
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "net.core.rmem_max"));
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "net.ipv4.tcp_rmem"));
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "33554432 bytes"));
  /* The socket stays in repair mode (resume refuses, and says so), so
   * closing it sends nothing. */
  ct_log_clear();
  libsoccr_resume(h);
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "a connection stays in repair mode"));
  EXPECT_EQ(ct_int_option(sk, SOL_TCP, TCP_REPAIR), 1);
  close(sk);
  EXPECT_EQ(ct_count_open_fds(), fds);

  /* Nothing was disturbed: with room, the same image restores. */
  CHECK(ct_raise_tcp_buffers(80 * MIB, 128 * MIB) == 0);
  restored = ct_restore(&b.img, 0);
  CHECK(restored >= 0);
  EXPECT(ct_expect_stream(b.server, b.to_server, (size_t)b.written) == 0);
  EXPECT(ct_expect_stream(restored, b.to_client, b.to_client_len) == 0);
  close(restored);
  if (ct_failed()) ct_log_dump();
  free_big(&b);
}

int main(int argc, char **argv) {
  static const struct ct_test tests[] = {
      CT_TEST(TestTensOfMebibytesV4),
      CT_TEST(TestTensOfMebibytesV6),
      CT_TEST(TestTensOfMebibytesMapped),
      CT_TEST(TestNoRoomFailsFastNamingTheSysctl),
  };
  return ct_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
