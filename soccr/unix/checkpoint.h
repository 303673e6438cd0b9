// soccr/unix/checkpoint.h: checkpoint of a unix domain socket.
//
//   int sv[2];
//   socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
//   absl::StatusOr<soccr::UnixSocketState> a =
//       soccr::CheckpointUnixSocket(soccr::BorrowedFd(sv[0]));
//   // a->queue: every unread message of sv[0], boundaries kept; still there.
//
// A checkpoint reads, and changes nothing a reader could see: the receive
// queue is peeked (SO_PEEK_OFF walks it, MSG_PEEK leaves it in place) and
// the socket's own peek offset is put back before returning, on success
// and on every error. The caller must stop everyone else from using the
// socket (and its peer) meanwhile, as with a TCP checkpoint.
//
// Kernel fact (checked by unix_socket_test): a zero-length dgram or
// seqpacket message that anyone has peeked once is marked (skb->peeked)
// and skipped by every later peek at an offset, so a checkpoint cannot see
// empty messages an earlier peek (the application's, or an earlier
// checkpoint's) has seen. Readers still receive them. When such a message
// is the head of the queue the checkpoint sees that it missed it and
// refuses (FailedPrecondition); further down the queue it cannot tell, and
// the message is missing from the checkpoint.
//
// What cannot be carried is refused, the socket left as it was:
//  - descriptors in flight (SCM_RIGHTS in the queue): FailedPrecondition;
//  - SO_PASSPIDFD on (the senders' pidfds cannot be re-created):
//    Unimplemented;
//  - credentials a restore cannot send again (a sender with no pid, uid
//    or gid in the checkpointer's namespaces): FailedPrecondition;
//  - a listener with connections waiting in its backlog: FailedPrecondition.
// Needs no privilege. sock_diag answers only for sockets of the caller's
// network namespace, so call it from the socket's namespace.

#ifndef SOCCR_UNIX_CHECKPOINT_H_
#define SOCCR_UNIX_CHECKPOINT_H_

#include "absl/status/statusor.h"
#include "soccr/fd.h"
#include "soccr/unix/unix_socket.h"

namespace soccr {

// Checkpoints the unix socket `fd`. InvalidArgument when it is not one.
[[nodiscard]] absl::StatusOr<UnixSocketState> CheckpointUnixSocket(
    BorrowedFd fd);

// UnixPairState: both ends of one connection, `a` and `b`.
struct UnixPairState {
  UnixSocketState a;
  UnixSocketState b;
};

// Checkpoints two sockets that are each other's peer (a socketpair, or both
// ends of a named connection). InvalidArgument when they are not.
[[nodiscard]] absl::StatusOr<UnixPairState> CheckpointUnixPair(BorrowedFd a,
                                                               BorrowedFd b);

}  // namespace soccr

#endif  // SOCCR_UNIX_CHECKPOINT_H_
