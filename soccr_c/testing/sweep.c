#include "soccr_c/testing/sweep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "soccr_c/testing/netns.h"
#include "soccr_c/testing/tcp.h"

#define MIB (1L << 20)
#define DEADLINE_MS 20000

enum sysctls { SY_DEFAULT, SY_NO_WSCALE, SY_NO_TS, SY_NO_SACK, SY_RAISED };
enum buffers {
  BU_DEFAULT,
  BU_PEER_SMALL,
  BU_LISTENER_FORCE,
  BU_FORCE,
  BU_MSS,
  BU_SMALL_AFTER,
  BU_PLAIN_AFTER
};
enum queues { QU_EMPTY, QU_RECV_1M, QU_SEND_1M, QU_8M };
enum states {
  ST_EST,
  ST_FIN_WAIT1,
  ST_FIN_WAIT2,
  ST_CLOSE_WAIT,
  ST_LAST_ACK,
  ST_SYN_SENT
};

static const char *const kSysctlNames[] = {
    "defaults", "wscale-off-until-the-move", "timestamps-off-until-the-move",
    "sack-off-until-the-move", "tcp_rmem+wmem-raised-after-connect"};
static const char *const kBufferNames[] = {
    "default-buffers",
    "small-SO_RCVBUF-on-peer",
    "SO_RCVBUFFORCE-64MiB-on-listener",
    "SO_RCV+SNDBUFFORCE-64MiB-after-connect",
    "TCP_MAXSEG-536",
    "SO_RCV+SNDBUF-16KiB-after-connect",
    "SO_RCV+SNDBUF-1MiB-after-connect"};
static const char *const kQueueNames[] = {
    "empty", "1MiB-recv", "1MiB-send-partly-unsent", "8MiB-each-way"};
static const char *const kStateNames[] = {"ESTABLISHED", "FIN_WAIT1",
                                          "FIN_WAIT2",   "CLOSE_WAIT",
                                          "LAST_ACK",    "SYN_SENT"};

struct sweep_case {
  enum ct_family family;
  enum sysctls sysctls;
  enum buffers buffers;
  enum queues queues;
  enum states state;
};

enum result { R_PASSED, R_FAILED_FAST, R_REFUSED, R_FAILED };

/* One case as it runs. */
struct run {
  const struct sweep_case *c;
  unsigned seed;
  int client, server, listener;
  /* The streams each way, and how much of each the applications had
   * written before the checkpoint. */
  char *c2s, *s2c;
  size_t c2s_len, s2c_len, c2s_sent, s2c_sent;
  int in_q, out_q, unsent_q; /* the client's queues at the checkpoint */
  char why[1400];
};

static int force_permitted;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int fail(struct run *r, const char *what) {
  if (r->why[0] == '\0') {
    snprintf(r->why, sizeof(r->why), "%s%s%s", what, errno ? ": " : "",
             errno ? strerror(errno) : "");
  }
  return -1;
}

/* Writes what fits of the two streams, without blocking, until neither
 * side takes more for 200 ms: nobody reads, so the queues fill to what the
 * kernel lets this connection hold. */
static void fill(struct run *r) {
  long long idle_since = now_ms();
  while (now_ms() - idle_since < 200) {
    long w1 = 0, w2 = 0;
    if (r->c2s_sent < r->c2s_len) {
      w1 = ct_write_some(r->client, r->c2s + r->c2s_sent,
                         r->c2s_len - r->c2s_sent);
      if (w1 > 0) r->c2s_sent += (size_t)w1;
    }
    if (r->s2c_sent < r->s2c_len) {
      w2 = ct_write_some(r->server, r->s2c + r->s2c_sent,
                         r->s2c_len - r->s2c_sent);
      if (w2 > 0) r->s2c_sent += (size_t)w2;
    }
    if (w1 > 0 || w2 > 0) {
      idle_since = now_ms();
    } else {
      sleep_ms(5);
    }
  }
}

