#include "soccr/unix/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"
#include "soccr/status_macros.h"
#include "soccr/unix/unix_address.h"

namespace soccr {
namespace {

using unix_internal::SockaddrUn;
using unix_internal::ToSockaddr;

absl::Status Errno(int err, const std::string& where, absl::string_view what) {
  return internal::ErrnoStatus(err, absl::StrCat(where, ": ", what));
}

absl::StatusOr<OwnedFd> NewSocket(UnixType type, const std::string& where) {
  OwnedFd fd(::socket(AF_UNIX, SockType(type) | SOCK_CLOEXEC, 0));
  if (!fd) return Errno(errno, where, "socket(AF_UNIX)");
  return fd;
}

absl::Status SetInt(int fd, int name, int value, const std::string& where,
                    const char* what) {
  if (::setsockopt(fd, SOL_SOCKET, name, &value, sizeof(value)) != 0) {
    return Errno(errno, where,
                 absl::StrCat("setsockopt(", what, ", ", value, ")"));
  }
  return absl::OkStatus();
}

absl::Status SetNonBlocking(int fd, bool on, const std::string& where) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return Errno(errno, where, "fcntl(F_GETFL)");
  const int want = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (::fcntl(fd, F_SETFL, want) != 0) {
    return Errno(errno, where, "fcntl(F_SETFL)");
  }
  return absl::OkStatus();
}

// A name bound by this restore, with the identity of the file it created
// (for a path), so that only that file is ever removed.
struct BoundName {
  std::string path;  // empty: abstract or nothing to remove
  dev_t dev = 0;
  ino_t ino = 0;
};

absl::StatusOr<BoundName> Bind(int fd, const UnixAddress& name,
                               const std::string& where) {
  SOCCR_ASSIGN_OR_RETURN(const SockaddrUn sa, ToSockaddr(name));
  if (::bind(fd, sa.get(), sa.len) != 0) {
    const int err = errno;
    if (err == EADDRINUSE) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": bind(", name.ToString(),
          "): Address already in use: the name is still held (the original "
          "socket open, or its file left behind); close or remove it first"));
    }
    return Errno(err, where, absl::StrCat("bind(", name.ToString(), ")"));
  }
  BoundName b;
  if (name.kind == UnixAddress::Kind::kPath) {
    struct stat st;
    if (::stat(name.name.c_str(), &st) == 0) {
      b.path = name.name;
      b.dev = st.st_dev;
      b.ino = st.st_ino;
    }
  }
  return b;
}

// Removes the file `b` names if it is still the one this restore bound.
void RemoveIfOurs(const BoundName& b) {
  if (b.path.empty()) return;
  struct stat st;
  if (::stat(b.path.c_str(), &st) == 0 && st.st_dev == b.dev &&
      st.st_ino == b.ino) {
    ::unlink(b.path.c_str());
  }
}

// Sends `m` from `fd` to its connected peer, never blocking.
absl::Status SendMessage(int fd, UnixType type, const UnixMessage& m,
                         size_t index, const std::string& where) {
  size_t sent = 0;
  do {
    struct iovec iov = {const_cast<char*>(m.data.data()) + sent,
                        m.data.size() - sent};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(struct ucred))];
    if (m.credentials.has_value()) {
      memset(control, 0, sizeof(control));
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_CREDENTIALS;
      cm->cmsg_len = CMSG_LEN(sizeof(struct ucred));
      const struct ucred u = {m.credentials->pid, m.credentials->uid,
                              m.credentials->gid};
      memcpy(CMSG_DATA(cm), &u, sizeof(u));
    }
    const ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      const std::string what =
          absl::StrCat("queue message ", index, " (", m.data.size(),
                       " bytes) again: ", "sendmsg");
      if (err == EPERM && m.credentials.has_value()) {
        return absl::FailedPreconditionError(absl::StrCat(
            where, ": ", what, "(SCM_CREDENTIALS pid ", m.credentials->pid,
            " uid ", m.credentials->uid, " gid ", m.credentials->gid,
            "): Operation not permitted: this process cannot send another "
            "process's credentials"));
      }
      if (err == EAGAIN || err == ENOBUFS || err == EMSGSIZE) {
        return absl::ResourceExhaustedError(absl::StrCat(
            where, ": ", what, ": ", strerror(err),
            ": the queue does not fit the new socket's send buffer"));
      }
      return Errno(err, where, what);
    }
    sent += static_cast<size_t>(n);
    // A seqpacket or dgram message goes whole or not at all.
  } while (type == UnixType::kStream && sent < m.data.size());
  return absl::OkStatus();
}

