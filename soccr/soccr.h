// soccr/soccr.h: checkpoint and restore live TCP connections.
//
// What a caller needs to checkpoint and restore, in one include:
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
//
// The rest has its own header, which soccr.h leaves out: the plan of a
// restore and its kernel structs (soccr/restore_plan.h: PlanRestore,
// RestorePlan), restoring onto a socket the caller made
// (soccr/restore_onto.h), a paused socket's addresses
// (soccr/paused_socket_addresses.h), many connections at once
// (soccr/batch.h), images (soccr/image/image.h).

#ifndef SOCCR_SOCCR_H_
#define SOCCR_SOCCR_H_

#include "soccr/address.h"               // IWYU pragma: export
#include "soccr/checkpoint.h"            // IWYU pragma: export
#include "soccr/connection_state.h"      // IWYU pragma: export
#include "soccr/fd.h"                    // IWYU pragma: export
#include "soccr/injected_packet_mark.h"  // IWYU pragma: export
#include "soccr/paused_socket.h"         // IWYU pragma: export
#include "soccr/queue_bytes.h"           // IWYU pragma: export
#include "soccr/restore.h"               // IWYU pragma: export
#include "soccr/restore_limits.h"        // IWYU pragma: export
#include "soccr/sock_diag_session.h"     // IWYU pragma: export
#include "soccr/socket_options.h"        // IWYU pragma: export
#include "soccr/tcp_state.h"             // IWYU pragma: export

#endif  // SOCCR_SOCCR_H_
