/*
 * Checkpoint and restore of live connections through the libsoccr C API,
 * written in C against <soccr/soccr.h> and linked with libsoccr.so. Every
 * byte is checked on both sides.
 */

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "soccr_c/testing/netns.h"
#include "soccr_c/testing/tcp.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72 /* Linux 5.14 */
#endif

/* Whether `a` is the address getsockname/getpeername gives in `ss`. */
static int same_address(const union libsoccr_addr *a,
                        const struct sockaddr_storage *ss) {
  if (a->sa.sa_family != ss->ss_family) return 0;
  if (a->sa.sa_family == AF_INET) {
    const struct sockaddr_in *b = (const struct sockaddr_in *)ss;
    return a->v4.sin_port == b->sin_port &&
           a->v4.sin_addr.s_addr == b->sin_addr.s_addr;
  }
  {
    const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)ss;
    return a->v6.sin6_port == b->sin6_port &&
           memcmp(&a->v6.sin6_addr, &b->sin6_addr, 16) == 0;
  }
}

/* 100 KB from the server wait unread in the client's receive queue; the
 * client's writes fill the server's receive queue and then stay in its own
 * send queue, unsent. The client is checkpointed with the C API, closed
 * silently, and restored onto a plain new socket. */
static void data_in_both_queues(enum ct_family family) {
  const size_t to_client_len = 100000, to_server_len = 8 << 20;
  char *to_client = ct_pattern(to_client_len, 10 + family, 0);
  char *to_server = ct_pattern(to_server_len, 20 + family, 0);
  struct sockaddr_storage local, peer;
  socklen_t len = sizeof(local);
  struct ct_image img;
  int client, server, restored, outq, server_inq;
  long written;

  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(ct_connected_pair(family, 64 << 10, &client, &server) == 0);
  CHECK(getsockname(client, (struct sockaddr *)&local, &len) == 0);
  len = sizeof(peer);
  CHECK(getpeername(client, (struct sockaddr *)&peer, &len) == 0);
  CHECK(ct_write_all(server, to_client, to_client_len) == 0);
  CHECK(ct_wait_inq(client, to_client_len) == 0);
  CHECK(ct_wait_nothing_in_flight(server) == 0);
  written = ct_write_some(client, to_server, to_server_len);
  CHECK(written > 0);
  CHECK(ct_wait_nothing_in_flight(client) == 0);
  outq = ct_outq(client);
  server_inq = ct_inq(server);
  CHECK(outq > 0);
  CHECK_EQ(server_inq + outq, written);

  CHECK(ct_checkpoint(client, &img) == 0);
  close(client); /* in repair mode: the server sees nothing */
  EXPECT_EQ(img.data.state, 1 /* TCP_ESTABLISHED */);
  EXPECT_EQ(img.data.inq_len, to_client_len);
  EXPECT_EQ(img.data.outq_len, outq);
  EXPECT_EQ(img.data.unsq_len, outq);
  EXPECT(img.data.flags & SOCCR_FLAGS_WINDOW);
  EXPECT(img.data.mss_clamp > 0);
  EXPECT(memcmp(img.inq, to_client, to_client_len) == 0);
  EXPECT(memcmp(img.outq, to_server + server_inq, (size_t)outq) == 0);
  EXPECT(same_address(&img.self, &local));
  EXPECT(same_address(&img.peer, &peer));

  restored = ct_restore(&img, 0);
  CHECK(restored >= 0);
  /* The library left the caller's socket as it was: still blocking. */
  EXPECT((fcntl(restored, F_GETFL) & O_NONBLOCK) == 0);
  EXPECT_EQ(ct_int_option(restored, SOL_TCP, TCP_REPAIR), 0);
  /* The buffers the restore raised for the queues are unlocked again, so
   * they autotune as the original's did (the caller set none). */
  EXPECT_EQ(ct_int_option(restored, SOL_SOCKET, SO_BUF_LOCK), 0);
  /* The queues were the caller's (no SOCCR_MEM_EXCL): free them now. */
  ct_image_free(&img);

  EXPECT(ct_expect_stream(server, to_server, (size_t)written) == 0);
  EXPECT(ct_expect_stream(restored, to_client, to_client_len) == 0);
  EXPECT(ct_traffic_both_ways(restored, server, 300000, 30 + family) == 0);
  EXPECT_EQ(ct_log_count(0), 0);
  if (ct_failed()) ct_log_dump();
  close(restored);
  close(server);
  free(to_client);
  free(to_server);
}