/* "rcv_wnd 0 rcv_ssthresh 65483 snd_wnd 0 ..." of `fd`, for a stall. */
static void describe(int fd, char *out, size_t n) {
  struct tcp_info ti;
  socklen_t len = sizeof(ti);
  int clamp = ct_int_option(fd, SOL_TCP, TCP_WINDOW_CLAMP);
  memset(&ti, 0, sizeof(ti));
  getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len);
  snprintf(out, n,
           "state %u rcv_ssthresh %u window_clamp %d rcv_space %u probes %u "
           "backoff %u unacked %u rto %u inq %d outq %d rcvbuf %d sndbuf %d",
           ti.tcpi_state, ti.tcpi_rcv_ssthresh, clamp, ti.tcpi_rcv_space,
           ti.tcpi_probes, ti.tcpi_backoff, ti.tcpi_unacked, ti.tcpi_rto,
           ct_inq(fd), ct_outq(fd), ct_int_option(fd, SOL_SOCKET, SO_RCVBUF),
           ct_int_option(fd, SOL_SOCKET, SO_SNDBUF));
}

/* Delivers the rest of both streams after the move: `a` (the restored
 * client) writes what remains of c2s while `b` reads all of it from the
 * start, and the other way round; compares every byte. */
static int pump(struct run *r, int a, int b) {
  const long long deadline = now_ms() + DEADLINE_MS;
  char *got_b = malloc(r->c2s_len + 1), *got_a = malloc(r->s2c_len + 1);
  size_t got_b_n = 0, got_a_n = 0;
  int result = 0;
  while (got_b_n < r->c2s_len || got_a_n < r->s2c_len) {
    struct pollfd p[2];
    ssize_t n;
    if (now_ms() > deadline) {
      char da[300], db[300];
      describe(a, da, sizeof(da));
      describe(b, db, sizeof(db));
      snprintf(r->why, sizeof(r->why),
               "after the restore: %zu of %zu bytes client->server and %zu of "
               "%zu server->client arrived in %d s; client: %s; server: %s",
               got_b_n, r->c2s_len, got_a_n, r->s2c_len, DEADLINE_MS / 1000, da,
               db);
      result = -1;
      break;
    }
    if (r->c2s_sent < r->c2s_len) {
      const long w =
          ct_write_some(a, r->c2s + r->c2s_sent, r->c2s_len - r->c2s_sent);
      if (w < 0) {
        result = fail(r, "write the rest client->server");
        break;
      }
      r->c2s_sent += (size_t)w;
    }
    if (r->s2c_sent < r->s2c_len) {
      const long w =
          ct_write_some(b, r->s2c + r->s2c_sent, r->s2c_len - r->s2c_sent);
      if (w < 0) {
        result = fail(r, "write the rest server->client");
        break;
      }
      r->s2c_sent += (size_t)w;
    }
    n = got_b_n < r->c2s_len
            ? recv(b, got_b + got_b_n, r->c2s_len - got_b_n, MSG_DONTWAIT)
            : -1;
    if (n > 0) got_b_n += (size_t)n;
    if (n == 0) {
      result = fail(r, "server: end of stream too early");
      break;
    }
    n = got_a_n < r->s2c_len
            ? recv(a, got_a + got_a_n, r->s2c_len - got_a_n, MSG_DONTWAIT)
            : -1;
    if (n > 0) got_a_n += (size_t)n;
    if (n == 0) {
      result = fail(r, "client: end of stream too early");
      break;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR && got_a_n < r->s2c_len) {
      result = fail(r, "client: recv");
      break;
    }
    p[0].fd = a;
    p[0].events = POLLIN | (r->c2s_sent < r->c2s_len ? POLLOUT : 0);
    p[1].fd = b;
    p[1].events = POLLIN | (r->s2c_sent < r->s2c_len ? POLLOUT : 0);
    p[0].revents = p[1].revents = 0;
    poll(p, 2, 100);
  }
  if (result == 0 && memcmp(got_b, r->c2s, r->c2s_len) != 0) {
    snprintf(r->why, sizeof(r->why), "the %zu bytes client->server differ",
             r->c2s_len);
    result = -1;
  }
  if (result == 0 && memcmp(got_a, r->s2c, r->s2c_len) != 0) {
    snprintf(r->why, sizeof(r->why), "the %zu bytes server->client differ",
             r->s2c_len);
    result = -1;
  }
  free(got_a);
  free(got_b);
  return result;
}

