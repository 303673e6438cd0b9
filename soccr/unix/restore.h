// soccr/unix/restore.h: restore of unix domain sockets from a checkpoint.
//
//   absl::StatusOr<soccr::UnixPairState> st = soccr::CheckpointUnixPair(a, b);
//   // ... close a and b, move `st` to another process ...
//   absl::StatusOr<soccr::RestoredUnixPair> p = soccr::RestoreUnixPair(*st);
//   // p->a and p->b: each end's unread messages queued again, in order.
//
//   soccr::UnixReconnectOptions o;
//   o.allow_reconnect = true;  // the peer (a server) sees a new connection
//   absl::StatusOr<soccr::ReconnectedUnixSocket> r =
//       soccr::RestoreUnixReconnect(client_state, o);
//   // r->fd connected to the recorded path; r->unread: what was queued.
//
// A pair is re-created whole: socketpair() when neither end had a name,
// otherwise bind/listen/connect/accept (stream, seqpacket) or bind/connect
// (dgram) on the recorded names. A path name is bound anew, so it must be
// free (the original listener closed and its file removed); the file this
// restore creates for its temporary listener is removed again, and only if
// it is still the one it bound. An abstract name is free once the original
// socket holding it is closed. Each end's unread messages are sent from the
// other end, with their boundaries and (when the receiver had SO_PASSCRED)
// their credentials, before the shutdowns and options are re-applied.
// Never blocks: a send that does not fit is an error, not a wait.
//
// Errors: InvalidArgument for states that are no pair; FailedPrecondition
// for a name in use or credentials the kernel will not let this process
// send (SCM_CREDENTIALS of another process: EPERM); ResourceExhausted when
// a queue does not fit the new socket's buffer. Nothing is left behind on
// error (both new sockets are closed).

#ifndef SOCCR_UNIX_RESTORE_H_
#define SOCCR_UNIX_RESTORE_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "soccr/fd.h"
#include "soccr/unix/checkpoint.h"
#include "soccr/unix/unix_socket.h"

namespace soccr {

// RestoredUnixPair: the new ends, `a` restored from UnixPairState::a.
struct RestoredUnixPair {
  OwnedFd a;
  OwnedFd b;
};

// Re-creates both ends of a pair checkpointed by CheckpointUnixPair.
[[nodiscard]] absl::StatusOr<RestoredUnixPair> RestoreUnixPair(
    const UnixPairState& pair);

// UnixReconnectOptions: how one end whose peer is outside is restored.
struct UnixReconnectOptions {
  // The caller's permission to give the socket a new connection: its peer
  // saw the old one end (EOF) and sees a new one. Without it, a restore of
  // a lone end is refused (FailedPrecondition).
  bool allow_reconnect = false;
  // Where to connect; the recorded peer address when unset.
  std::optional<UnixAddress> address;
};

// ReconnectedUnixSocket: the new socket and what was queued for the old.
struct ReconnectedUnixSocket {
  OwnedFd fd;
  // The checkpoint's unread receive queue: the new connection's peer never
  // sent it, so it cannot be queued again; it is the caller's to handle.
  std::vector<UnixMessage> unread;
};

// Restores one end by connecting a new socket of the same type to
// `options.address` (or the recorded peer address), re-binding its own
// name if it had one, with its options (not its shutdowns, nor its peek offset:
// they belonged to the old connection). The peer must accept (or, for dgram,
// exist): ECONNREFUSED / ENOENT come back as Unavailable, a full backlog
// (EAGAIN) as Unavailable too.
[[nodiscard]] absl::StatusOr<ReconnectedUnixSocket> RestoreUnixReconnect(
    const UnixSocketState& state, const UnixReconnectOptions& options);

}  // namespace soccr

#endif  // SOCCR_UNIX_RESTORE_H_