static void TestDataInBothQueuesV4(void) { data_in_both_queues(CT_V4); }
static void TestDataInBothQueuesV6(void) { data_in_both_queues(CT_V6); }
static void TestDataInBothQueuesMapped(void) { data_in_both_queues(CT_MAPPED); }

/* struct tcp_info's tcpi_snd_wnd (Linux 5.4; the struct only grows, and
 * glibc's <netinet/tcp.h> stops before it): the window `fd`'s peer offers,
 * descaled. */
static unsigned peer_window_seen_by(int fd) {
  unsigned char info[512] = {0};
  socklen_t len = sizeof(info);
  const size_t offset = 228;
  uint32_t w = 0;
  if (getsockopt(fd, SOL_TCP, TCP_INFO, info, &len) != 0 ||
      len < offset + sizeof(w)) {
    return 0;
  }
  memcpy(&w, info + offset, sizeof(w));
  return w;
}

/* A connection made without window scaling (its peer offered none),
 * restored where window scaling is on, as a fresh namespace has it: the
 * restored socket offers its windows unscaled, as the original did, not
 * shifted by a scale its connect() picked from this namespace. */
static void unscaled_window(enum ct_family family) {
  struct ct_image img;
  int client, server, restored;
  unsigned before;
  CHECK(ct_set_sysctl("net/ipv4/tcp_window_scaling", "0") == 0);
  CHECK(ct_connected_pair(family, 0, &client, &server) == 0);
  CHECK(ct_set_sysctl("net/ipv4/tcp_window_scaling", "1") == 0);
  CHECK(ct_traffic_both_ways(client, server, 1 << 20, 60 + family) == 0);
  /* The window field is 16 bits: the peer sees more than 32767 only from a
   * socket whose scale is 0 (a scale of 1 or more halves it at least). */
  before = peer_window_seen_by(server);
  CHECK(before > 32767);
  CHECK(ct_checkpoint(client, &img) == 0);
  close(client); /* in repair mode: the server sees nothing */
  EXPECT((img.data.opt_mask & TCPI_OPT_WSCALE) == 0);
  restored = ct_restore(&img, 0);
  ct_image_free(&img);
  CHECK(restored >= 0);
  /* Each way, so that the client's next segment carries its window. */
  EXPECT(ct_traffic_both_ways(restored, server, 256 << 10, 63 + family) == 0);
  EXPECT(peer_window_seen_by(server) > 32767);
  if (ct_failed()) ct_log_dump();
  close(restored);
  close(server);
}

static void TestUnscaledWindowV4(void) { unscaled_window(CT_V4); }
static void TestUnscaledWindowV6(void) { unscaled_window(CT_V6); }
static void TestUnscaledWindowMapped(void) { unscaled_window(CT_MAPPED); }

/* What a CRIU-style caller does between libsoccr_restore and
 * libsoccr_resume: it sets the buffer sizes it saved, here the smallest
 * ones the kernel takes, far below the queues the restore just wrote. */
struct small_buffers {
  int unlock;         /* then SO_BUF_LOCK 0, as CRIU restores an original's
                         autotuned buffers */
  int sndbuf, rcvbuf; /* as getsockopt reports them after the caller's set */
};

static int set_small_buffers(int sk, void *arg) {
  struct small_buffers *b = arg;
  const int one = 1;
  if (setsockopt(sk, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) != 0 ||
      setsockopt(sk, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)) != 0) {
    perror("set_small_buffers: setsockopt");
    return -1;
  }
  if (b->unlock) {
    const int none = 0;
    if (setsockopt(sk, SOL_SOCKET, SO_BUF_LOCK, &none, sizeof(none)) != 0) {
      perror("set_small_buffers: setsockopt(SO_BUF_LOCK)");
      return -1;
    }
  }
  b->sndbuf = ct_int_option(sk, SOL_SOCKET, SO_SNDBUF);
  b->rcvbuf = ct_int_option(sk, SOL_SOCKET, SO_RCVBUF);
  return 0;
}