/* Round trips of small messages, each answered before the next. */
static int ping_pong(struct run *r, int a, int b) {
  char out[512], in[512];
  int i;
  for (i = 0; i < 20; ++i) {
    const size_t n = 1 + (size_t)(i * 37) % sizeof(out);
    memset(out, 'a' + i % 26, n);
    if (ct_write_all(a, out, n) != 0 || ct_read_exactly(b, in, n) != 0 ||
        memcmp(in, out, n) != 0 || ct_write_all(b, in, n) != 0 ||
        ct_read_exactly(a, out, n) != 0) {
      snprintf(r->why, sizeof(r->why), "ping-pong round %d failed", i);
      return -1;
    }
  }
  return 0;
}

static int both_eofs(struct run *r, int a, int b) {
  if (shutdown(a, SHUT_WR) != 0) return fail(r, "client shutdown");
  if (ct_expect_eof(b) != 0) return fail(r, "server: no end-of-file");
  if (shutdown(b, SHUT_WR) != 0) return fail(r, "server shutdown");
  if (ct_expect_eof(a) != 0) return fail(r, "client: no end-of-file");
  return 0;
}

static int set_sysctl(struct run *r, const char *name, const char *value) {
  if (ct_set_sysctl(name, value) == 0) return 0;
  return fail(r, name);
}

/* The sysctl of the TCP option the case turns off (window scaling,
 * timestamps, SACK) set to `value`: "0" before the connection is made, "1"
 * (the kernel's default) again before the move. Nothing for the other
 * cases. */
static int set_negotiated_option(struct run *r, const char *value) {
  const char *name = NULL;
  switch (r->c->sysctls) {
    case SY_NO_WSCALE:
      name = "net/ipv4/tcp_window_scaling";
      break;
    case SY_NO_TS:
      name = "net/ipv4/tcp_timestamps";
      break;
    case SY_NO_SACK:
      name = "net/ipv4/tcp_sack";
      break;
    case SY_DEFAULT:
    case SY_RAISED:
      return 0;
  }
  return name == NULL ? 0 : set_sysctl(r, name, value);
}

/* The namespace, its sysctls, the connection and its buffers. R_REFUSED
 * (with the reason) when a SO_*BUFFORCE the case needs is not permitted. */
static enum result set_up(struct run *r) {
  const struct sweep_case *c = r->c;
  struct ct_pair_options options;
  const int force = 64 * MIB;
  if (ct_enter_network_namespace() != 0) {
    fail(r, "new namespace");
    return R_FAILED;
  }
  /* A new namespace copies tcp_rmem and tcp_wmem from the host's: pin the
   * kernel's own defaults, so that the host's tuning is not tested. */
  if (set_sysctl(r, "net/ipv4/tcp_rmem", "4096 131072 6291456") != 0 ||
      set_sysctl(r, "net/ipv4/tcp_wmem", "4096 16384 4194304") != 0) {
    return R_FAILED;
  }
  if (set_negotiated_option(r, "0") != 0) return R_FAILED;
  memset(&options, 0, sizeof(options));
  if (c->buffers == BU_PEER_SMALL) options.listener_rcvbuf = 4096;
  if (c->buffers == BU_LISTENER_FORCE) options.listener_rcvbufforce = force;
  if (c->buffers == BU_MSS) options.client_maxseg = 536;
  errno = 0;
  if (ct_connected_pair_with(c->family, &options, &r->client, &r->server) !=
      0) {
    if (errno == EPERM && c->buffers == BU_LISTENER_FORCE && !force_permitted) {
      snprintf(r->why, sizeof(r->why),
               "setsockopt(SO_RCVBUFFORCE) on the listener: %s (CAP_NET_ADMIN "
               "in the initial user namespace, which this process lacks)",
               strerror(EPERM));
      return R_REFUSED;
    }
    fail(r, "connect the pair");
    return R_FAILED;
  }
  if (c->buffers == BU_FORCE &&
      (setsockopt(r->client, SOL_SOCKET, SO_RCVBUFFORCE, &force,
                  sizeof(force)) != 0 ||
       setsockopt(r->client, SOL_SOCKET, SO_SNDBUFFORCE, &force,
                  sizeof(force)) != 0)) {
    if (errno == EPERM && !force_permitted) {
      snprintf(r->why, sizeof(r->why),
               "setsockopt(SO_RCVBUFFORCE/SO_SNDBUFFORCE) after connect: %s "
               "(CAP_NET_ADMIN in the initial user namespace, which this "
               "process lacks)",
               strerror(EPERM));
      return R_REFUSED;
    }
    fail(r, "SO_*BUFFORCE after connect");
    return R_FAILED;
  }
  /* What an unprivileged application does once connected: SO_*BUF, which
   * locks the buffer. 1 MiB is above net.core.*mem_max (clamped to it).
   * 16 KiB, not the kernel's minimum: with 4 KiB (8 KiB buffers) and
   * timestamps off the kernel's own connection, never moved, stalls here
   * (a window of 8064 bytes below the server's MSS of 32 KiB, half the
   * largest window it was offered, so the server sends only on zero-window
   * probes, backed off to 52 s), so the case could not tell a failed move
   * from the kernel's behaviour. */
  if (c->buffers == BU_SMALL_AFTER || c->buffers == BU_PLAIN_AFTER) {
    const int size = c->buffers == BU_SMALL_AFTER ? 16384 : (int)MIB;
    if (setsockopt(r->client, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) !=
            0 ||
        setsockopt(r->client, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) !=
            0) {
      fail(r, "SO_RCVBUF/SO_SNDBUF after connect");
      return R_FAILED;
    }
  }
  if (c->sysctls == SY_RAISED &&
      (set_sysctl(r, "net/ipv4/tcp_rmem", "4096 16777216 67108864") != 0 ||
       set_sysctl(r, "net/ipv4/tcp_wmem", "4096 16777216 67108864") != 0)) {
    return R_FAILED;
  }
  return R_PASSED;
}

