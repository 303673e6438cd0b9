// soccr/paused_socket_addresses.h: the addresses of a paused socket, as the
// kernel has them now.
//
//   absl::StatusOr<soccr::SocketAddress> peer = soccr::PeerAddressOf(paused);
//   if (!peer.ok()) return peer.status();  // e.g. never connected
//
// A checkpoint reports both (ConnectionState's local and peer); these read
// them without one, in every state. getpeername() says ENOTCONN in CLOSE
// and SYN_SENT although the kernel still holds the peer (inet_getname()
// checks the state only for that call), so the peer is read with
// getsockopt(SO_PEERNAME), which asks the same function without the check.

#ifndef SOCCR_PAUSED_SOCKET_ADDRESSES_H_
#define SOCCR_PAUSED_SOCKET_ADDRESSES_H_

#include "absl/status/statusor.h"
#include "soccr/address.h"
#include "soccr/paused_socket.h"

namespace soccr {

// The local address of the socket `paused` holds (getsockname). Errors,
// prefixed "get address fd <n>": the failed call; FailedPrecondition if the
// address is neither IPv4 nor IPv6.
[[nodiscard]] absl::StatusOr<SocketAddress> LocalAddressOf(
    const PausedSocket& paused);

// The peer's address of the socket `paused` holds, in every state
// (getsockname for the family, then getsockopt(SO_PEERNAME)). Errors as for
// LocalAddressOf, and the failed getsockopt's ENOTCONN if the socket has no
// peer (a listener, or a socket never connected).
[[nodiscard]] absl::StatusOr<SocketAddress> PeerAddressOf(
    const PausedSocket& paused);

}  // namespace soccr

#endif  // SOCCR_PAUSED_SOCKET_ADDRESSES_H_