/* The unsent part of the send queue, megabytes of it, goes out on resume,
 * although the caller shrank the send buffer after the restore: every byte
 * arrives, the socket leaves repair mode, and the buffer sizes the caller
 * set (and their locks) are what the socket keeps. */
static void caller_shrinks_buffers_before_resume(enum ct_family family,
                                                 int unlock) {
  const size_t to_client_len = 100000, to_server_len = 8 << 20;
  char *to_client = ct_pattern(to_client_len, 60 + family, 0);
  char *to_server = ct_pattern(to_server_len, 70 + family, 0);
  struct small_buffers small = {0, 0, 0};
  struct ct_image img;
  int client, server, restored;
  long written;

  small.unlock = unlock;
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(ct_connected_pair(family, 64 << 10, &client, &server) == 0);
  CHECK(ct_write_all(server, to_client, to_client_len) == 0);
  CHECK(ct_wait_inq(client, to_client_len) == 0);
  written = ct_write_some(client, to_server, to_server_len);
  CHECK(written > 0);
  CHECK(ct_wait_nothing_in_flight(client) == 0);
  CHECK(ct_checkpoint(client, &img) == 0);
  close(client);
  /* More unsent than any buffer the caller's sizes allow. */
  CHECK(img.data.unsq_len > 256u << 10);

  restored = ct_restore_then(&img, SOCCR_MEM_EXCL, set_small_buffers, &small);
  CHECK(restored >= 0);
  EXPECT_EQ(ct_int_option(restored, SOL_TCP, TCP_REPAIR), 0);
  EXPECT(small.sndbuf > 0 && (uint32_t)small.sndbuf < img.data.unsq_len);
  EXPECT_EQ(ct_int_option(restored, SOL_SOCKET, SO_SNDBUF), small.sndbuf);
  EXPECT_EQ(ct_int_option(restored, SOL_SOCKET, SO_RCVBUF), small.rcvbuf);
  /* SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK: the caller's SO_*BUF locked both,
   * or it unlocked them (SO_BUF_LOCK exists from Linux 5.14). */
  EXPECT_EQ(ct_int_option(restored, SOL_SOCKET, SO_BUF_LOCK), unlock ? 0 : 3);

  EXPECT(ct_expect_stream(server, to_server, (size_t)written) == 0);
  EXPECT(ct_expect_stream(restored, to_client, to_client_len) == 0);
  EXPECT(ct_traffic_both_ways(restored, server, 300000, 80 + family) == 0);
  if (!unlock) { /* else the kernel autotunes them, as the caller asked */
    EXPECT_EQ(ct_int_option(restored, SOL_SOCKET, SO_SNDBUF), small.sndbuf);
    EXPECT_EQ(ct_int_option(restored, SOL_SOCKET, SO_RCVBUF), small.rcvbuf);
  }
  EXPECT_EQ(ct_log_count(0), 0);
  if (ct_failed()) ct_log_dump();
  close(restored);
  close(server);
  ct_image_free(&img);
  free(to_client);
  free(to_server);
}

static void TestCallerShrinksBuffersBeforeResumeV4(void) {
  caller_shrinks_buffers_before_resume(CT_V4, 0);
}
static void TestCallerShrinksBuffersBeforeResumeV6(void) {
  caller_shrinks_buffers_before_resume(CT_V6, 0);
}
static void TestCallerShrinksBuffersBeforeResumeMapped(void) {
  caller_shrinks_buffers_before_resume(CT_MAPPED, 0);
}
static void TestCallerShrinksBuffersAndUnlocksThemBeforeResumeV4(void) {
  caller_shrinks_buffers_before_resume(CT_V4, 1);
}
static void TestCallerShrinksBuffersAndUnlocksThemBeforeResumeV6(void) {
  caller_shrinks_buffers_before_resume(CT_V6, 1);
}

