#include "soccr/migrate/endpoint.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "soccr/internal/status_code.h"

namespace soccr::migrate {
namespace {

int PollMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un a = {};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(a.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unix socket path \"", path, "\": empty or too long"));
  }
  memcpy(a.sun_path, path.data(), path.size());
  return a;
}

std::string Name(const Endpoint& e) {
  return e.unix_path.empty() ? e.tcp.ToString()
                             : absl::StrCat("unix:", e.unix_path);
}

absl::Status Prefixed(absl::string_view prefix, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

}  // namespace

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text) {
  Endpoint e;
  if (absl::ConsumePrefix(&text, "unix:")) {
    e.unix_path = std::string(text);
    if (absl::StatusOr<sockaddr_un> a = UnixAddress(e.unix_path); !a.ok()) {
      return a.status();
    }
    return e;
  }
  absl::StatusOr<SocketAddress> a = SocketAddress::Parse(text);
  if (!a.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint \"", text, "\": want unix:PATH or HOST:PORT (",
                     a.status().message(), ")"));
  }
  e.tcp = *a;
  return e;
}

absl::Status CheckCredentials(const struct ucred& cred,
                              const PeerPolicy& policy,
                              absl::string_view role) {
  if (policy.any || cred.uid == policy.uid || (policy.root && cred.uid == 0)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("the ", role, " (pid ", cred.pid, ", uid ", cred.uid,
                   ") is neither this user (uid ", policy.uid, ")",
                   policy.root ? " nor root" : ""));
}

absl::Status CheckUnixPeer(BorrowedFd fd, const PeerPolicy& policy,
                           absl::string_view role) {
  sockaddr_storage a = {};
  socklen_t len = sizeof(a);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    return internal::ErrnoStatus(errno, "getsockname");
  }
  if (a.ss_family != AF_UNIX || policy.any) return absl::OkStatus();
  struct ucred cred = {};
  socklen_t clen = sizeof(cred);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
    return internal::ErrnoStatus(errno, "getsockopt(SO_PEERCRED)");
  }
  return CheckCredentials(cred, policy, role);
}

absl::StatusOr<OwnedFd> Connect(const Endpoint& e, absl::Time deadline,
                                const PeerPolicy& policy) {
  const std::string what = absl::StrCat("connect to ", Name(e));
  for (;;) {
    OwnedFd s(::socket(e.unix_path.empty() ? e.tcp.family() : AF_UNIX,
                       SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s) return internal::ErrnoStatus(errno, absl::StrCat(what, ": socket"));
    int r;
    if (e.unix_path.empty()) {
      r = ::connect(s.get(), e.tcp.sockaddr(), e.tcp.length());
    } else {
      absl::StatusOr<sockaddr_un> a = UnixAddress(e.unix_path);
      if (!a.ok()) return a.status();
      r = ::connect(s.get(), reinterpret_cast<const sockaddr*>(&*a),
                    sizeof(*a));
    }
    int err = r == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      struct pollfd p = {s.get(), POLLOUT, 0};
      const int n = ::poll(&p, 1, PollMs(deadline));
      if (n == 0) {
        return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
      }
      socklen_t len = sizeof(err);
      ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err == 0) {
      // Whom we hand the connections to: a socket file anyone could have
      // made must belong to our user's (or root's) receiver.
      if (absl::Status st = CheckUnixPeer(s.borrow(), policy, "receiver");
          !st.ok()) {
        return Prefixed(absl::StrCat(what, ": "), st);
      }
      return s;
    }
    // Not listening yet (or a stale socket file): try again until the
    // deadline.
    if ((err == ECONNREFUSED || err == ENOENT) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
      continue;
    }
    if (err == ECONNREFUSED || err == ENOENT) {
      return absl::UnavailableError(absl::StrCat(what, ": ", ::strerror(err),
                                                 " (is soccr receive "
                                                 "listening there?)"));
    }
    return internal::ErrnoStatus(err, what);
  }
}

absl::StatusOr<OwnedFd> Listen(const Endpoint& e) {
  const std::string what = absl::StrCat("listen on ", Name(e));
  OwnedFd s(::socket(e.unix_path.empty() ? e.tcp.family() : AF_UNIX,
                     SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s) return internal::ErrnoStatus(errno, absl::StrCat(what, ": socket"));
  int r;
  if (e.unix_path.empty()) {
    const int one = 1;
    (void)::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    r = ::bind(s.get(), e.tcp.sockaddr(), e.tcp.length());
  } else {
    absl::StatusOr<sockaddr_un> a = UnixAddress(e.unix_path);
    if (!a.ok()) return a.status();
    struct stat st = {};
    // Only a socket is replaced, never another kind of file.
    if (::lstat(e.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      (void)::unlink(e.unix_path.c_str());
    }
    r = ::bind(s.get(), reinterpret_cast<const sockaddr*>(&*a), sizeof(*a));
  }
  if (r != 0) return internal::ErrnoStatus(errno, absl::StrCat(what, ": bind"));
  if (::listen(s.get(), 4) != 0) {
    return internal::ErrnoStatus(errno, absl::StrCat(what, ": listen"));
  }
  return s;
}

absl::StatusOr<OwnedFd> Accept(BorrowedFd listener, absl::Time deadline,
                               const PeerPolicy& policy) {
  for (;;) {
    struct pollfd p = {listener.get(), POLLIN, 0};
    const int n = ::poll(&p, 1, PollMs(deadline));
    if (n == 0) {
      return absl::DeadlineExceededError("accept: no sender connected in time");
    }
    if (n < 0 && errno == EINTR) continue;
    OwnedFd c(::accept4(listener.get(), nullptr, nullptr,
                        SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!c) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return internal::ErrnoStatus(errno, "accept");
    }
    // Who is asking: a sender hands us connections to restore with our
    // privileges.
    if (absl::Status st = CheckUnixPeer(c.borrow(), policy, "sender");
        !st.ok()) {
      return Prefixed("accept: ", st);
    }
    return c;
  }
}

std::optional<ConnectionKey> TcpKey(BorrowedFd fd) {
  sockaddr_storage l = {}, p = {};
  socklen_t ll = sizeof(l), pl = sizeof(p);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&l), &ll) != 0 ||
      ::getpeername(fd.get(), reinterpret_cast<sockaddr*>(&p), &pl) != 0) {
    return std::nullopt;
  }
  absl::StatusOr<SocketAddress> local =
      SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&l), ll);
  absl::StatusOr<SocketAddress> peer =
      SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&p), pl);
  if (!local.ok() || !peer.ok()) return std::nullopt;
  return ConnectionKey{*local, *peer};
}

}  // namespace soccr::migrate