// Queues `queue` into the receive queue of `to` by sending it from `from`.
absl::Status Requeue(int from, const UnixSocketState& to_state,
                     const std::string& where) {
  if (to_state.queue.empty()) return absl::OkStatus();
  // Room for the whole queue in the sender's buffer while it is queued: a
  // privileged caller gets exactly enough (SO_SNDBUFFORCE); anyone else as
  // much as net.core.wmem_max allows. The recorded size is set afterwards.
  const uint64_t bytes = to_state.QueuedBytes();
  const uint64_t want64 = bytes * 2 + to_state.queue.size() * 1024 + 65536;
  const int want =
      want64 > INT_MAX / 2 ? INT_MAX / 2 : static_cast<int>(want64);
  if (::setsockopt(from, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) !=
      0) {
    // EPERM without CAP_NET_ADMIN: the kernel caps SO_SNDBUF instead.
    SOCCR_RETURN_IF_ERROR(SetInt(from, SO_SNDBUF, want, where, "SO_SNDBUF"));
  }
  for (size_t i = 0; i < to_state.queue.size(); ++i) {
    SOCCR_RETURN_IF_ERROR(
        SendMessage(from, to_state.type, to_state.queue[i], i, where));
  }
  return absl::OkStatus();
}

// Options and shutdowns, once the data is queued. SO_PASSCRED comes after
// the sends because the kernel autobinds an unnamed dgram sender that has
// it on.
absl::Status ApplyOptions(int fd, const UnixSocketState& s, bool peek_offset,
                          const std::string& where) {
  // getsockopt reports twice what setsockopt was given (the kernel doubles
  // it for its bookkeeping): halve it back.
  SOCCR_RETURN_IF_ERROR(
      SetInt(fd, SO_SNDBUF, s.send_buffer / 2, where, "SO_SNDBUF"));
  SOCCR_RETURN_IF_ERROR(
      SetInt(fd, SO_RCVBUF, s.receive_buffer / 2, where, "SO_RCVBUF"));
  if (s.pass_credentials) {
    SOCCR_RETURN_IF_ERROR(SetInt(fd, SO_PASSCRED, 1, where, "SO_PASSCRED"));
  }
  if (s.pass_security) {
    SOCCR_RETURN_IF_ERROR(SetInt(fd, SO_PASSSEC, 1, where, "SO_PASSSEC"));
  }
  if (peek_offset && s.peek_offset >= 0) {
    SOCCR_RETURN_IF_ERROR(
        SetInt(fd, SO_PEEK_OFF, s.peek_offset, where, "SO_PEEK_OFF"));
  }
  return absl::OkStatus();
}

absl::Status ApplyShutdown(int fd, const UnixSocketState& s,
                           const std::string& where) {
  if (s.shutdown_send && ::shutdown(fd, SHUT_WR) != 0) {
    return Errno(errno, where, "shutdown(SHUT_WR)");
  }
  if (s.shutdown_receive && ::shutdown(fd, SHUT_RD) != 0) {
    return Errno(errno, where, "shutdown(SHUT_RD)");
  }
  return absl::OkStatus();
}

absl::Status Connect(int fd, const UnixAddress& to, const std::string& where) {
  SOCCR_ASSIGN_OR_RETURN(const SockaddrUn sa, ToSockaddr(to));
  for (;;) {
    if (::connect(fd, sa.get(), sa.len) == 0) return absl::OkStatus();
    const int err = errno;
    if (err == EINTR) continue;
    const std::string what = absl::StrCat("connect(", to.ToString(), ")");
    if (err == ECONNREFUSED || err == ENOENT || err == EAGAIN) {
      return absl::UnavailableError(absl::StrCat(
          where, ": ", what, ": ", strerror(err),
          err == EAGAIN ? " (the listener's backlog is full)" : ""));
    }
    return Errno(err, where, what);
  }
}

// Creates two connected sockets for a named pair.
absl::StatusOr<RestoredUnixPair> CreateNamedPair(const UnixPairState& p,
                                                 const std::string& where) {
  const UnixType type = p.a.type;
  SOCCR_ASSIGN_OR_RETURN(OwnedFd a, NewSocket(type, where));
  SOCCR_ASSIGN_OR_RETURN(OwnedFd b, NewSocket(type, where));
  // Stream, seqpacket: one end was accepted on a listener bound to its own
  // name, which is the other end's peer name.
  const bool a_listened = p.a.local.named() && p.a.local == p.b.peer;
  const bool b_listened = p.b.local.named() && p.b.local == p.a.peer;
  if (type == UnixType::kDgram || (!a_listened && !b_listened)) {
    // A socketpair whose ends were bound afterwards (or autobound: a dgram
    // sender with SO_PASSCRED gets a name on its first send), or a dgram
    // pair: the kernel lets a connected socket be bound, and getpeername
    // reads the peer's current name, so socketpair() and bind() give both
    // ends their names back.
    int sv[2];
    if (::socketpair(AF_UNIX, SockType(type) | SOCK_CLOEXEC, 0, sv) != 0) {
      return Errno(errno, where, "socketpair");
    }
    a.reset(sv[0]);
    b.reset(sv[1]);
    BoundName unused;
    if (p.a.local.named()) {
      SOCCR_ASSIGN_OR_RETURN(unused, Bind(a.get(), p.a.local, where));
    }
    if (p.b.local.named()) {
      SOCCR_ASSIGN_OR_RETURN(unused, Bind(b.get(), p.b.local, where));
    }
    return RestoredUnixPair{std::move(a), std::move(b)};
  }
  const UnixSocketState& server = b_listened ? p.b : p.a;
  const UnixSocketState& client = b_listened ? p.a : p.b;
  OwnedFd& client_fd = b_listened ? a : b;
  SOCCR_ASSIGN_OR_RETURN(OwnedFd listener, NewSocket(type, where));
  SOCCR_ASSIGN_OR_RETURN(const BoundName bound,
                         Bind(listener.get(), server.local, where));
  absl::StatusOr<OwnedFd> accepted = [&]() -> absl::StatusOr<OwnedFd> {
    if (::listen(listener.get(), 1) != 0) {
      return Errno(errno, where, "listen");
    }
    if (client.local.named()) {
      SOCCR_ASSIGN_OR_RETURN(BoundName unused,
                             Bind(client_fd.get(), client.local, where));
      (void)unused;
    }
    SOCCR_RETURN_IF_ERROR(SetNonBlocking(client_fd.get(), true, where));
    SOCCR_RETURN_IF_ERROR(Connect(client_fd.get(), server.local, where));
    SOCCR_RETURN_IF_ERROR(SetNonBlocking(client_fd.get(), false, where));
    // The connection is complete once connect() returned: accept does not
    // wait.
    OwnedFd fd(::accept4(listener.get(), nullptr, nullptr,
                         SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) return Errno(errno, where, "accept4");
    SOCCR_RETURN_IF_ERROR(SetNonBlocking(fd.get(), false, where));
    return fd;
  }();
  listener.reset();
  RemoveIfOurs(bound);
  if (!accepted.ok()) return accepted.status();
  if (b_listened) {
    b = *std::move(accepted);
  } else {
    a = *std::move(accepted);
  }
  return RestoredUnixPair{std::move(a), std::move(b)};
}

}  // namespace