/* Streams of `c2s` and `s2c` bytes, fresh, none of them written yet. */
static void streams(struct run *r, size_t c2s, size_t s2c) {
  free(r->c2s);
  free(r->s2c);
  r->c2s_sent = r->s2c_sent = 0;
  r->c2s_len = c2s;
  r->s2c_len = s2c;
  r->c2s = ct_pattern(c2s, 2 * r->seed, 0);
  r->s2c = ct_pattern(s2c, 2 * r->seed + 1, 0);
}

/* Builds the state the case wants on the client, up to the checkpoint. */
static int build(struct run *r) {
  const struct sweep_case *c = r->c;
  static const size_t kC2s[] = {0, 0, MIB, 8 * MIB};
  static const size_t kS2c[] = {0, MIB, 0, 8 * MIB};
  /* Small locked buffers move some 300 KB/s over loopback (a window of a
   * segment or two against delayed ACKs), a minute for this case's
   * streams, and their queues hold a few KiB: 1/32 of the streams still
   * fill them. */
  const size_t part = c->buffers == BU_SMALL_AFTER ? 32 : 1;
  /* A connection that carried traffic before, which grows its buffers. */
  if (c->queues != QU_EMPTY &&
      ct_traffic_both_ways(r->client, r->server, 2 * MIB / part, r->seed) !=
          0) {
    return fail(r, "traffic before the checkpoint");
  }
  /* Sent but not acknowledged: the server's ACKs never reach the client
   * (the server has the bytes; the window probe on resume settles it). */
  if (c->queues == QU_SEND_1M && ct_drop_incoming(r->client) != 0) {
    return fail(r, "drop the server's ACKs");
  }
  switch (c->state) {
    case ST_EST:
      streams(r, kC2s[c->queues] / part, kS2c[c->queues] / part);
      fill(r);
      return 0;
    case ST_FIN_WAIT1:
      /* Our FIN behind unsent data: the server reads nothing. */
      streams(r, kC2s[c->queues], 0);
      fill(r);
      r->c2s_len = r->c2s_sent; /* nothing can follow the FIN */
      if (shutdown(r->client, SHUT_WR) != 0) return fail(r, "shutdown");
      return ct_wait_tcp_state(r->client, TCP_FIN_WAIT1) == 0
                 ? 0
                 : fail(r, "not FIN_WAIT1");
    case ST_FIN_WAIT2:
      streams(r, 0, kS2c[c->queues]);
      fill(r);
      if (shutdown(r->client, SHUT_WR) != 0) return fail(r, "shutdown");
      if (ct_expect_eof(r->server) != 0) return fail(r, "server: no EOF");
      return ct_wait_tcp_state(r->client, TCP_FIN_WAIT2) == 0
                 ? 0
                 : fail(r, "not FIN_WAIT2");
    case ST_CLOSE_WAIT:
    case ST_LAST_ACK:
      streams(r, 0, kS2c[c->queues]);
      fill(r);
      r->s2c_len = r->s2c_sent; /* nothing can follow the server's FIN */
      if (shutdown(r->server, SHUT_WR) != 0) return fail(r, "shutdown");
      if (ct_wait_tcp_state(r->client, TCP_CLOSE_WAIT) != 0) {
        return fail(r, "not CLOSE_WAIT");
      }
      if (c->state == ST_CLOSE_WAIT) return 0;
      /* Our FIN, which the server does not acknowledge. */
      if (ct_drop_incoming(r->server) != 0) return fail(r, "drop at server");
      if (shutdown(r->client, SHUT_WR) != 0) return fail(r, "shutdown");
      return ct_wait_tcp_state(r->client, TCP_LAST_ACK) == 0
                 ? 0
                 : fail(r, "not LAST_ACK");
    case ST_SYN_SENT:
      break;
  }
  return fail(r, "unknown state");
}

