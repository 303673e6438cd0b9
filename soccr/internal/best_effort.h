// soccr/internal/best_effort.h: the kernel calls a restore makes without
// insisting.
//
// A few setsockopt calls of a restore and its resume tune rather than
// restore: the kernel clamps their values rather than refusing them, and a
// failure leaves a connection that works (with another buffer size or
// low-water mark). A restore ignores their errors; the fault sweeps of the
// tests take their list from here, so the two cannot drift apart:
//
//   bool tolerated = internal::IsBestEffortSetSockOpt(SOL_SOCKET, SO_SNDBUF);

#ifndef SOCCR_INTERNAL_BEST_EFFORT_H_
#define SOCCR_INTERNAL_BEST_EFFORT_H_

namespace soccr::internal {

// Whether a restore or resume tolerates the failure of setsockopt(level,
// name): SO_REUSEADDR as the original had it, set again when repair mode
// ends (which clears it); the buffer sizes and locks (SO_SNDBUF, SO_RCVBUF,
// their FORCE forms, SO_BUF_LOCK: soccr/internal/restore_buffers.h); and
// every option the table sets after the resume (SockOptPhase::kAfterResume,
// soccr/socket_options.h).
bool IsBestEffortSetSockOpt(int level, int name);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_BEST_EFFORT_H_
