/*
 * soccr_c/testing/sweep.h: the configuration sweep of issue 11, run through
 * either API.
 *
 * Every case gets a fresh network namespace with the kernel's default TCP
 * sysctls (unless the case sets one), builds an ordinary connection over
 * loopback in one configuration, checkpoints its client, closes the client
 * while it is paused, restores it through the API under test, and then
 * checks every byte both ways (what the queues held and what the
 * applications had not written yet), a ping-pong, and both end-of-files.
 *
 * The matrix: IPv4, IPv6, IPv4-mapped
 *   x {defaults, window scaling off, timestamps off, SACK off (each on
 *      again, the kernel's default, for the restore), tcp_rmem and tcp_wmem
 *      raised after connect}
 *   x {default buffers, small SO_RCVBUF on the peer, SO_RCVBUFFORCE 64 MiB
 *      on the listener, SO_RCVBUFFORCE and SO_SNDBUFFORCE 64 MiB on the
 *      client after connect, an application TCP_MAXSEG of 536, SO_RCVBUF
 *      and SO_SNDBUF of 16 KiB or of 1 MiB on the client after connect}
 *   x {empty queues, 1 MiB in the receive queue, 1 MiB in the send queue
 *      partly unsent, 8 MiB each way}
 * plus, over a subset, the half-closed states (FIN_WAIT1 behind unsent
 * data, FIN_WAIT2, CLOSE_WAIT, LAST_ACK) and SYN_SENT.
 *
 * What the process may not do is shown, not hidden: a SO_*BUFFORCE the case
 * needs is refused without CAP_NET_ADMIN in the initial user namespace (the
 * case reports the EPERM and counts as refused at setup), and a restore
 * whose queues need bigger buffers than the process may set must fail at
 * once with FAILED_PRECONDITION naming the sysctls (counted as failed
 * fast). Anything else that goes wrong fails the case.
 *
 *   static int move(int fd, struct ct_move_result *r) { ... }
 *   int main(int argc, char **argv) {
 *     return ct_sweep_main(argc, argv, "C API", move);
 *   }
 *
 * Cases are spread over Bazel's test shards (TEST_TOTAL_SHARDS).
 */

#ifndef SOCCR_C_TESTING_SWEEP_H_
#define SOCCR_C_TESTING_SWEEP_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ct_move_outcome {
  CT_MOVED = 0,   /* `fd` holds the restored, live socket */
  CT_FAILED_FAST, /* FAILED_PRECONDITION: buffers the process may not get */
  CT_MOVE_FAILED, /* anything else */
};

struct ct_move_result {
  enum ct_move_outcome outcome;
  int fd;             /* CT_MOVED: the restored socket, blocking */
  char message[1024]; /* otherwise: the API's error */
};

/* Checkpoints the connected socket `fd` through the API under test, closes
 * it while it is paused (so that nothing reaches the peer), restores it
 * onto a new socket and resumes it. */
typedef void (*ct_sweep_mover)(int fd, struct ct_move_result *result);

/* Runs this shard's cases with `move`; prints one line per case and the
 * totals, labelled `api`. Returns main's exit status. */
int ct_sweep_main(int argc, char **argv, const char *api, ct_sweep_mover move);

#ifdef __cplusplus
}
#endif

#endif /* SOCCR_C_TESTING_SWEEP_H_ */
