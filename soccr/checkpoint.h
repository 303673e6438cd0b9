// soccr/checkpoint.h: saving the state of a paused TCP connection.
//
//   absl::StatusOr<soccr::PausedSocket> paused = soccr::PausedSocket::Pause(fd);
//   absl::StatusOr<soccr::ConnectionState> state = soccr::Checkpoint(*paused);
//
// A checkpoint only reads: whatever happens, the socket is as it was, and
// resuming it (or dropping the PausedSocket) lets the connection carry on.

#ifndef SOCCR_CHECKPOINT_H_
#define SOCCR_CHECKPOINT_H_

#include "absl/status/statusor.h"
#include "soccr/connection_state.h"
#include "soccr/paused_socket.h"

namespace soccr {

struct CheckpointOptions {
  // Also save socket options (soccr/socket_options.h) and buffer sizes.
  // Costs a getsockopt per option; off gives exactly libsoccr's state.
  bool socket_options = true;
};

// Saves the complete state of the connection behind `socket`, both queues
// included (the queue bytes are copied once, from the kernel into fresh
// memory). The peer's packets should be blocked while it runs: data that
// arrives meanwhile is detected (Unavailable: retry once it is blocked),
// data that arrives after it is not in the checkpoint.
//
// Errors: Unimplemented for states the kernel cannot restore (TIME_WAIT,
// ...) or soccr does not handle; the failing kernel call with errno
// otherwise. Either way the socket is untouched.
[[nodiscard]] absl::StatusOr<ConnectionState> Checkpoint(
    const PausedSocket& socket, const CheckpointOptions& options = {});

}  // namespace soccr

#endif  // SOCCR_CHECKPOINT_H_