/* Data sent but not acknowledged is retransmitted by the restored socket. */
static void in_flight_data(enum ct_family family) {
  const size_t n = 20000;
  char *data = ct_pattern(n, 40 + family, 0);
  struct ct_image img;
  int client, server, restored, in_flight;

  CHECK(ct_connected_pair(family, 0, &client, &server) == 0);
  CHECK(ct_drop_incoming(server) == 0);
  CHECK(ct_write_all(client, data, n) == 0);
  /* Wait until the client has sent something (into the void). */
  while (ct_outq(client) == ct_unsent(client)) usleep(1000);
  in_flight = ct_outq(client) - ct_unsent(client);

  CHECK(ct_checkpoint(client, &img) == 0);
  close(client);
  EXPECT_EQ(img.data.outq_len, n);
  EXPECT(img.data.outq_len - img.data.unsq_len >= (uint32_t)in_flight);
  EXPECT(memcmp(img.outq, data, n) == 0);

  /* This time the library takes the queues (SOCCR_MEM_EXCL). */
  restored = ct_restore(&img, SOCCR_MEM_EXCL);
  CHECK(restored >= 0);
  EXPECT(img.inq == NULL && img.outq == NULL);
  CHECK(ct_accept_incoming(server) == 0);
  EXPECT(ct_expect_stream(server, data, n) == 0);
  EXPECT(ct_traffic_both_ways(restored, server, 5000, 50) == 0);
  close(restored);
  close(server);
  free(data);
}

/* The peer already had some or all of the bytes in flight; only its ACKs
 * were lost (made exact by editing the image: the last `again` bytes the
 * server acknowledged go back in as sent and unacknowledged, followed by
 * `more` the server never got). libsoccr_resume asks the peer what it has:
 * what it has is acknowledged before the call returns, what it lacks
 * arrives, once. */
static void peer_had_in_flight(enum ct_family family, size_t again,
                               size_t more) {
  const size_t before = 200000;
  char *data = ct_pattern(before + more, 70 + family, 0);
  struct ct_image img;
  int client, server, restored;

  CHECK(ct_connected_pair(family, 0, &client, &server) == 0);
  CHECK(ct_write_all(client, data, before) == 0);
  EXPECT(ct_expect_stream(server, data, before) == 0);
  CHECK(ct_wait_nothing_in_flight(client) == 0);
  CHECK(ct_checkpoint(client, &img) == 0);
  close(client);
  CHECK_EQ(img.data.outq_len, 0);
  free(img.outq);
  img.outq = malloc(again + more);
  CHECK(img.outq != NULL);
  memcpy(img.outq, data + before - again, again + more);
  img.data.outq_len = (uint32_t)(again + more);
  img.data.unsq_len = 0;
  img.data.outq_seq += (uint32_t)more;

  restored = ct_restore(&img, SOCCR_MEM_EXCL);
  CHECK(restored >= 0);
  if (more == 0) EXPECT_EQ(ct_outq(restored), 0);
  EXPECT(ct_expect_stream(server, data + before, more) == 0);
  EXPECT(ct_traffic_both_ways(restored, server, 5000, 80) == 0);
  close(restored);
  close(server);
  free(data);
}

static void TestPeerHadAllInFlightV4(void) {
  peer_had_in_flight(CT_V4, 100000, 0);
}
static void TestPeerHadAPrefixInFlightV6(void) {
  peer_had_in_flight(CT_V6, 50000, 50000);
}
static void TestPeerHadAllInFlightMapped(void) {
  peer_had_in_flight(CT_MAPPED, 100000, 0);
}

static void TestInFlightDataV4(void) { in_flight_data(CT_V4); }
static void TestInFlightDataV6(void) { in_flight_data(CT_V6); }
static void TestInFlightDataMapped(void) { in_flight_data(CT_MAPPED); }

