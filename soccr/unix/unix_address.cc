#include "soccr/unix/unix_address.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"

namespace soccr::unix_internal {

UnixAddress FromSockaddr(const struct sockaddr_un& sa, socklen_t len) {
  constexpr size_t kPathOffset = offsetof(struct sockaddr_un, sun_path);
  UnixAddress a;
  if (len <= kPathOffset) return a;  // unnamed: only sun_family
  const size_t n = std::min<size_t>(len - kPathOffset, sizeof(sa.sun_path));
  if (sa.sun_path[0] == '\0') {
    a.kind = UnixAddress::Kind::kAbstract;
    a.name.assign(sa.sun_path + 1, n - 1);
  } else {
    a.kind = UnixAddress::Kind::kPath;
    a.name.assign(sa.sun_path, strnlen(sa.sun_path, n));
  }
  return a;
}

absl::StatusOr<UnixAddress> GetUnixAddress(int fd, bool peer) {
  struct sockaddr_un sa = {};
  socklen_t len = sizeof(sa);
  const int r = peer
                    ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len)
                    : ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  if (r != 0) {
    if (peer && errno == ENOTCONN) return UnixAddress{};
    return internal::ErrnoStatus(
        errno, absl::StrCat("unix socket fd ", fd, ": ",
                            peer ? "getpeername" : "getsockname"));
  }
  return FromSockaddr(sa, len);
}

absl::StatusOr<SockaddrUn> ToSockaddr(const UnixAddress& a) {
  SockaddrUn s;
  s.addr.sun_family = AF_UNIX;
  constexpr size_t kPathOffset = offsetof(struct sockaddr_un, sun_path);
  switch (a.kind) {
    case UnixAddress::Kind::kUnnamed:
      return absl::InvalidArgumentError(
          "an unnamed unix address cannot be "
          "bound or connected to");
    case UnixAddress::Kind::kPath:
      // The kernel takes the path up to its NUL: one inside it would name
      // another file.
      if (a.name.empty() || a.name.find('\0') != std::string::npos ||
          a.name.size() > kMaxUnixPathLength) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unix path ", a.ToString(), ": empty, too long (", a.name.size(),
            " > ", kMaxUnixPathLength, ") or with a NUL byte"));
      }
      memcpy(s.addr.sun_path, a.name.data(), a.name.size());
      s.len = static_cast<socklen_t>(kPathOffset + a.name.size() + 1);
      return s;
    case UnixAddress::Kind::kAbstract:
      if (a.name.size() > kMaxUnixAbstractLength) {
        return absl::InvalidArgumentError(
            absl::StrCat("abstract unix name ", a.ToString(), " too long (",
                         a.name.size(), " > ", kMaxUnixAbstractLength, ")"));
      }
      memcpy(s.addr.sun_path + 1, a.name.data(), a.name.size());
      s.len = static_cast<socklen_t>(kPathOffset + 1 + a.name.size());
      return s;
  }
  return absl::InvalidArgumentError("unix address of unknown kind");
}

}  // namespace soccr::unix_internal
