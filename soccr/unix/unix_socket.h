// soccr/unix/unix_socket.h: what a checkpoint of a unix domain socket holds.
//
//   absl::StatusOr<soccr::UnixSocketState> s =
//       soccr::CheckpointUnixSocket(fd.borrow());
//   // s->type, s->local, s->peer, s->shutdown_send, s->queue[i].data ...
//
// Plain data, copyable, filled by CheckpointUnixSocket (checkpoint.h) and
// consumed by the restore calls (restore.h) and the image codec. Every field
// is what the kernel reported for the socket; nothing is derived.

#ifndef SOCCR_UNIX_UNIX_SOCKET_H_
#define SOCCR_UNIX_UNIX_SOCKET_H_

#include <stdint.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace soccr {

// UnixType is the socket's type (SO_TYPE).
enum class UnixType : uint8_t {
  kStream = 1,     // SOCK_STREAM
  kDgram = 2,      // SOCK_DGRAM
  kSeqpacket = 5,  // SOCK_SEQPACKET
};

// The SOCK_* value of `type`.
int SockType(UnixType type);
// "stream", "dgram", "seqpacket".
absl::string_view UnixTypeName(UnixType type);

// UnixAddress is a socket's own or peer address (getsockname/getpeername).
struct UnixAddress {
  enum class Kind : uint8_t {
    kUnnamed = 0,   // no address (socketpair, never bound)
    kPath = 1,      // a filesystem path: `name` is the path, without the NUL
    kAbstract = 2,  // abstract namespace: `name` is the bytes after the NUL
  };
  Kind kind = Kind::kUnnamed;
  std::string name;

  bool named() const { return kind != Kind::kUnnamed; }
  // "(unnamed)", "/run/x.sock", "@name" (non-printable bytes escaped).
  std::string ToString() const;
  friend bool operator==(const UnixAddress& a, const UnixAddress& b) {
    return a.kind == b.kind && a.name == b.name;
  }
  friend bool operator!=(const UnixAddress& a, const UnixAddress& b) {
    return !(a == b);
  }
};

// The longest name a sockaddr_un carries: sizeof(sun_path) (108) for an
// abstract name (all bytes count), one less for a path (its NUL). The kernel
// refuses longer ones (EINVAL), so a decoder refuses them too.
inline constexpr size_t kMaxUnixPathLength = 107;
inline constexpr size_t kMaxUnixAbstractLength = 107;

// UnixCredentials are the sender's credentials attached to a message, as the
// receiving socket sees them with SO_PASSCRED (SCM_CREDENTIALS).
struct UnixCredentials {
  int32_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  friend bool operator==(const UnixCredentials& a, const UnixCredentials& b) {
    return a.pid == b.pid && a.uid == b.uid && a.gid == b.gid;
  }
};

// UnixMessage is one message of a receive queue. For seqpacket and dgram
// sockets one entry is exactly one message (possibly empty). For stream
// sockets the boundaries carry no meaning, except where the credentials
// change (the kernel never merges bytes of different senders in one read
// when SO_PASSCRED is on): one entry per run of equal credentials.
struct UnixMessage {
  std::string data;
  // Set only when the receiving socket had SO_PASSCRED: the credentials a
  // reader would have received with this message.
  std::optional<UnixCredentials> credentials;
};

// UnixSocketState is everything a checkpoint records of one socket.
struct UnixSocketState {
  UnixType type = UnixType::kStream;

  // The kernel's sk_state: unconnected (TCP_CLOSE), listening (TCP_LISTEN),
  // connected (TCP_ESTABLISHED; a dgram socket with a default peer too).
  enum class State : uint8_t {
    kUnconnected = 0,
    kListening = 1,
    kConnected = 2,
  };
  State state = State::kUnconnected;

  UnixAddress local;
  UnixAddress peer;

  // The socket's and its peer's inode numbers (fstat / UNIX_DIAG_PEER; 0
  // when there is no peer). They identify the two ends of a pair at
  // checkpoint time; a restore creates new ones.
  uint64_t inode = 0;
  uint64_t peer_inode = 0;

  // sk_shutdown (UNIX_DIAG_SHUTDOWN): receiving / sending shut down. For a
  // stream or seqpacket socket the peer's shutdown sets these too.
  bool shutdown_receive = false;
  bool shutdown_send = false;

  // Options that a restore re-creates.
  bool pass_credentials = false;  // SO_PASSCRED
  bool pass_security = false;     // SO_PASSSEC
  int32_t send_buffer = 0;        // SO_SNDBUF as getsockopt reports it
  int32_t receive_buffer = 0;     // SO_RCVBUF as getsockopt reports it
  int32_t peek_offset = -1;       // SO_PEEK_OFF (-1: off)

  // A listener's backlog (sk_max_ack_backlog, UNIX_DIAG_RQLEN's wqueue).
  uint32_t backlog = 0;

  // The unread receive queue, oldest first.
  std::vector<UnixMessage> queue;

  // Total bytes in `queue`.
  uint64_t QueuedBytes() const;
  // "stream @name -> /run/x.sock", for errors and reports.
  std::string Describe() const;
};

}  // namespace soccr

#endif  // SOCCR_UNIX_UNIX_SOCKET_H_
