#include "soccr/unix/checkpoint.h"

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"
#include "soccr/status_macros.h"
#include "soccr/unix/unix_address.h"
#include "soccr/unix/unix_diag.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

namespace soccr {
namespace {

// The kernel's sk_state values for unix sockets (include/net/tcp_states.h).
constexpr int kTcpEstablished = 1;
constexpr int kTcpListen = 10;

// The first peek buffer; a larger message is peeked again with a buffer of
// its size (MSG_TRUNC reports it).
constexpr size_t kFirstPeekBuffer = 64 * 1024;

// Room for the control data of one message: SCM_RIGHTS of up to
// SCM_MAX_FD (253) descriptors, SCM_CREDENTIALS, SCM_SECURITY (a label),
// SCM_PIDFD. Any of it that does not fit sets MSG_CTRUNC, which is refused.
constexpr size_t kControlBuffer = 4096;

absl::Status Errno(int err, const std::string& where, absl::string_view what) {
  return internal::ErrnoStatus(err, absl::StrCat(where, ": ", what));
}

absl::StatusOr<int> GetIntOption(int fd, int name, const std::string& where,
                                 const char* what) {
  int v = 0;
  socklen_t len = sizeof(v);
  if (::getsockopt(fd, SOL_SOCKET, name, &v, &len) != 0) {
    return Errno(errno, where, what);
  }
  return v;
}

absl::Status SetPeekOffset(int fd, int value, const std::string& where) {
  if (::setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &value, sizeof(value)) != 0) {
    return Errno(errno, where,
                 absl::StrCat("setsockopt(SO_PEEK_OFF, ", value, ")"));
  }
  return absl::OkStatus();
}

absl::Status SetPassCred(int fd, int value, const std::string& where) {
  if (::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &value, sizeof(value)) != 0) {
    return Errno(errno, where,
                 absl::StrCat("setsockopt(SO_PASSCRED, ", value, ")"));
  }
  return absl::OkStatus();
}

// What the control data of one peeked message held. Descriptors the
// kernel installed in this process while peeking are closed at once.
struct Control {
  int descriptors = 0;  // SCM_RIGHTS
  bool has_credentials = false;
  UnixCredentials credentials;
};

Control ParseControl(struct msghdr* msg) {
  Control c;
  for (struct cmsghdr* cm = CMSG_FIRSTHDR(msg); cm != nullptr;
       cm = CMSG_NXTHDR(msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET) continue;
    const size_t payload = cm->cmsg_len - CMSG_LEN(0);
    if (cm->cmsg_type == SCM_RIGHTS || cm->cmsg_type == SCM_PIDFD) {
      const size_t n = payload / sizeof(int);
      for (size_t i = 0; i < n; ++i) {
        int fd;
        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
        ::close(fd);
      }
      if (cm->cmsg_type == SCM_RIGHTS) c.descriptors += static_cast<int>(n);
    } else if (cm->cmsg_type == SCM_CREDENTIALS &&
               payload >= sizeof(struct ucred)) {
      struct ucred u;
      memcpy(&u, CMSG_DATA(cm), sizeof(u));
      c.has_credentials = true;
      c.credentials = UnixCredentials{u.pid, u.uid, u.gid};
    }
  }
  return c;
}