/* The addresses libsoccr_get_addr returns are the socket's. */
static void get_addr(enum ct_family family) {
  struct sockaddr_storage local, peer;
  socklen_t len = sizeof(local);
  union libsoccr_addr *self_addr, *peer_addr, *again;
  struct libsoccr_sk *h;
  int client, server;

  CHECK(ct_connected_pair(family, 0, &client, &server) == 0);
  CHECK(getsockname(client, (struct sockaddr *)&local, &len) == 0);
  len = sizeof(peer);
  CHECK(getpeername(client, (struct sockaddr *)&peer, &len) == 0);
  h = libsoccr_pause(client);
  CHECK(h != NULL);
  /* Without a libsoccr_save first: the addresses come from the socket. */
  self_addr = libsoccr_get_addr(h, 1, 0);
  peer_addr = libsoccr_get_addr(h, 0, SOCCR_MEM_EXCL);
  again = libsoccr_get_addr(h, 7 /* any non-zero: self */, 0);
  CHECK(self_addr != NULL && peer_addr != NULL && again != NULL);
  EXPECT(same_address(self_addr, &local));
  EXPECT(same_address(peer_addr, &peer));
  EXPECT(same_address(again, &local));
  EXPECT_EQ(self_addr->sa.sa_family, ct_domain(family));
  if (family == CT_MAPPED) {
    EXPECT(IN6_IS_ADDR_V4MAPPED(&self_addr->v6.sin6_addr));
    EXPECT(IN6_IS_ADDR_V4MAPPED(&peer_addr->v6.sin6_addr));
  }
  free(peer_addr);
  libsoccr_resume(h); /* frees self_addr and again */
  EXPECT(ct_traffic_both_ways(client, server, 1000, 60) == 0);
  close(client);
  close(server);
}

static void TestGetAddrV4(void) { get_addr(CT_V4); }
static void TestGetAddrV6(void) { get_addr(CT_V6); }
static void TestGetAddrMapped(void) { get_addr(CT_MAPPED); }

/* One side of a connection made up from nothing. */
struct side {
  uint16_t port, peer_port;
  uint32_t inq_seq, outq_seq;
  const char *inq, *outq; /* queue contents; outq entirely unsent */
};

static int restore_side(const struct side *s, struct libsoccr_sk **out) {
  struct libsoccr_sk_data data;
  union libsoccr_addr self, peer;
  const int sk = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct libsoccr_sk *h = libsoccr_pause(sk);
  if (h == NULL) {
    if (sk >= 0) close(sk);
    return -1;
  }
  memset(&data, 0, sizeof(data));
  data.state = 1; /* TCP_ESTABLISHED */
  data.inq_len = (uint32_t)strlen(s->inq);
  data.inq_seq = s->inq_seq;
  data.outq_len = (uint32_t)strlen(s->outq);
  data.unsq_len = data.outq_len;
  data.outq_seq = s->outq_seq;
  data.opt_mask = TCPI_OPT_SACK | TCPI_OPT_WSCALE;
  data.snd_wscale = 7;
  data.rcv_wscale = 7;
  data.mss_clamp = 1460;
  data.flags = SOCCR_FLAGS_WINDOW;
  data.snd_wl1 = s->inq_seq;
  data.snd_wnd = 64000;
  data.max_window = 64000;
  data.rcv_wnd = 64000;
  data.rcv_wup = s->inq_seq;
  memset(&self, 0, sizeof(self));
  self.v4.sin_family = AF_INET;
  self.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  self.v4.sin_port = htons(s->port);
  peer = self;
  peer.v4.sin_port = htons(s->peer_port);
  if (libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, (char *)s->inq, 0) != 0 ||
      libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, (char *)s->outq, 0) != 0 ||
      libsoccr_set_addr(h, 1, &self, 0) != 0 ||
      libsoccr_set_addr(h, 0, &peer, 0) != 0 ||
      libsoccr_restore(h, &data, sizeof(data)) != 0) {
    libsoccr_release(h);
    close(sk);
    return -1;
  }
  *out = h;
  return sk;
}

/* Two sockets restored facing each other, with chosen sequence numbers and
 * data in two queues: a connection without a handshake. B once sent "abc"
 * from sequence number 1000000, which A holds unread (and acknowledged); A
 * wrote "hello" from 0xfffffffe (its send sequence wraps through zero) and
 * never sent it. */