absl::StatusOr<RestoredUnixPair> RestoreUnixPair(const UnixPairState& p) {
  const std::string where =
      absl::StrCat("restore unix pair ", p.a.Describe(), " / ", p.b.Describe());
  if (p.a.type != p.b.type) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": the two ends differ in type"));
  }
  if (p.a.state != UnixSocketState::State::kConnected ||
      p.b.state != UnixSocketState::State::kConnected) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": both ends must be connected"));
  }
  RestoredUnixPair pair;
  if (!p.a.local.named() && !p.b.local.named()) {
    int sv[2];
    if (::socketpair(AF_UNIX, SockType(p.a.type) | SOCK_CLOEXEC, 0, sv) != 0) {
      return Errno(errno, where, "socketpair");
    }
    pair.a.reset(sv[0]);
    pair.b.reset(sv[1]);
  } else {
    SOCCR_ASSIGN_OR_RETURN(pair, CreateNamedPair(p, where));
  }
  // Each end's receive queue is sent by the other, before any shutdown
  // (a shut-down sender or receiver refuses it: EPIPE).
  SOCCR_RETURN_IF_ERROR(Requeue(pair.b.get(), p.a, where));
  SOCCR_RETURN_IF_ERROR(Requeue(pair.a.get(), p.b, where));
  SOCCR_RETURN_IF_ERROR(ApplyOptions(pair.a.get(), p.a, true, where));
  SOCCR_RETURN_IF_ERROR(ApplyOptions(pair.b.get(), p.b, true, where));
  SOCCR_RETURN_IF_ERROR(ApplyShutdown(pair.a.get(), p.a, where));
  SOCCR_RETURN_IF_ERROR(ApplyShutdown(pair.b.get(), p.b, where));
  return pair;
}

absl::StatusOr<ReconnectedUnixSocket> RestoreUnixReconnect(
    const UnixSocketState& s, const UnixReconnectOptions& options) {
  const std::string where = absl::StrCat("restore ", s.Describe());
  if (s.state != UnixSocketState::State::kConnected) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": not a connected socket"));
  }
  if (!options.allow_reconnect) {
    return absl::FailedPreconditionError(absl::StrCat(
        where,
        ": its peer is not being restored with it; it can only be "
        "reconnected (the peer sees the old connection end and a new "
        "one begin), which the caller must allow"));
  }
  const UnixAddress& target = options.address ? *options.address : s.peer;
  if (!target.named()) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": the peer has no name to reconnect to; give one"));
  }
  SOCCR_ASSIGN_OR_RETURN(OwnedFd fd, NewSocket(s.type, where));
  if (s.local.named()) {
    SOCCR_ASSIGN_OR_RETURN(BoundName unused, Bind(fd.get(), s.local, where));
    (void)unused;
  }
  // Non-blocking: a stream connect to a listener with a full backlog
  // would wait.
  SOCCR_RETURN_IF_ERROR(SetNonBlocking(fd.get(), true, where));
  SOCCR_RETURN_IF_ERROR(Connect(fd.get(), target, where));
  SOCCR_RETURN_IF_ERROR(SetNonBlocking(fd.get(), false, where));
  // The peek offset pointed into a queue that is not re-created.
  // Neither the shutdowns: they belonged to the old connection (its peer's
  // close sets both), and sk_shutdown does not tell who shut it.
  SOCCR_RETURN_IF_ERROR(ApplyOptions(fd.get(), s, false, where));
  return ReconnectedUnixSocket{std::move(fd), s.queue};
}

}  // namespace soccr
