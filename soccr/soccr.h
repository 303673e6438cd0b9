// soccr/soccr.h: checkpoint and restore live TCP connections.
//
// The whole C++ API in one include:
//
//   #include "soccr/soccr.h"
//
//   // Checkpoint: pause, save, then resume (or close silently to migrate).
//   absl::StatusOr<soccr::PausedSocket> paused =
//       soccr::PausedSocket::Pause(soccr::BorrowedFd(fd));
//   absl::StatusOr<soccr::ConnectionState> state = soccr::Checkpoint(*paused);
//
//   // Restore, anywhere with CAP_NET_ADMIN over the network namespace.
//   absl::StatusOr<soccr::RestoredSocket> restored = soccr::Restore(*state);
//   absl::StatusOr<soccr::OwnedFd> live = std::move(*restored).Resume();

#ifndef SOCCR_SOCCR_H_
#define SOCCR_SOCCR_H_

#include "soccr/address.h"           // IWYU pragma: export
#include "soccr/checkpoint.h"        // IWYU pragma: export
#include "soccr/connection_state.h"  // IWYU pragma: export
#include "soccr/fd.h"                // IWYU pragma: export
#include "soccr/paused_socket.h"     // IWYU pragma: export
#include "soccr/queue_bytes.h"       // IWYU pragma: export
#include "soccr/restore.h"           // IWYU pragma: export
#include "soccr/restore_plan.h"      // IWYU pragma: export
#include "soccr/socket_options.h"    // IWYU pragma: export
#include "soccr/tcp_state.h"         // IWYU pragma: export

#endif  // SOCCR_SOCCR_H_
