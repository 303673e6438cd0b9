#include "soccr/paused_socket_addresses.h"

#include <errno.h>

#include "soccr/internal/error_context.h"
#include "soccr/internal/peer_address.h"
#include "soccr/status_macros.h"

namespace soccr {

absl::StatusOr<SocketAddress> LocalAddressOf(const PausedSocket& paused) {
  const internal::ErrorContext ctx("get address", paused.fd());
  const sys::Result<SocketAddress> local =
      paused.sys().GetSockName(paused.fd());
  if (!local.ok()) return ctx.SysError("read local address", local);
  if (local.value.empty()) {
    return ctx.Error(absl::StatusCode::kFailedPrecondition,
                     "the address is neither IPv4 nor IPv6");
  }
  return local.value;
}

absl::StatusOr<SocketAddress> PeerAddressOf(const PausedSocket& paused) {
  SOCCR_ASSIGN_OR_RETURN(const SocketAddress local, LocalAddressOf(paused));
  const internal::ErrorContext ctx("get address", paused.fd());
  SOCCR_ASSIGN_OR_RETURN(
      SocketAddress peer,
      internal::PeerAddress(paused.sys(), paused.fd(), local.family(), ctx));
  if (peer.empty()) {
    // What getsockopt(SO_PEERNAME) said: internal::PeerAddress reports it
    // as none, which a checkpoint wants; without a peer there is no answer.
    return ctx.SysError("read peer address (SO_PEERNAME)",
                        sys::Result<void>{ENOTCONN, sys::Op::kGetSockOpt});
  }
  return peer;
}

}  // namespace soccr
