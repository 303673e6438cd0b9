/*
 * soccr_c/testing/netns.h: private user and network namespaces for C tests.
 *
 * Inside its own user namespace a test holds CAP_NET_ADMIN over network
 * namespaces it creates, which TCP_REPAIR needs; nothing needs root on the
 * host and nothing touches the host's network.
 *
 *   if (ct_enter_user_namespace() != 0) return 1;     // once, single-threaded
 *   if (ct_enter_network_namespace() != 0) return 1;  // a fresh one, lo up
 *   ct_set_sysctl("net/ipv4/tcp_rmem", "4096 1048576 33554432");
 *
 * Each call returns 0, or -1 after printing why to stderr.
 */

#ifndef SOCCR_C_TESTING_NETNS_H_
#define SOCCR_C_TESTING_NETNS_H_

#ifdef __cplusplus
extern "C" {
#endif

/* unshare(CLONE_NEWUSER), mapping the caller's uid and gid to root inside.
 * The process must still be single-threaded. Does nothing the second time. */
int ct_enter_user_namespace(void);

/* unshare(CLONE_NEWNET) and bring `lo` up. The calling thread (and threads
 * it creates afterwards) move into the new namespace. */
int ct_enter_network_namespace(void);

/* Writes /proc/sys/<name> in the current network namespace. */
int ct_set_sysctl(const char *name, const char *value);

/* Raises net.ipv4.tcp_rmem and tcp_wmem so that new sockets start with
 * `initial` bytes of buffer and autotune up to `max`: how a private
 * namespace (where SO_*BUFFORCE is refused) holds tens of MiB in a queue. */
int ct_raise_tcp_buffers(long initial, long max);

#ifdef __cplusplus
}
#endif

#endif /* SOCCR_C_TESTING_NETNS_H_ */
