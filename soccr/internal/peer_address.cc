#include "soccr/internal/peer_address.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"

namespace soccr::internal {

absl::StatusOr<SocketAddress> PeerAddress(const sys::Sys& sys, BorrowedFd fd,
                                          int family, const ErrorContext& ctx) {
  struct sockaddr_storage ss = {};
  // The kernel refuses a buffer longer than the address.
  const size_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                        : sizeof(struct sockaddr_in);
  const sys::Result<socklen_t> r =
      sys.GetSockOpt(fd, SOL_SOCKET, SO_PEERNAME,
                     absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(&ss), len));
  if (!r.ok()) {
    if (r.err == ENOTCONN) return SocketAddress();
    return ctx.SysError("read peer address (SO_PEERNAME)", r);
  }
  absl::StatusOr<SocketAddress> a = SocketAddress::FromSockaddr(
      reinterpret_cast<const struct sockaddr*>(&ss), r.value);
  if (!a.ok()) {
    return ctx.Error(absl::StatusCode::kInternal,
                     absl::StrCat("SO_PEERNAME: ", a.status().message()));
  }
  return *a;
}

}  // namespace soccr::internal
