// soccr/batch.h: checkpoint and restore many connections at once, spread
// over threads.
//
// Moving an idle connection costs a few dozen system calls and no copying,
// so moving thousands is bound by how many CPUs make those calls. These
// functions do what the single-connection API does, for each connection, on
// every CPU the process may use, and report each connection's outcome on
// its own:
//
//   // Out: checkpoint, then close each socket silently.
//   std::vector<absl::StatusOr<soccr::ConnectionState>> states =
//       soccr::CheckpointAndCloseMany(absl::MakeSpan(fds));
//   // In (elsewhere, with the peers' packets held back meanwhile):
//   std::vector<absl::StatusOr<soccr::OwnedFd>> live =
//       soccr::RestoreAndResumeMany(ok_states);
//
// Result i always belongs to input i. One connection's failure never
// affects another's. Worker threads are started per call and joined before
// it returns; they inherit the calling thread's network namespace, so
// sockets are made where a serial Restore() would make them.
//
// Lifetimes: every call uses `sys` only while it runs, except where it
// hands out handles: the PausedSockets of CheckpointMany and the
// RestoredSockets of RestoreMany make their kernel calls through `sys`
// for as long as they live, so `sys` must outlive them (the default,
// LinuxSys(), lives for the whole process). The descriptors CheckpointMany
// pauses must stay open while its results live. Nothing else is kept.

#ifndef SOCCR_BATCH_H_
#define SOCCR_BATCH_H_

#include <stddef.h>

#include <vector>

#include "absl/base/attributes.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "soccr/checkpoint.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/paused_socket.h"
#include "soccr/restore.h"
#include "soccr/sys/sys.h"

namespace soccr {

struct BatchOptions {
  // Threads to use, the calling thread included. 0: one per CPU this thread
  // may run on.
  int threads = 0;
  // Fewer threads are used when each would get fewer connections than this:
  // starting a thread costs about as much as moving a few connections.
  size_t min_per_thread = 32;
  CheckpointOptions checkpoint;
  // CheckpointMany: socket i's option values read ahead (ReadSocketOptions),
  // as checkpoint.socket_options_read_ahead for it; empty: read them in
  // each checkpoint. Only as long as fds, or empty.
  absl::Span<const std::vector<SocketOption>> socket_options_read_ahead;
  // CheckpointMany and CheckpointAndCloseMany: what was read of socket i
  // ahead (ReadAhead()): its pause takes SO_REUSEADDR from it, its
  // checkpoint the rest (checkpoint.read_ahead); empty: read them in each.
  // Only as long as fds, or empty; with it socket_options_read_ahead is
  // not used.
  absl::Span<const ReadAheadState> read_ahead;
  ResumeOptions resume;
};

// The number of threads a batch of `n` connections uses with `options`.
int BatchThreads(size_t n, const BatchOptions& options);

// A connection that was paused and checkpointed.
struct PausedCheckpoint {
  PausedSocket socket;
  ConnectionState state;
};

// For each socket: PausedSocket::Pause, then Checkpoint. A success keeps its
// socket paused in the result (drop it to resume, or LeaveInRepairMode to
// migrate); a failure leaves its socket as it was. The sockets must be
// distinct and stay open while the results live.
[[nodiscard]] std::vector<absl::StatusOr<PausedCheckpoint>> CheckpointMany(
    absl::Span<const BorrowedFd> fds, const BatchOptions& options = {},
    const sys::Sys& sys ABSL_ATTRIBUTE_LIFETIME_BOUND = sys::LinuxSys());

// For migration: checkpoints each socket and, if that succeeds, closes it
// in repair mode (nothing reaches the peer) and leaves fds[i] empty. A
// socket whose checkpoint fails is left as it was, still live and still in
// fds[i].
[[nodiscard]] std::vector<absl::StatusOr<ConnectionState>>
CheckpointAndCloseMany(absl::Span<OwnedFd> fds,
                       const BatchOptions& options = {},
                       const sys::Sys& sys = sys::LinuxSys());

// Restore() of each state. The sockets are still paused; see Restore() for
// the errors. A failed restore leaves nothing behind.
[[nodiscard]] std::vector<absl::StatusOr<RestoredSocket>> RestoreMany(
    absl::Span<const ConnectionState> states, const BatchOptions& options = {},
    const sys::Sys& sys ABSL_ATTRIBUTE_LIFETIME_BOUND = sys::LinuxSys());

// MakeFreshSocket() for each family: sockets made ahead of a restore.
[[nodiscard]] std::vector<absl::StatusOr<FreshSocket>> MakeFreshSockets(
    absl::Span<const int> families, const BatchOptions& options = {},
    const sys::Sys& sys = sys::LinuxSys());

// Restore(sockets[i], states[i]) of each state, consuming the sockets; as
// RestoreMany otherwise. The spans must have the same length.
[[nodiscard]] std::vector<absl::StatusOr<RestoredSocket>> RestoreMany(
    absl::Span<FreshSocket> sockets, absl::Span<const ConnectionState> states,
    const BatchOptions& options = {},
    const sys::Sys& sys ABSL_ATTRIBUTE_LIFETIME_BOUND = sys::LinuxSys());

// Restore() and then Resume(options.resume) of each state: live sockets. A
// connection whose resume fails is closed silently, in repair mode.
[[nodiscard]] std::vector<absl::StatusOr<OwnedFd>> RestoreAndResumeMany(
    absl::Span<const ConnectionState> states, const BatchOptions& options = {},
    const sys::Sys& sys = sys::LinuxSys());

// Resume(options.resume) of each restored socket, which it consumes: a
// live socket for each, or the error (the socket then closed silently, in
// repair mode, as Resume() does).
[[nodiscard]] std::vector<absl::StatusOr<OwnedFd>> ResumeMany(
    absl::Span<RestoredSocket> restored, const BatchOptions& options = {});

// Calls fn(i) once for every i in [0, n), on the threads the functions
// above would use for n connections: for a caller's own per-connection
// steps (socket options around a resume, a silent disconnect). `fn` must be
// safe to run concurrently for different i.
void ForEachConnection(size_t n, const BatchOptions& options,
                       absl::FunctionRef<void(size_t)> fn);

}  // namespace soccr

#endif  // SOCCR_BATCH_H_