static void TestConnectionFromNothing(void) {
  const uint32_t b_sent_from = 1000000u, a_writes_from = 0xfffffffeu;
  const struct side a = {4000,  5000,   b_sent_from + 3, a_writes_from + 5,
                         "abc", "hello"};
  const struct side b = {5000, 4000, a_writes_from, b_sent_from + 3, "", ""};
  struct libsoccr_sk *ha = NULL, *hb = NULL;
  struct libsoccr_sk_data after;
  char got[8];
  int sa, sb;

  ct_log_capture(SOCCR_LOG_ERR);
  sa = restore_side(&a, &ha);
  sb = restore_side(&b, &hb);
  if (sa < 0 || sb < 0) ct_log_dump();
  CHECK(sa >= 0 && sb >= 0);
  /* Until resumed, A holds "hello" back: its send queue is empty. */
  EXPECT_EQ(ct_outq(sa), 0);
  EXPECT_EQ(ct_inq(sa), 3);
  libsoccr_resume(ha);
  libsoccr_resume(hb);

  CHECK(ct_read_exactly(sb, got, 5) == 0);
  EXPECT(memcmp(got, "hello", 5) == 0);
  CHECK(ct_read_exactly(sa, got, 3) == 0);
  EXPECT(memcmp(got, "abc", 3) == 0);
  EXPECT(ct_traffic_both_ways(sa, sb, 100000, 70) == 0);

  /* The sequence numbers moved on from the chosen ones by exactly the
   * bytes that went through. */
  CHECK(ct_wait_nothing_in_flight(sa) == 0);
  CHECK(ct_wait_nothing_in_flight(sb) == 0);
  ha = libsoccr_pause(sa);
  CHECK(ha != NULL);
  CHECK_EQ(libsoccr_save(ha, &after, sizeof(after)), sizeof(after));
  EXPECT_EQ(after.outq_seq, (uint32_t)(a_writes_from + 5 + 100000));
  EXPECT_EQ(after.inq_seq, (uint32_t)(b_sent_from + 3 + 100000));
  EXPECT_EQ(after.inq_len, 0);
  EXPECT_EQ(after.outq_len, 0);
  EXPECT_EQ(after.snd_wscale, 7);
  EXPECT_EQ(after.rcv_wscale, 7);
  EXPECT(after.opt_mask & TCPI_OPT_SACK);
  EXPECT(!(after.opt_mask & TCPI_OPT_TIMESTAMPS));
  libsoccr_resume(ha);
  EXPECT(ct_traffic_both_ways(sa, sb, 1000, 71) == 0);
  EXPECT_EQ(ct_log_count(0), 0);
  close(sa);
  close(sb);
}

int main(int argc, char **argv) {
  static const struct ct_test tests[] = {
      CT_TEST(TestDataInBothQueuesV4),
      CT_TEST(TestDataInBothQueuesV6),
      CT_TEST(TestDataInBothQueuesMapped),
      CT_TEST(TestUnscaledWindowV4),
      CT_TEST(TestUnscaledWindowV6),
      CT_TEST(TestUnscaledWindowMapped),
      CT_TEST(TestCallerShrinksBuffersBeforeResumeV4),
      CT_TEST(TestCallerShrinksBuffersBeforeResumeV6),
      CT_TEST(TestCallerShrinksBuffersBeforeResumeMapped),
      CT_TEST(TestCallerShrinksBuffersAndUnlocksThemBeforeResumeV4),
      CT_TEST(TestCallerShrinksBuffersAndUnlocksThemBeforeResumeV6),
      CT_TEST(TestInFlightDataV4),
      CT_TEST(TestInFlightDataV6),
      CT_TEST(TestInFlightDataMapped),
      CT_TEST(TestPeerHadAllInFlightV4),
      CT_TEST(TestPeerHadAPrefixInFlightV6),
      CT_TEST(TestPeerHadAllInFlightMapped),
      CT_TEST(TestGetAddrV4),
      CT_TEST(TestGetAddrV6),
      CT_TEST(TestGetAddrMapped),
      CT_TEST(TestConnectionFromNothing),
  };
  return ct_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
