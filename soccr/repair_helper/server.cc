#include "soccr/repair_helper/server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "soccr/internal/status_code.h"
#include "soccr/repair_helper/protocol.h"
#include "soccr/status_macros.h"

namespace soccr::repair_helper {
namespace {

absl::Status Errno(int err, absl::string_view what) {
  return internal::ErrnoStatus(err, what);
}

absl::StatusOr<int> GetInt(BorrowedFd fd, int level, int name,
                           absl::string_view what) {
  int v = 0;
  socklen_t len = sizeof(v);
  if (getsockopt(fd.get(), level, name, &v, &len) != 0) {
    return Errno(errno, absl::StrCat("getsockopt(", what, ")"));
  }
  return v;
}

int PollTimeoutMs(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return -1;
  const int64_t ms = absl::ToInt64Milliseconds(d);
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 1 << 30));
}

absl::StatusOr<struct sockaddr_un> UnixAddress(const std::string& path) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unix socket path \"%s\": empty or longer than %d "
                        "bytes",
                        path, sizeof(addr.sun_path) - 1));
  }
  memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// What is at `path` when a helper wants to listen there: a socket file that
// a helper which died left behind is removed (OK); a live helper's is
// AlreadyExists; anything else is `err`, the error of the call that found
// the name taken.
absl::Status RemoveStaleSocket(const std::string& path,
                               const struct sockaddr_un& addr, int err,
                               absl::string_view call) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return Errno(err, absl::StrCat(call, "(", path, ")"));
  }
  OwnedFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (probe &&
      connect(probe.get(), reinterpret_cast<const struct sockaddr*>(&addr),
              sizeof(addr)) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat(path, ": another helper is listening there"));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Errno(errno, absl::StrCat("unlink(", path, ")"));
  }
  return absl::OkStatus();
}

// A socket listening at `path`, which appears only once it accepts
// connections: bind() alone creates the file, and a client that finds it and
// connects before listen() is refused. So the socket is bound and listening
// under a temporary name beside `path` first and then linked to `path`, which
// link() does without replacing anything there. A path too long for the
// temporary name is bound in place.
absl::StatusOr<OwnedFd> ListenAt(const std::string& path,
                                 const struct sockaddr_un& addr) {
  OwnedFd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) return Errno(errno, "socket(AF_UNIX)");
  const auto* sa = reinterpret_cast<const struct sockaddr*>(&addr);
  const std::string temp = absl::StrCat(path, ".", getpid());
  absl::StatusOr<struct sockaddr_un> temp_addr = UnixAddress(temp);
  if (!temp_addr.ok()) {
    if (bind(listener.get(), sa, sizeof(addr)) != 0) {
      if (absl::Status s = RemoveStaleSocket(path, addr, errno, "bind");
          !s.ok()) {
        return s;
      }
      if (bind(listener.get(), sa, sizeof(addr)) != 0) {
        return Errno(errno, absl::StrCat("bind(", path, ")"));
      }
    }
    if (listen(listener.get(), 64) != 0) return Errno(errno, "listen");
    return listener;
  }
  // Left by a helper of the same pid that was killed before it linked it.
  unlink(temp.c_str());
  if (bind(listener.get(),
           reinterpret_cast<const struct sockaddr*>(&*temp_addr),
           sizeof(*temp_addr)) != 0) {
    return Errno(errno, absl::StrCat("bind(", temp, ")"));
  }
  absl::Status result = absl::OkStatus();
  if (listen(listener.get(), 64) != 0) {
    result = Errno(errno, "listen");
  } else if (link(temp.c_str(), path.c_str()) != 0) {
    result = RemoveStaleSocket(path, addr, errno, "link");
    if (result.ok() && link(temp.c_str(), path.c_str()) != 0) {
      result = Errno(errno, absl::StrCat("link(", temp, ", ", path, ")"));
    }
  }
  unlink(temp.c_str());
  if (!result.ok()) return result;
  return listener;
}

}  // namespace

absl::StatusOr<NetnsId> CurrentNetns() {
  struct stat st;
  if (stat("/proc/thread-self/ns/net", &st) != 0) {
    return Errno(errno, "stat(/proc/thread-self/ns/net)");
  }
  return NetnsId{st.st_dev, st.st_ino};
}

