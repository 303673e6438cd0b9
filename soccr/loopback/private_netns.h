// soccr/loopback/private_netns.h: private user + network namespaces.
//
// For tests, benchmarks and demos that need TCP repair mode without root on
// the host and without touching the host's network:
//
//   absl::Status s = soccr::loopback::EnterPrivateNetns();  // lo is up
//   s = soccr::loopback::RaiseTcpBuffers(64 << 20, 256 << 20);
//
// Inside its own user namespace the process holds CAP_NET_ADMIN over its own
// network namespace, which is all TCP_REPAIR needs.

#ifndef SOCCR_LOOPBACK_PRIVATE_NETNS_H_
#define SOCCR_LOOPBACK_PRIVATE_NETNS_H_

#include <stdint.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace soccr::loopback {

// Moves the calling thread into a fresh network namespace with `lo` up. The
// first call also creates a user namespace (mapping the caller's uid and gid
// to root in it), which needs the process to be single-threaded; later calls
// only create a new network namespace.
[[nodiscard]] absl::Status EnterPrivateNetns();

// Writes a sysctl of the current network namespace, e.g.
// SetSysctl("net/ipv4/tcp_wmem", "4096 16384 4194304").
[[nodiscard]] absl::Status SetSysctl(absl::string_view name,
                                     absl::string_view value);

// Sets the MTU of `lo` in the current network namespace (65536 by default).
[[nodiscard]] absl::Status SetLoopbackMtu(int mtu);

// Raises tcp_rmem/tcp_wmem so that new sockets start with buffers of
// `initial_bytes` and may autotune up to `max_bytes`. A private namespace has
// no CAP_NET_ADMIN in the initial user namespace, so SO_*BUFFORCE is refused;
// this is how a test holds tens of MiB in one queue.
[[nodiscard]] absl::Status RaiseTcpBuffers(int64_t initial_bytes,
                                           int64_t max_bytes);

}  // namespace soccr::loopback

#endif  // SOCCR_LOOPBACK_PRIVATE_NETNS_H_
