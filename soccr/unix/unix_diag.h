// soccr/unix/unix_diag.h: what the kernel tells about a unix socket only
// through sock_diag (NETLINK_SOCK_DIAG, unix_diag_req).
//
//   absl::StatusOr<UnixDiag> d = QueryUnixDiag(inode, cookie);
//   const bool send_shutdown = (d->shutdown & 2) != 0;  // SEND_SHUTDOWN
//
// getsockopt() says nothing of a unix socket's shutdown state, its peer's
// identity or a listener's pending connections; sock_diag reports all three.
// It needs no privilege, but sees only sockets of the caller's network
// namespace (abstract and unnamed sockets are per namespace too).

#ifndef SOCCR_UNIX_UNIX_DIAG_H_
#define SOCCR_UNIX_UNIX_DIAG_H_

#include <stdint.h>

#include "absl/status/statusor.h"

namespace soccr::unix_internal {

// UnixDiag is one socket's unix_diag_msg and the attributes asked for.
struct UnixDiag {
  uint8_t type = 0;         // SOCK_*
  uint8_t state = 0;        // TCP_CLOSE / TCP_LISTEN / TCP_ESTABLISHED
  uint32_t peer_inode = 0;  // UNIX_DIAG_PEER (0: none)
  uint8_t shutdown = 0;     // UNIX_DIAG_SHUTDOWN: RCV_SHUTDOWN 1, SEND 2
  // UNIX_DIAG_RQLEN: for a listener the connections waiting to be accepted
  // and the backlog; otherwise the receive queue's bytes (stream,
  // seqpacket) or first message's length (dgram) and the unsent bytes.
  uint32_t rqueue = 0;
  uint32_t wqueue = 0;
};

// Asks sock_diag for the socket with inode `inode` and cookie `cookie`
// (SO_COOKIE; it makes sure the inode was not reused). NotFound when the
// namespace has no such socket; other errors name the netlink call.
[[nodiscard]] absl::StatusOr<UnixDiag> QueryUnixDiag(uint64_t inode,
                                                     uint64_t cookie);

}  // namespace soccr::unix_internal

#endif  // SOCCR_UNIX_UNIX_DIAG_H_
