// soccr/restore_onto.h: restoring onto a socket the caller created and
// paused, as libsoccr's libsoccr_restore() does.
//
// Restore() creates the socket itself. A caller that makes its own socket
// (to set options first, or because its API hands it one, as the C API's
// libsoccr_restore does) pauses it and restores onto it:
//
//   int fd = ::socket(plan.family, SOCK_STREAM, 0);
//   absl::StatusOr<soccr::PausedSocket> paused =
//       soccr::PausedSocket::Pause(soccr::BorrowedFd(fd));
//   if (!paused.ok()) return paused.status();
//   SOCCR_RETURN_IF_ERROR(soccr::CheckRestoreTarget(*paused, plan));
//   SOCCR_RETURN_IF_ERROR(soccr::RestoreOnto(*paused, plan));
//   return std::move(*paused).Resume();  // or drop it: the same
//
// The restore does what Restore() does, in the same steps, with the same
// errors; the PausedSocket's resume (Resume(), or its destructor) then
// does what Restore()'s RestoredSocket::Resume() does.

#ifndef SOCCR_RESTORE_ONTO_H_
#define SOCCR_RESTORE_ONTO_H_

#include "absl/status/status.h"
#include "soccr/paused_socket.h"
#include "soccr/restore_plan.h"

namespace soccr {

// Whether the socket `paused` holds can take `plan`: a TCP socket of
// plan.family, new (never connected; it may be bound). Reads the socket's
// address (getsockname), and only if it has a port (a bound socket) its
// state (TCP_INFO). Touches nothing.
//
// Errors, prefixed "restore <local>-><peer>": InvalidArgument if the
// family is not plan.family; FailedPrecondition if the socket has been
// connected (names its state); the failing call otherwise.
[[nodiscard]] absl::Status CheckRestoreTarget(const PausedSocket& paused,
                                              const RestorePlan& plan);

// Gives the socket `paused` holds (in repair mode, and one that
// CheckRestoreTarget accepts: RestoreOnto does not check again) the
// planned socket, in whatever state the plan says, as Restore() does. What
// is left for the resume (the unsent data and the state steps after it,
// connect() for SYN_SENT, listen() for LISTEN) is handed to `paused`, whose
// Resume() or destructor does it. A listening or unconnected socket needs
// no repair mode: the restore takes it out of it first, so that bind()
// checks the address like any bind().
//
// `plan` need not outlive the call: the unsent data is held by reference
// to its storage (QueueBytes share it), and copied if it is borrowed
// (QueueBytes::borrowed()).
//
// Errors: the failing step, kernel call and errno, as for Restore(). On
// error the socket has been changed part-way and `paused` holds it with
// nothing to do on resume: give it up (LeaveInRepairMode()), close it, and
// restore onto a new socket.
[[nodiscard]] absl::Status RestoreOnto(PausedSocket& paused,
                                       const RestorePlan& plan);

}  // namespace soccr

#endif  // SOCCR_RESTORE_ONTO_H_
