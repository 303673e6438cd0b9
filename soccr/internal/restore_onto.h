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
// planned connection. Returns what its resume must still do. On error the
// socket is left in repair mode, to be closed by its owner.
[[nodiscard]] absl::StatusOr<std::unique_ptr<PendingResume>> RestoreOnto(
    const sys::Sys& sys, BorrowedFd fd, const RestorePlan& plan);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_RESTORE_ONTO_H_
