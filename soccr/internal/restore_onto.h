// soccr/internal/restore_onto.h: the body of a restore, on a socket that
// already exists.
//
// Restore() creates the socket itself; the libsoccr-compatible C API
// restores onto a socket its caller created and paused. Both run this.

#ifndef SOCCR_INTERNAL_RESTORE_ONTO_H_
#define SOCCR_INTERNAL_RESTORE_ONTO_H_

#include <memory>

#include "absl/status/statusor.h"
#include "soccr/fd.h"
#include "soccr/internal/pending_resume.h"
#include "soccr/restore_plan.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

// Gives `fd` (a new TCP socket of plan.family, already in repair mode) the
// planned socket, in whatever state the plan says: the connection with its
// queues and the state steps that repair mode can take (our FIN, the peer's
// segments injected), or for SYN_SENT the initial sequence number. Returns
// what its resume must still do (unsent data and the steps after it,
// connect() for SYN_SENT, listen() for LISTEN). A listening or unconnected
// socket needs no repair mode: if `fd` is in it, it leaves it first, so
// that bind() checks the address like any bind(). On error the socket is
// left as it is (in repair mode if it was), to be closed by its owner.
[[nodiscard]] absl::StatusOr<std::unique_ptr<PendingResume>> RestoreOnto(
    const sys::Sys& sys, BorrowedFd fd, const RestorePlan& plan);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_RESTORE_ONTO_H_