/* SYN_SENT: a listener that drops every packet, and a client trying. */
static int build_syn_sent(struct run *r) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int unused_client, unused_server;
  /* Any free address of the family: take one from a pair. */
  if (ct_connected_pair(r->c->family, 0, &unused_client, &unused_server) != 0 ||
      getpeername(unused_client, (struct sockaddr *)&ss, &len) != 0) {
    return fail(r, "find an address");
  }
  close(unused_client);
  close(unused_server);
  close(r->client);
  close(r->server);
  r->client = r->server = -1;
  r->listener = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (r->listener < 0 ||
      setsockopt(r->listener, SOL_SOCKET, SO_REUSEADDR, &(int){1},
                 sizeof(int)) != 0 ||
      bind(r->listener, (struct sockaddr *)&ss, len) != 0 ||
      ct_drop_incoming(r->listener) != 0 || listen(r->listener, 8) != 0) {
    return fail(r, "listener that drops SYNs");
  }
  r->client =
      socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (r->client < 0) return fail(r, "socket");
  if (connect(r->client, (struct sockaddr *)&ss, len) == 0 ||
      errno != EINPROGRESS) {
    return fail(r, "connect should be in progress");
  }
  return ct_wait_tcp_state(r->client, TCP_SYN_SENT) == 0
             ? 0
             : fail(r, "not SYN_SENT");
}

/* After the move: the rest of the conversation, as each state allows. */
static int carry_on(struct run *r, int restored) {
  const struct sweep_case *c = r->c;
  switch (c->state) {
    case ST_EST:
      if (pump(r, restored, r->server) != 0) return -1;
      if (ping_pong(r, restored, r->server) != 0) return -1;
      return both_eofs(r, restored, r->server);
    case ST_FIN_WAIT1:
      if (pump(r, restored, r->server) != 0) return -1;
      if (ct_expect_eof(r->server) != 0) return fail(r, "server: no EOF");
      streams(r, 0, 65536);
      if (pump(r, restored, r->server) != 0) return -1;
      if (shutdown(r->server, SHUT_WR) != 0) return fail(r, "shutdown");
      return ct_expect_eof(restored) == 0 ? 0 : fail(r, "client: no EOF");
    case ST_FIN_WAIT2:
      /* The server goes on sending, then closes. */
      free(r->s2c);
      r->s2c_len += 65536;
      r->s2c = ct_pattern(r->s2c_len, 2 * r->seed + 1, 0);
      if (pump(r, restored, r->server) != 0) return -1;
      if (shutdown(r->server, SHUT_WR) != 0) return fail(r, "shutdown");
      return ct_expect_eof(restored) == 0 ? 0 : fail(r, "client: no EOF");
    case ST_CLOSE_WAIT:
      if (pump(r, restored, r->server) != 0) return -1;
      if (ct_expect_eof(restored) != 0) return fail(r, "client: no EOF");
      streams(r, 65536, 0);
      if (pump(r, restored, r->server) != 0) return -1;
      if (shutdown(restored, SHUT_WR) != 0) return fail(r, "shutdown");
      return ct_expect_eof(r->server) == 0 ? 0 : fail(r, "server: no EOF");
    case ST_LAST_ACK:
      if (ct_accept_incoming(r->server) != 0) return fail(r, "undrop");
      if (pump(r, restored, r->server) != 0) return -1;
      if (ct_expect_eof(restored) != 0) return fail(r, "client: no EOF");
      return ct_expect_eof(r->server) == 0 ? 0 : fail(r, "server: no EOF");
    case ST_SYN_SENT:
      if (ct_accept_incoming(r->listener) != 0) return fail(r, "undrop");
      r->server = accept4(r->listener, NULL, NULL, SOCK_CLOEXEC);
      if (r->server < 0) return fail(r, "accept the restored SYN");
      streams(r, 100000, 100000);
      if (pump(r, restored, r->server) != 0) return -1;
      if (ping_pong(r, restored, r->server) != 0) return -1;
      return both_eofs(r, restored, r->server);
  }
  return fail(r, "unknown state");
}

