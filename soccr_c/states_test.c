/*
 * TCP states beyond ESTABLISHED through the libsoccr C API: whatever the
 * C++ core checkpoints and restores, a libsoccr caller gets too, with
 * libsoccr's sequence-number conventions (inq_seq and outq_seq are the
 * kernel's rcv_nxt and write_seq, which count a FIN; the lengths count data
 * only).
 *
 * The half-closed states are rows of one table (struct half_closed), each
 * run the same way: a baseline libsoccr_save of the client while it is
 * still ESTABLISHED, then the state, a checkpoint, the client closed
 * paused, a restore onto a plain new socket and the rest of the
 * conversation: every byte both ways, and both end-of-files.
 */

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

/* libsoccr_save of a live socket, which carries on afterwards. */
static int baseline(int fd, struct libsoccr_sk_data *d) {
  struct libsoccr_sk *h = libsoccr_pause(fd);
  int n;
  if (h == NULL) return -1;
  n = libsoccr_save(h, d, sizeof(*d));
  libsoccr_resume(h);
  return n == (int)sizeof(*d) ? 0 : -1;
}

/* A half-closed state of the client, as a row: how the conversation gets
 * there, and what the rest of it is once the client is restored. */
struct half_closed {
  int state;            /* the client's state at the checkpoint */
  size_t to_client_len; /* the server sends it; the client leaves it unread */
  /* 1: the client writes until the server's (32 KiB) window is full, and
   * some of it stays unsent; 0: it writes to_server_len bytes, all of them
   * received (not read) by the server before the baseline. */
  int fill_window;
  size_t to_server_len;
  int server_fin; /* the server has closed its side */
  int client_fin; /* the client has closed its side */
  /* The checkpoint's queues are the baseline's (nothing of them moved). */
  int same_queues;
  int restore_flags;     /* ct_restore's */
  size_t more_to_client; /* the server sends it after the restore */
};

/* The server's FIN reaches the client, which has unread data and unsent
 * data of its own: CLOSE_WAIT. */
static const struct half_closed kCloseWait = {
    .state = TCP_CLOSE_WAIT,
    .to_client_len = 5000,
    .fill_window = 1,
    .server_fin = 1,
};

/* The client's FIN was sent and acknowledged: FIN_WAIT2. */
static const struct half_closed kFinWait2 = {
    .state = TCP_FIN_WAIT2,
    .to_server_len = 3000,
    .client_fin = 1,
    .restore_flags = SOCCR_MEM_EXCL,
    .more_to_client = 100000,
};

/* The client closed its side with data still unsent: its FIN waits behind
 * that data (FIN_WAIT1), and after the restore it still leaves last. */
static const struct half_closed kFinWait1BehindUnsentData = {
    .state = TCP_FIN_WAIT1,
    .fill_window = 1,
    .client_fin = 1,
    .same_queues = 1,
};

static void half_closed(const struct half_closed *c, enum ct_family family) {
  char *to_client = ct_pattern(c->to_client_len, 1, 0);
  char *to_server =
      ct_pattern(c->fill_window ? 1 << 20 : c->to_server_len, 2, 0);
  struct libsoccr_sk_data d0;
  struct ct_image img;
  int client, server, restored;
  long written;

  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(ct_connected_pair(family, c->fill_window ? 32 << 10 : 0, &client,
                          &server) == 0);
  if (c->to_client_len > 0) {
    CHECK(ct_write_all(server, to_client, c->to_client_len) == 0);
    CHECK(ct_wait_inq(client, c->to_client_len) == 0);
  }
  if (c->fill_window) {
    written = ct_write_some(client, to_server, 1 << 20);
    CHECK(written > 0);
  } else {
    CHECK(ct_write_all(client, to_server, c->to_server_len) == 0);
    CHECK(ct_wait_inq(server, c->to_server_len) == 0);
    written = (long)c->to_server_len;
  }
  CHECK(ct_wait_nothing_in_flight(client) == 0);
  if (c->fill_window) CHECK(ct_unsent(client) > 0);
  CHECK(baseline(client, &d0) == 0);
  if (c->server_fin) CHECK(shutdown(server, SHUT_WR) == 0);
  if (c->client_fin) CHECK(shutdown(client, SHUT_WR) == 0);
  CHECK(ct_wait_tcp_state(client, c->state) == 0);
  CHECK(ct_wait_nothing_in_flight(server) == 0);

  CHECK(ct_checkpoint(client, &img) == 0);
  close(client);
  EXPECT_EQ(img.data.state, c->state);
  EXPECT_EQ(img.data.inq_len, c->to_client_len);
  /* A FIN counts in libsoccr's sequence numbers (the kernel's rcv_nxt and
   * write_seq: inq_seq for the peer's, outq_seq for ours), not in the
   * lengths. */
  EXPECT_EQ(img.data.inq_seq, d0.inq_seq + (c->server_fin ? 1 : 0));
  EXPECT_EQ(img.data.outq_seq, d0.outq_seq + (c->client_fin ? 1 : 0));
  if (c->fill_window) {
    EXPECT(img.data.unsq_len > 0);
  } else {
    EXPECT_EQ(img.data.outq_len, 0);
    EXPECT_EQ(img.data.unsq_len, 0);
  }
  if (c->same_queues) {
    EXPECT_EQ(img.data.outq_len, d0.outq_len);
    EXPECT_EQ(img.data.unsq_len, d0.unsq_len);
  }

  restored = ct_restore(&img, c->restore_flags);
  if (restored < 0) ct_log_dump();
  CHECK(restored >= 0);
  EXPECT_EQ(ct_tcp_state(restored), c->state);
  /* The client reads what it had, then the server's end-of-file if it
   * came... */
  EXPECT(ct_expect_stream(restored, to_client, c->to_client_len) == 0);
  if (c->server_fin) EXPECT(ct_expect_eof(restored) == 0);
  /* ...the server gets all the client wrote, then its FIN if it sent
   * one... */
  EXPECT(ct_expect_stream(server, to_server, (size_t)written) == 0);
  if (c->client_fin) EXPECT(ct_expect_eof(server) == 0);
  /* ...and a side still open keeps sending, then closes. */
  if (!c->client_fin) {
    EXPECT(ct_deliver(restored, server, 70000, 3) == 0);
    CHECK(shutdown(restored, SHUT_WR) == 0);
    EXPECT(ct_expect_eof(server) == 0);
  }
  if (!c->server_fin) {
    if (c->more_to_client > 0) {
      EXPECT(ct_deliver(server, restored, c->more_to_client, 5) == 0);
    }
    CHECK(shutdown(server, SHUT_WR) == 0);
    EXPECT(ct_expect_eof(restored) == 0);
  }
  EXPECT_EQ(ct_log_count(0), 0);
  close(restored);
  close(server);
  ct_image_free(&img);
  free(to_client);
  free(to_server);
}