// Walks the receive queue with SO_PEEK_OFF (which the caller set to 0) and
// returns its messages. `record_credentials`: the socket had SO_PASSCRED.
// `credentials_mark_messages`: SO_PASSCRED is on (perhaps only for the
// walk), so every real message comes with SCM_CREDENTIALS and a 0 without
// them is a seqpacket socket's end of file, not an empty message.
absl::StatusOr<std::vector<UnixMessage>> PeekQueue(
    int fd, UnixType type, bool record_credentials,
    bool credentials_mark_messages, const std::string& where) {
  std::vector<UnixMessage> queue;
  // A stream's whole queue in one peek when it fits: SIOCINQ counts its
  // bytes (seqpacket: all messages' bytes; dgram: the first message's).
  int inq = 0;
  if (::ioctl(fd, SIOCINQ, &inq) != 0 || inq < 0) inq = 0;
  std::vector<char> buf(std::max<size_t>(
      kFirstPeekBuffer,
      type == UnixType::kStream ? static_cast<size_t>(inq) + 1 : 0));
  alignas(struct cmsghdr) char control[kControlBuffer];
  const bool stream = type == UnixType::kStream;
  uint64_t offset = 0;
  for (;;) {
    struct iovec iov = {buf.data(), buf.size()};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    // MSG_TRUNC: a dgram or seqpacket socket returns the message's whole
    // length even when it is longer than `buf` (a stream socket ignores it
    // when peeking... and would discard bytes without MSG_PEEK: never
    // without it).
    const int flags =
        MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (stream ? 0 : MSG_TRUNC);
    const ssize_t n = ::recvmsg(fd, &msg, flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;  // nothing after `offset`
      return Errno(errno, where,
                   absl::StrCat("peek the receive queue at byte ", offset,
                                ": recvmsg(MSG_PEEK)"));
    }
    const Control c = ParseControl(&msg);
    if (c.descriptors > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": message ", queue.size(), " of the receive queue (at byte ",
          offset, ") carries ", c.descriptors,
          " file descriptor(s) in flight (SCM_RIGHTS); they cannot be carried "
          "by a checkpoint: let the application receive them first"));
    }
    if (msg.msg_flags & MSG_CTRUNC) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": message ", queue.size(), " of the receive queue (at byte ",
          offset, ") has more control data than ", kControlBuffer,
          " bytes (MSG_CTRUNC): descriptors in flight or a security label "
          "that cannot be carried"));
    }
    if (n == 0 &&
        (stream || (credentials_mark_messages && !c.has_credentials))) {
      break;  // end of file: the peer shut down and nothing is left
    }
    if (!stream && static_cast<size_t>(n) > buf.size()) {
      // The peek moved the offset by what it copied: move it back and peek
      // the same message again, whole.
      SOCCR_RETURN_IF_ERROR(SetPeekOffset(fd, static_cast<int>(offset), where));
      buf.resize(static_cast<size_t>(n));
      continue;
    }
    if (record_credentials && c.has_credentials && c.credentials.pid == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": message ", queue.size(),
          " of the receive queue was sent by a process with no pid in this "
          "pid namespace (SCM_CREDENTIALS pid 0): its credentials cannot be "
          "re-created"));
    }
    std::optional<UnixCredentials> creds;
    if (record_credentials && c.has_credentials) creds = c.credentials;
    if (stream && !queue.empty() &&
        queue.back().credentials.has_value() == creds.has_value() &&
        (!creds.has_value() || *queue.back().credentials == *creds)) {
      queue.back().data.append(buf.data(), static_cast<size_t>(n));
    } else {
      queue.push_back(
          UnixMessage{std::string(buf.data(), static_cast<size_t>(n)), creds});
    }
    offset += static_cast<uint64_t>(n);
    if (offset > INT32_MAX) {
      // SO_PEEK_OFF is an int: a longer queue cannot be walked this way.
      return absl::ResourceExhaustedError(
          absl::StrCat(where,
                       ": the receive queue holds more than 2 GiB: SO_PEEK_OFF "
                       "cannot walk it"));
    }
  }
  if (!stream) {
    // Kernel fact: a zero-length message anyone peeked before is skipped by
    // every peek at an offset (__skb_try_recv_from_queue), so the walk
    // cannot see it. A peek without an offset still returns the head of
    // the queue, whatever it is: where the head is such a message, the walk
    // missed it, and the checkpoint is refused rather than lose it. (One
    // further down the queue cannot be seen at all.)
    SOCCR_RETURN_IF_ERROR(SetPeekOffset(fd, -1, where));
    char unused;
    struct iovec iov = {&unused, 0};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n;
    do {
      n = ::recvmsg(fd, &msg,
                    MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN) {
      return Errno(errno, where,
                   "peek the head of the receive queue: recvmsg(MSG_PEEK)");
    }
    const Control c = n >= 0 ? ParseControl(&msg) : Control{};
    const bool real =
        n > 0 || (n == 0 && (!credentials_mark_messages || c.has_credentials));
    if (real && (queue.empty() || !queue[0].data.empty()) &&
        (queue.empty() || queue[0].data.size() != static_cast<size_t>(n))) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": the head of the receive queue is a message of ", n,
          " bytes that the walk with SO_PEEK_OFF did not see: an empty "
          "message peeked before (by the application or an earlier "
          "checkpoint), which the kernel hides from peeks at an offset; "
          "let the application receive it first"));
    }
  }
  return queue;
}

}  // namespace

