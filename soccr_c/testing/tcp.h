/*
 * soccr_c/testing/tcp.h: TCP connections and byte-exact I/O for C tests.
 * Call from inside a private network namespace (ct_main gives each test
 * one).
 *
 *   int client, server;
 *   if (ct_connected_pair(CT_V4, 0, &client, &server) != 0) ...;
 *   char *data = ct_pattern(100000, 7, 0);
 *   ct_write_all(server, data, 100000);
 *   ct_expect_stream(client, data, 100000);
 *
 * Functions that return int give 0 (or a count), or -1 after printing why
 * to stderr. Waits give up after 60 seconds: a wait that times out is a
 * failure, never a measurement.
 */

#ifndef SOCCR_C_TESTING_TCP_H_
#define SOCCR_C_TESTING_TCP_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ct_family {
  CT_V4,    /* 127.0.0.1 */
  CT_V6,    /* ::1 */
  CT_MAPPED /* IPv6 sockets talking over ::ffff:127.0.0.1 */
};

/* "v4", "v6", "mapped". */
const char *ct_family_name(enum ct_family family);
/* AF_INET or AF_INET6: the family of the sockets. */
int ct_domain(enum ct_family family);

/* How ct_connected_pair_with sets up the pair. Zero: the defaults. */
struct ct_pair_options {
  int listener_rcvbuf;      /* SO_RCVBUF on the listener (the server's) */
  int listener_rcvbufforce; /* SO_RCVBUFFORCE on the listener */
  int client_maxseg;        /* TCP_MAXSEG on the client before connect() */
};

/* As ct_connected_pair, with `options`. -1 with errno set (EPERM for a
 * SO_RCVBUFFORCE the process may not use) after printing why. */
int ct_connected_pair_with(enum ct_family family,
                           const struct ct_pair_options *options, int *client,
                           int *server);

/* Connects a client to a server over loopback (any free port).
 * `server_rcvbuf` > 0 sets the server's SO_RCVBUF before the handshake, so
 * the window it offers stays small. */
int ct_connected_pair(enum ct_family family, int server_rcvbuf, int *client,
                      int *server);

/* A malloc()-ed block of `n` bytes of a deterministic pattern; `seed` picks
 * the pattern, `offset` the position in it (so chunks of one stream can be
 * made separately). Exits the process if out of memory. */
char *ct_pattern(size_t n, uint64_t seed, uint64_t offset);

/* Writes all of `data`, waiting for room. */
int ct_write_all(int fd, const char *data, size_t n);
/* Writes what fits without waiting; returns the count, or -1. */
long ct_write_some(int fd, const char *data, size_t n);
/* Reads exactly `n` bytes into `out`, waiting for them. */
int ct_read_exactly(int fd, char *out, size_t n);
/* Reads `n` bytes and compares them with `want`; -1 (saying where they
 * differ) if they do not match. */
int ct_expect_stream(int fd, const char *want, size_t n);
/* Waits for end-of-file (recv returns 0); -1 if data or an error comes
 * instead. */
int ct_expect_eof(int fd);
/* Sends `n` fresh bytes (pattern `seed`) from `from` to `to`, reading as it
 * goes (so that any amount fits through), and checks every byte. */
int ct_deliver(int from, int to, size_t n, uint64_t seed);
/* Sends `n` fresh bytes from `a` to `b` and `n` from `b` to `a`, reading as
 * it goes, and checks every byte. */
int ct_traffic_both_ways(int a, int b, size_t n, uint64_t seed);

/* SIOCINQ, SIOCOUTQ, SIOCOUTQNSD; -1 on error. */
int ct_inq(int fd);
int ct_outq(int fd);
int ct_unsent(int fd);
/* Waits until everything `fd` sent is acknowledged. */
int ct_wait_nothing_in_flight(int fd);
/* Waits until `fd`'s receive queue holds at least `n` bytes. */
int ct_wait_inq(int fd, size_t n);

/* Makes `fd` drop every packet that reaches it (a BPF socket filter), so
 * that what its peer sends stays unacknowledged; and undoes it. */
int ct_drop_incoming(int fd);
int ct_accept_incoming(int fd);

/* The kernel's TCP state of `fd` (TCP_INFO's tcpi_state), -1 on error. */
int ct_tcp_state(int fd);
/* Waits up to 10 s for `fd` to be in TCP state `state`: 0, or -1. */
int ct_wait_tcp_state(int fd, int state);

/* getsockopt(level, name) of an int option; -1 on error. */
int ct_int_option(int fd, int level, int name);
/* The number of open descriptors of this process. */
int ct_count_open_fds(void);

#ifdef __cplusplus
}
#endif

#endif /* SOCCR_C_TESTING_TCP_H_ */