/* Each row over IPv4, IPv6 and IPv4-mapped IPv6. */
#define HALF_CLOSED_TESTS(name)                                      \
  static void Test##name##V4(void) { half_closed(&k##name, CT_V4); } \
  static void Test##name##V6(void) { half_closed(&k##name, CT_V6); } \
  static void Test##name##Mapped(void) { half_closed(&k##name, CT_MAPPED); }

HALF_CLOSED_TESTS(CloseWait)
HALF_CLOSED_TESTS(FinWait2)
HALF_CLOSED_TESTS(FinWait1BehindUnsentData)

/* A listener (which libsoccr could not pause) moves to a new socket and
 * accepts connections there. */
static void listener(int domain) {
  struct libsoccr_sk_data data;
  struct libsoccr_sk *h;
  union libsoccr_addr *self;
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int sk, moved, client, accepted;

  ct_log_capture(SOCCR_LOG_ERR);
  sk = socket(domain, SOCK_STREAM, 0);
  memset(&ss, 0, sizeof(ss));
  ss.ss_family = (sa_family_t)domain;
  if (domain == AF_INET) {
    ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else {
    ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
  }
  CHECK(bind(sk, (struct sockaddr *)&ss,
             domain == AF_INET ? sizeof(struct sockaddr_in)
                               : sizeof(struct sockaddr_in6)) == 0);
  CHECK(listen(sk, 8) == 0);

  h = libsoccr_pause(sk);
  CHECK(h != NULL);
  CHECK_EQ(libsoccr_save(h, &data, sizeof(data)), sizeof(data));
  EXPECT_EQ(data.state, TCP_LISTEN);
  EXPECT_EQ(data.inq_len, 0);
  EXPECT_EQ(data.outq_len, 0);
  self = libsoccr_get_addr(h, 1, SOCCR_MEM_EXCL);
  CHECK(self != NULL);
  EXPECT(libsoccr_get_addr(h, 0, 0) == NULL); /* no peer */
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "SO_PEERNAME"));
  ct_log_clear();
  libsoccr_release(h);
  close(sk);

  moved = socket(domain, SOCK_STREAM, 0);
  h = libsoccr_pause(moved);
  CHECK(h != NULL);
  CHECK(libsoccr_set_addr(h, 1, self, SOCCR_MEM_EXCL) == 0);
  EXPECT_EQ(libsoccr_restore(h, &data, sizeof(data)), 0);
  libsoccr_resume(h);
  if (ct_log_count(0) != 0) ct_log_dump();
  EXPECT_EQ(ct_tcp_state(moved), TCP_LISTEN);

  /* It accepts connections on the same address. */
  client = socket(domain, SOCK_STREAM, 0);
  CHECK(getsockname(moved, (struct sockaddr *)&ss, &len) == 0);
  CHECK(connect(client, (struct sockaddr *)&ss, len) == 0);
  accepted = accept(moved, NULL, NULL);
  CHECK(accepted >= 0);
  EXPECT(ct_traffic_both_ways(client, accepted, 10000, 7) == 0);
  EXPECT_EQ(ct_log_count(0), 0);
  close(accepted);
  close(client);
  close(moved);
}

static void TestListenerV4(void) { listener(AF_INET); }
static void TestListenerV6(void) { listener(AF_INET6); }