static enum result run_case(const struct sweep_case *c, unsigned seed,
                            ct_sweep_mover move, struct run *r) {
  struct ct_move_result moved;
  enum result result = R_FAILED;
  memset(r, 0, sizeof(*r));
  r->c = c;
  r->seed = seed;
  r->client = r->server = r->listener = -1;
  result = set_up(r);
  if (result != R_PASSED) goto out;
  result = R_FAILED;
  if ((c->state == ST_SYN_SENT ? build_syn_sent(r) : build(r)) != 0) goto out;
  /* As a migration locks the connection: nothing reaches the client while
   * it is checkpointed, and the server hears nothing (no reset from the
   * closed port) until the restored socket is there. */
  if (c->queues != QU_SEND_1M && ct_drop_incoming(r->client) != 0) {
    fail(r, "block the client");
    goto out;
  }
  if (r->server >= 0 && c->state != ST_LAST_ACK &&
      ct_drop_incoming(r->server) != 0) {
    fail(r, "block the server");
    goto out;
  }
  /* The sysctl back at the kernel's default for the restore, as a fresh
   * namespace (another host's) has it: the connection keeps what it
   * negotiated, and the restore must not take a window scale, timestamps
   * or SACK from the namespace. */
  if (set_negotiated_option(r, "1") != 0) goto out;
  sleep_ms(10); /* what was on its way lands (or is dropped) */
  r->in_q = ct_inq(r->client);
  r->out_q = ct_outq(r->client);
  r->unsent_q = ct_unsent(r->client);
  memset(&moved, 0, sizeof(moved));
  move(r->client, &moved); /* closes the client */
  r->client = -1;
  if (r->server >= 0 && c->state != ST_LAST_ACK &&
      ct_accept_incoming(r->server) != 0) {
    fail(r, "unblock the server");
    goto out;
  }
  if (moved.outcome == CT_FAILED_FAST) {
    /* Only where the process may not raise the buffers, and only with the
     * sysctls to raise named. */
    if (!force_permitted && strstr(moved.message, "FAILED_PRECONDITION") &&
        (strstr(moved.message, "net.core.rmem_max") ||
         strstr(moved.message, "net.core.wmem_max"))) {
      snprintf(r->why, sizeof(r->why), "%s", moved.message);
      result = R_FAILED_FAST;
    } else {
      snprintf(r->why, sizeof(r->why), "failed fast where it should not: %s",
               moved.message);
    }
    goto out;
  }
  if (moved.outcome != CT_MOVED) {
    snprintf(r->why, sizeof(r->why), "the move failed: %s", moved.message);
    goto out;
  }
  if (carry_on(r, moved.fd) == 0) result = R_PASSED;
  close(moved.fd);
out:
  if (r->client >= 0) close(r->client);
  if (r->server >= 0) close(r->server);
  if (r->listener >= 0) close(r->listener);
  free(r->c2s);
  free(r->s2c);
  return result;
}

