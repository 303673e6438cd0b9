// soccr/internal/peer_address.h: the peer's address of a TCP socket in any
// state.
//
// getpeername() says ENOTCONN in CLOSE and SYN_SENT although the kernel
// still holds the peer (inet_getname() checks the state only for that
// call); getsockopt(SO_PEERNAME) asks the same function without the check.
//
//   absl::StatusOr<SocketAddress> peer =
//       internal::PeerAddress(sys, fd, AF_INET, ctx);  // empty: none

#ifndef SOCCR_INTERNAL_PEER_ADDRESS_H_
#define SOCCR_INTERNAL_PEER_ADDRESS_H_

#include "absl/status/statusor.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/internal/error_context.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

// The peer of `fd` (a socket of `family`) by SO_PEERNAME, in every state;
// empty if it has none (never connected). Errors name the step and errno.
[[nodiscard]] absl::StatusOr<SocketAddress> PeerAddress(
    const sys::Sys& sys, BorrowedFd fd, int family, const ErrorContext& ctx);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_PEER_ADDRESS_H_