absl::Status CheckPeer(BorrowedFd conn, const Policy& policy) {
  struct ucred cred = {};
  socklen_t len = sizeof(cred);
  if (getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return Errno(errno, "getsockopt(SO_PEERCRED)");
  }
  if (std::find(policy.allowed_uids.begin(), policy.allowed_uids.end(),
                cred.uid) == policy.allowed_uids.end()) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "peer pid %d uid %d is not allowed (allowed: %s)", cred.pid, cred.uid,
        policy.allowed_uids.empty() ? std::string("nobody")
                                    : absl::StrJoin(policy.allowed_uids, ",")));
  }
  return absl::OkStatus();
}

absl::Status CheckSocket(BorrowedFd fd, const Policy& policy) {
  // SO_DOMAIN first: it fails with ENOTSOCK on anything but a socket.
  absl::StatusOr<int> domain = GetInt(fd, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN");
  if (!domain.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a socket: ", domain.status().message()));
  }
  if (*domain != AF_INET && *domain != AF_INET6) {
    return absl::InvalidArgumentError(
        absl::StrFormat("not a TCP socket (address family %d)", *domain));
  }
  absl::StatusOr<int> type = GetInt(fd, SOL_SOCKET, SO_TYPE, "SO_TYPE");
  if (!type.ok()) return type.status();
  absl::StatusOr<int> protocol =
      GetInt(fd, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL");
  if (!protocol.ok()) return protocol.status();
  // MPTCP sockets are SOCK_STREAM of protocol IPPROTO_MPTCP: refused here,
  // as the kernel has no repair mode for them.
  if (*type != SOCK_STREAM || *protocol != IPPROTO_TCP) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "not a TCP socket (type %d, protocol %d)", *type, *protocol));
  }
  // The kernel refuses repair mode to listeners too (tcp_can_repair_sock);
  // refusing them here keeps that rule whatever the kernel does.
  absl::StatusOr<int> listening =
      GetInt(fd, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN");
  if (!listening.ok()) return listening.status();
  if (*listening != 0) {
    return absl::InvalidArgumentError("a listening socket");
  }
  if (!policy.any_netns) {
    // A socket of another network namespace: the caller reached a namespace
    // through us that it may hold sockets of but whose administrator did
    // not run this helper for it.
    const int ns = ioctl(fd.get(), SIOCGSKNS);
    if (ns < 0) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot tell the socket's network namespace: ioctl(SIOCGSKNS): ",
          strerror(errno)));
    }
    const OwnedFd ns_fd(ns);
    struct stat st;
    if (fstat(ns_fd.get(), &st) != 0) return Errno(errno, "fstat(netns)");
    if (!(NetnsId{st.st_dev, st.st_ino} == policy.netns)) {
      return absl::PermissionDeniedError(
          "a socket of another network namespace than the helper's");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ServeOneRequest(BorrowedFd conn, const Policy& policy) {
  uint8_t byte = 0;
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) uint8_t control[kControlBufferSize];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  // CLOEXEC: nothing received may leak into a child, should one be run.
  const ssize_t n = recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return true;  // nothing yet
    return Errno(errno, "recvmsg");
  }
  ParsedRequest req = ParseRequest(
      absl::MakeConstSpan(&byte, static_cast<size_t>(n)),
      absl::MakeConstSpan(control, msg.msg_controllen), msg.msg_flags);
  // Owned from here: closed on every path out.
  std::vector<OwnedFd> fds;
  fds.reserve(req.fds.size());
  for (int fd : req.fds) fds.emplace_back(fd);
  if (n == 0 && req.fds.empty()) return false;  // the peer is done
  if (!req.status.ok()) return req.status;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (absl::Status s = CheckSocket(fds[i].borrow(), policy); !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrFormat("descriptor %d of %d: %s", i + 1,
                                          fds.size(), s.message()));
    }
  }
  // All checked before any is switched, so that a refusal changes nothing.
  const int value = req.command;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (setsockopt(fds[i].get(), SOL_TCP, TCP_REPAIR, &value, sizeof(value)) !=
        0) {
      return Errno(errno, absl::StrFormat(
                              "descriptor %d of %d: setsockopt(TCP_REPAIR, %d)",
                              i + 1, fds.size(), value));
    }
  }
  // The reply must not block on a peer that stops reading: MSG_DONTWAIT
  // (a one-byte reply to a peer that reads its replies always fits).
  if (send(conn.get(), &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1) {
    return Errno(errno, "send(reply)");
  }
  return true;
}

