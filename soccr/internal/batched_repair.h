// soccr/internal/batched_repair.h: pausing and restoring many sockets with
// repair mode switched for all of them at once.
//
// For a Sys whose SetRepair is a round trip to another process (the repair
// helper, sys::Sys::BatchesRepair()), switching socket by socket would cost
// one round trip per connection. These do what PausedSocket::Pause and
// Restore do, with one SetRepairEach for the whole span in the middle; the
// batch functions of soccr/batch.h use them for such a Sys.

#ifndef SOCCR_INTERNAL_BATCHED_REPAIR_H_
#define SOCCR_INTERNAL_BATCHED_REPAIR_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/paused_socket.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

// PausedSocket::Pause(fds[i], sys) for each i: result i is fds[i]'s. A
// socket the batch could not switch (a listener, not TCP, refused) is
// paused on its own afterwards, which gives it Pause()'s own outcome and
// error.
[[nodiscard]] std::vector<absl::StatusOr<PausedSocket>> PauseEach(
    absl::Span<const BorrowedFd> fds, const sys::Sys& sys);

// Restore(states[i], sys) for each i, the per-connection work spread over
// `threads` threads (as ParallelFor), the sockets' repair mode switched in
// one SetRepairEach.
[[nodiscard]] std::vector<absl::StatusOr<RestoredSocket>> RestoreEach(
    absl::Span<const ConnectionState> states, int threads,
    size_t min_per_thread, const sys::Sys& sys);

// RestoredSocket::Resume(options) of each restored socket, repair mode
// left for all of them in at most two SetRepairEach (with and without the
// window probe), the rest spread over `threads` threads. A failure in
// `restored` is passed on; a socket whose resume fails stays in
// restored[i] (closing it sends nothing), as with a serial Resume().
[[nodiscard]] std::vector<absl::StatusOr<OwnedFd>> ResumeEach(
    absl::Span<absl::StatusOr<RestoredSocket>> restored,
    const ResumeOptions& options, int threads, size_t min_per_thread,
    const sys::Sys& sys);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_BATCHED_REPAIR_H_