absl::StatusOr<UnixSocketState> CheckpointUnixSocket(BorrowedFd borrowed) {
  const int fd = borrowed.get();
  std::string where = absl::StrCat("checkpoint unix socket fd ", fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return Errno(errno, where, "fstat");
  if (!S_ISSOCK(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not a socket"));
  }
  SOCCR_ASSIGN_OR_RETURN(
      const int domain,
      GetIntOption(fd, SO_DOMAIN, where, "getsockopt(SO_DOMAIN)"));
  if (domain != AF_UNIX) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": not a unix socket (address family ", domain, ")"));
  }
  SOCCR_ASSIGN_OR_RETURN(
      const int sock_type,
      GetIntOption(fd, SO_TYPE, where, "getsockopt(SO_TYPE)"));
  UnixSocketState s;
  switch (sock_type) {
    case SOCK_STREAM:
      s.type = UnixType::kStream;
      break;
    case SOCK_DGRAM:
      s.type = UnixType::kDgram;
      break;
    case SOCK_SEQPACKET:
      s.type = UnixType::kSeqpacket;
      break;
    default:
      return absl::UnimplementedError(
          absl::StrCat(where, ": unix socket type ", sock_type));
  }
  s.inode = static_cast<uint64_t>(st.st_ino);
  SOCCR_ASSIGN_OR_RETURN(s.local, unix_internal::GetUnixAddress(fd, false));
  SOCCR_ASSIGN_OR_RETURN(s.peer, unix_internal::GetUnixAddress(fd, true));
  where = absl::StrCat("checkpoint ", s.Describe());

  uint64_t cookie = 0;
  socklen_t cookie_len = sizeof(cookie);
  if (::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &cookie_len) != 0) {
    return Errno(errno, where, "getsockopt(SO_COOKIE)");
  }
  absl::StatusOr<unix_internal::UnixDiag> diag =
      unix_internal::QueryUnixDiag(s.inode, cookie);
  if (!diag.ok()) {
    return absl::Status(diag.status().code(),
                        absl::StrCat(where, ": ", diag.status().message()));
  }
  switch (diag->state) {
    case kTcpListen:
      s.state = UnixSocketState::State::kListening;
      break;
    case kTcpEstablished:
      s.state = UnixSocketState::State::kConnected;
      break;
    default:
      s.state = UnixSocketState::State::kUnconnected;
      break;
  }
  s.peer_inode = diag->peer_inode;
  s.shutdown_receive = (diag->shutdown & 1) != 0;  // RCV_SHUTDOWN
  s.shutdown_send = (diag->shutdown & 2) != 0;     // SEND_SHUTDOWN

  SOCCR_ASSIGN_OR_RETURN(
      const int passcred,
      GetIntOption(fd, SO_PASSCRED, where, "getsockopt(SO_PASSCRED)"));
  SOCCR_ASSIGN_OR_RETURN(
      const int passsec,
      GetIntOption(fd, SO_PASSSEC, where, "getsockopt(SO_PASSSEC)"));
  SOCCR_ASSIGN_OR_RETURN(s.send_buffer, GetIntOption(fd, SO_SNDBUF, where,
                                                     "getsockopt(SO_SNDBUF)"));
  SOCCR_ASSIGN_OR_RETURN(
      s.receive_buffer,
      GetIntOption(fd, SO_RCVBUF, where, "getsockopt(SO_RCVBUF)"));
  SOCCR_ASSIGN_OR_RETURN(
      s.peek_offset,
      GetIntOption(fd, SO_PEEK_OFF, where, "getsockopt(SO_PEEK_OFF)"));
  s.pass_credentials = passcred != 0;
  s.pass_security = passsec != 0;
  {
    int pidfd = 0;
    socklen_t len = sizeof(pidfd);
    // ENOPROTOOPT: a kernel before 6.5 has no SO_PASSPIDFD, so it is off.
    if (::getsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &pidfd, &len) != 0) {
      if (errno != ENOPROTOOPT) {
        return Errno(errno, where, "getsockopt(SO_PASSPIDFD)");
      }
    } else if (pidfd != 0) {
      return absl::UnimplementedError(absl::StrCat(
          where,
          ": SO_PASSPIDFD is on: the pidfds of the senders of queued "
          "messages cannot be re-created by a restore"));
    }
  }

  if (s.state == UnixSocketState::State::kListening) {
    s.backlog = diag->wqueue;
    if (diag->rqueue > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": ", diag->rqueue,
          " connection(s) wait in the listener's backlog (sock_diag "
          "UNIX_DIAG_RQLEN); their clients would be cut off: accept them "
          "first"));
    }
    return s;
  }

  // Walk the queue from byte 0 with the socket's own peek offset set
  // aside; put it back whatever happens.
  SOCCR_RETURN_IF_ERROR(SetPeekOffset(fd, 0, where));
  // A seqpacket socket whose receive side is shut down returns 0 both for
  // an empty message and at the end of the queue; with SO_PASSCRED on,
  // only a real message comes with SCM_CREDENTIALS. It is turned on for
  // the walk only, and off again after.
  const bool temporary_passcred = s.type == UnixType::kSeqpacket &&
                                  s.shutdown_receive && !s.pass_credentials;
  absl::Status walk = absl::OkStatus();
  if (temporary_passcred) walk = SetPassCred(fd, 1, where);
  absl::StatusOr<std::vector<UnixMessage>> queue =
      walk.ok() ? PeekQueue(fd, s.type, s.pass_credentials,
                            s.pass_credentials || temporary_passcred, where)
                : walk;
  absl::Status restore_passcred =
      temporary_passcred ? SetPassCred(fd, 0, where) : absl::OkStatus();
  absl::Status restore_peek = SetPeekOffset(fd, s.peek_offset, where);
  if (!queue.ok()) return queue.status();
  SOCCR_RETURN_IF_ERROR(restore_passcred);
  SOCCR_RETURN_IF_ERROR(restore_peek);
  s.queue = *std::move(queue);
  return s;
}

absl::StatusOr<UnixPairState> CheckpointUnixPair(BorrowedFd a, BorrowedFd b) {
  UnixPairState pair;
  SOCCR_ASSIGN_OR_RETURN(pair.a, CheckpointUnixSocket(a));
  SOCCR_ASSIGN_OR_RETURN(pair.b, CheckpointUnixSocket(b));
  if (pair.a.peer_inode != pair.b.inode || pair.b.peer_inode != pair.a.inode ||
      pair.a.type != pair.b.type) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint unix pair: fd ", a.get(), " (", pair.a.Describe(),
        ", inode ", pair.a.inode, ", peer inode ", pair.a.peer_inode,
        ") and fd ", b.get(), " (", pair.b.Describe(), ", inode ", pair.b.inode,
        ", peer inode ", pair.b.peer_inode, ") are not each other's peer"));
  }
  return pair;
}

}  // namespace soccr