absl::Status ServeConnection(BorrowedFd conn, const Policy& policy) {
  for (;;) {
    struct pollfd p = {conn.get(), POLLIN, 0};
    const int r = poll(&p, 1, PollTimeoutMs(policy.idle_timeout));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, "poll");
    }
    if (r == 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no request for ", absl::FormatDuration(policy.idle_timeout)));
    }
    absl::StatusOr<bool> served = ServeOneRequest(conn, policy);
    if (!served.ok()) return served.status();
    if (!*served) return absl::OkStatus();
  }
}

absl::Status ConnectAndServe(const std::string& path, Policy policy) {
  absl::StatusOr<struct sockaddr_un> addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Errno(errno, absl::StrCat("stat(", path, ")"));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a unix socket"));
  }
  if (policy.allowed_uids.empty()) policy.allowed_uids = {st.st_uid};
  OwnedFd conn(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!conn) return Errno(errno, "socket(AF_UNIX)");
  if (connect(conn.get(), reinterpret_cast<const struct sockaddr*>(&*addr),
              sizeof(*addr)) != 0) {
    return Errno(errno, absl::StrCat("connect(", path, ")"));
  }
  SOCCR_RETURN_IF_ERROR(CheckPeer(conn.borrow(), policy));
  return ServeConnection(conn.borrow(), policy);
}

absl::Status ListenAndServe(const std::string& path, Policy policy,
                            const LogFn& log, const std::atomic<bool>& stop) {
  absl::StatusOr<struct sockaddr_un> addr = UnixAddress(path);
  if (!addr.ok()) return addr.status();
  if (policy.allowed_uids.empty()) policy.allowed_uids = {geteuid()};
  absl::StatusOr<OwnedFd> listening = ListenAt(path, *addr);
  if (!listening.ok()) return listening.status();
  OwnedFd listener = *std::move(listening);

  struct Client {
    OwnedFd fd;
    absl::Time deadline;
  };
  // Bounded, so that a flood of idle clients costs at most this many
  // descriptors; the kernel's backlog holds the rest until one leaves.
  constexpr size_t kMaxClients = 64;
  std::vector<Client> clients;
  absl::Status result = absl::OkStatus();
  while (!stop.load()) {
    std::vector<struct pollfd> pfds;
    pfds.push_back(
        {clients.size() < kMaxClients ? listener.get() : -1, POLLIN, 0});
    absl::Time next = absl::Now() + absl::Seconds(1);
    for (const Client& c : clients) {
      pfds.push_back({c.fd.get(), POLLIN, 0});
      next = std::min(next, c.deadline);
    }
    const int r =
        poll(pfds.data(), pfds.size(), PollTimeoutMs(next - absl::Now()) + 1);
    if (r < 0 && errno != EINTR) {
      result = Errno(errno, "poll");
      break;
    }
    const absl::Time now = absl::Now();
    std::vector<Client> kept;
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& c = clients[i];
      const short revents = r > 0 ? pfds[i + 1].revents : 0;
      if (revents != 0) {
        absl::StatusOr<bool> served = ServeOneRequest(c.fd.borrow(), policy);
        if (!served.ok()) {
          log(absl::StrCat("request refused, connection closed: ",
                           served.status().message()));
          continue;
        }
        if (!*served) continue;  // the client left
        c.deadline = now + policy.idle_timeout;
      } else if (now >= c.deadline) {
        log(absl::StrCat("idle for ", absl::FormatDuration(policy.idle_timeout),
                         ", connection closed"));
        continue;
      }
      kept.push_back(std::move(c));
    }
    clients = std::move(kept);
    if (r > 0 && (pfds[0].revents & POLLIN) != 0) {
      OwnedFd conn(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
          log(absl::StrCat("accept: ", strerror(errno)));
        }
        continue;
      }
      if (absl::Status s = CheckPeer(conn.borrow(), policy); !s.ok()) {
        log(absl::StrCat("client refused: ", s.message()));
        continue;
      }
      clients.push_back({std::move(conn), now + policy.idle_timeout});
    }
  }
  unlink(path.c_str());
  return result;
}

}  // namespace soccr::repair_helper
