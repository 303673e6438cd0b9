// soccr/unix/unix_address.h: UnixAddress to and from struct sockaddr_un.
//
//   absl::StatusOr<UnixAddress> a = unix_internal::GetUnixAddress(fd, false);
//   absl::StatusOr<SockaddrUn> sa = unix_internal::ToSockaddr(*a);
//   bind(fd, sa->get(), sa->len);

#ifndef SOCCR_UNIX_UNIX_ADDRESS_H_
#define SOCCR_UNIX_UNIX_ADDRESS_H_

#include <sys/socket.h>
#include <sys/un.h>

#include "absl/status/statusor.h"
#include "soccr/unix/unix_socket.h"

namespace soccr::unix_internal {

// A sockaddr_un and the length that goes with it.
struct SockaddrUn {
  struct sockaddr_un addr = {};
  socklen_t len = 0;
  const struct sockaddr* get() const {
    return reinterpret_cast<const struct sockaddr*>(&addr);
  }
};

// getsockname (`peer` false) or getpeername (`peer` true) of `fd`; a socket
// with no peer (ENOTCONN) has an unnamed one.
[[nodiscard]] absl::StatusOr<UnixAddress> GetUnixAddress(int fd, bool peer);

// Decodes what the kernel returned: `len` bytes of `sa`.
UnixAddress FromSockaddr(const struct sockaddr_un& sa, socklen_t len);

// Encodes `a` (named) for bind/connect. InvalidArgument for an unnamed one,
// a name too long for sun_path, or a path with a NUL in it.
[[nodiscard]] absl::StatusOr<SockaddrUn> ToSockaddr(const UnixAddress& a);

}  // namespace soccr::unix_internal

#endif  // SOCCR_UNIX_UNIX_ADDRESS_H_