/* Every case, in a fixed order. */
static size_t all_cases(struct sweep_case *out) {
  static const enum ct_family kFamilies[] = {CT_V4, CT_V6, CT_MAPPED};
  size_t n = 0, f;
  int s, b, q, st;
  for (f = 0; f < 3; ++f) {
    for (s = SY_DEFAULT; s <= SY_RAISED; ++s) {
      for (b = BU_DEFAULT; b <= BU_PLAIN_AFTER; ++b) {
        for (q = QU_EMPTY; q <= QU_8M; ++q) {
          const struct sweep_case c = {kFamilies[f], (enum sysctls)s,
                                       (enum buffers)b, (enum queues)q, ST_EST};
          out[n++] = c;
        }
      }
    }
  }
  /* The half-closed states and SYN_SENT, over a subset. */
  for (f = 0; f < 3; ++f) {
    for (st = ST_FIN_WAIT1; st <= ST_LAST_ACK; ++st) {
      for (s = SY_DEFAULT; s <= SY_NO_TS; s += SY_NO_TS - SY_DEFAULT) {
        const enum queues q1 = st == ST_FIN_WAIT1 ? QU_SEND_1M : QU_EMPTY;
        const enum queues q2 = st == ST_FIN_WAIT1 ? QU_8M : QU_RECV_1M;
        const struct sweep_case a = {kFamilies[f], (enum sysctls)s, BU_DEFAULT,
                                     q1, (enum states)st};
        const struct sweep_case c = {kFamilies[f], (enum sysctls)s, BU_DEFAULT,
                                     q2, (enum states)st};
        out[n++] = a;
        out[n++] = c;
      }
    }
    for (s = SY_DEFAULT; s <= SY_NO_WSCALE; ++s) {
      const struct sweep_case c = {kFamilies[f], (enum sysctls)s, BU_DEFAULT,
                                   QU_EMPTY, ST_SYN_SENT};
      out[n++] = c;
    }
  }
  return n;
}

/* Whether this process may use SO_RCVBUFFORCE (CAP_NET_ADMIN in the
 * initial user namespace). */
static int probe_force(void) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int size = 1 * MIB;
  const int ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
                                       sizeof(size)) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

int ct_sweep_main(int argc, char **argv, const char *api, ct_sweep_mover move) {
  static struct sweep_case cases[512]; /* all_cases makes 474 */
  static const char *const kResults[] = {"passed", "failed fast",
                                         "refused at setup", "FAILED"};
  const char *filter = argc > 1 ? argv[1] : getenv("TESTBRIDGE_TEST_ONLY");
  const char *total_env = getenv("TEST_TOTAL_SHARDS");
  const char *index_env = getenv("TEST_SHARD_INDEX");
  const char *status_file = getenv("TEST_SHARD_STATUS_FILE");
  const long shards = total_env ? atol(total_env) : 1;
  const long shard = index_env ? atol(index_env) : 0;
  const size_t n = all_cases(cases);
  size_t counts[4] = {0, 0, 0, 0}, ran = 0, i;
  const long long start = now_ms();
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (status_file != NULL) fclose(fopen(status_file, "w"));
  /* Real root keeps the initial namespace's capabilities (and may force
   * buffers); anyone else gets a user namespace of their own. */
  force_permitted = probe_force();
  if (!force_permitted && ct_enter_user_namespace() != 0) return 1;
  printf("sweep (%s): SO_*BUFFORCE is %s for this process\n", api,
         force_permitted ? "permitted" : "not permitted");
  for (i = 0; i < n; ++i) {
    const struct sweep_case *c = &cases[i];
    char name[256];
    struct run r;
    enum result result;
    if ((long)(i % (size_t)shards) != shard) continue;
    snprintf(name, sizeof(name), "%s/%s/%s/%s/%s", ct_family_name(c->family),
             kSysctlNames[c->sysctls], kBufferNames[c->buffers],
             kQueueNames[c->queues], kStateNames[c->state]);
    if (filter != NULL && filter[0] != '\0' && strstr(name, filter) == NULL) {
      continue;
    }
    result = run_case(c, (unsigned)i + 1, move, &r);
    ++ran;
    ++counts[result];
    printf("[%s] %s: queues inq %d outq %d (%d unsent)%s%s\n", kResults[result],
           name, r.in_q, r.out_q, r.unsent_q, r.why[0] ? ": " : "", r.why);
  }
  printf(
      "sweep (%s), shard %ld of %ld: %zu cases: %zu passed (every byte both "
      "ways, ping-pong, both EOFs), %zu failed fast (buffers this process may "
      "not raise), %zu refused at setup (SO_*BUFFORCE not permitted), %zu "
      "failed; %.1f s\n",
      api, shard + 1, shards, ran, counts[R_PASSED], counts[R_FAILED_FAST],
      counts[R_REFUSED], counts[R_FAILED], (now_ms() - start) / 1000.0);
  if (ran == 0) {
    fprintf(stderr, "no case matches \"%s\"\n", filter ? filter : "");
    return 1;
  }
  return counts[R_FAILED] == 0 ? 0 : 1;
}