/* Whether `got` is the address `fd`'s peer had (compared with
 * getpeername() before the connection ended). */
static int same_address(const union libsoccr_addr *got,
                        const struct sockaddr_storage *want, socklen_t len) {
  return got != NULL && memcmp(got, want, len) == 0;
}

/* libsoccr_get_addr of the peer in CLOSE: the peer reset the connection
 * (getpeername() says ENOTCONN now; the address is still there). */
static void peer_of_closed(enum ct_family family) {
  struct sockaddr_storage peer;
  socklen_t len = sizeof(peer);
  struct libsoccr_sk_data data;
  struct libsoccr_sk *h;
  union libsoccr_addr *got;
  const struct linger reset = {1, 0};
  int client, server;

  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(ct_connected_pair(family, 0, &client, &server) == 0);
  CHECK(getpeername(client, (struct sockaddr *)&peer, &len) == 0);
  CHECK(setsockopt(server, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)) == 0);
  close(server); /* a reset */
  CHECK(ct_wait_tcp_state(client, TCP_CLOSE) == 0);
  EXPECT(getpeername(client, (struct sockaddr *)&(struct sockaddr_storage){0},
                     &(socklen_t){sizeof(struct sockaddr_storage)}) != 0);

  h = libsoccr_pause(client);
  CHECK(h != NULL);
  CHECK_EQ(libsoccr_save(h, &data, sizeof(data)), sizeof(data));
  EXPECT_EQ(data.state, TCP_CLOSE);
  got = libsoccr_get_addr(h, 0, 0);
  EXPECT(same_address(got, &peer, len));
  EXPECT_EQ(ct_log_count(0), 0);
  if (ct_log_count(0) != 0) ct_log_dump();
  libsoccr_release(h);
  close(client);
}

/* In SYN_SENT: the listener drops the SYN, so the client keeps trying. */
static void peer_of_syn_sent(enum ct_family family) {
  struct sockaddr_storage peer;
  socklen_t len = sizeof(peer);
  struct libsoccr_sk_data data;
  struct libsoccr_sk *h;
  union libsoccr_addr *got;
  int client, server, listener, sk;

  ct_log_capture(SOCCR_LOG_ERR);
  /* A listening address: take it from a connected pair, then listen there
   * with every packet dropped. */
  CHECK(ct_connected_pair(family, 0, &client, &server) == 0);
  CHECK(getpeername(client, (struct sockaddr *)&peer, &len) == 0);
  close(client);
  close(server);
  listener = socket(ct_domain(family), SOCK_STREAM, 0);
  CHECK(setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &(int){1},
                   sizeof(int)) == 0);
  CHECK(bind(listener, (struct sockaddr *)&peer, len) == 0);
  CHECK(ct_drop_incoming(listener) == 0);
  CHECK(listen(listener, 8) == 0);

  sk = socket(ct_domain(family), SOCK_STREAM | SOCK_NONBLOCK, 0);
  EXPECT(connect(sk, (struct sockaddr *)&peer, len) != 0);
  CHECK(ct_wait_tcp_state(sk, TCP_SYN_SENT) == 0);
  h = libsoccr_pause(sk);
  CHECK(h != NULL);
  CHECK_EQ(libsoccr_save(h, &data, sizeof(data)), sizeof(data));
  EXPECT_EQ(data.state, TCP_SYN_SENT);
  got = libsoccr_get_addr(h, 0, 0);
  EXPECT(same_address(got, &peer, len));
  EXPECT_EQ(ct_log_count(0), 0);
  if (ct_log_count(0) != 0) ct_log_dump();
  libsoccr_release(h);
  close(sk);
  close(listener);
}

static void TestPeerOfClosedV4(void) { peer_of_closed(CT_V4); }
static void TestPeerOfClosedV6(void) { peer_of_closed(CT_V6); }
static void TestPeerOfClosedMapped(void) { peer_of_closed(CT_MAPPED); }
static void TestPeerOfSynSentV4(void) { peer_of_syn_sent(CT_V4); }
static void TestPeerOfSynSentV6(void) { peer_of_syn_sent(CT_V6); }

int main(int argc, char **argv) {
  static const struct ct_test tests[] = {
      CT_TEST(TestCloseWaitV4),
      CT_TEST(TestCloseWaitV6),
      CT_TEST(TestCloseWaitMapped),
      CT_TEST(TestFinWait2V4),
      CT_TEST(TestFinWait2V6),
      CT_TEST(TestFinWait2Mapped),
      CT_TEST(TestFinWait1BehindUnsentDataV4),
      CT_TEST(TestFinWait1BehindUnsentDataV6),
      CT_TEST(TestFinWait1BehindUnsentDataMapped),
      CT_TEST(TestListenerV4),
      CT_TEST(TestListenerV6),
      CT_TEST(TestPeerOfClosedV4),
      CT_TEST(TestPeerOfClosedV6),
      CT_TEST(TestPeerOfClosedMapped),
      CT_TEST(TestPeerOfSynSentV4),
      CT_TEST(TestPeerOfSynSentV6),
  };
  return ct_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
