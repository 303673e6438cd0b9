// soccr/restore.h: recreating a TCP connection from its state.
//
//   absl::StatusOr<soccr::RestoredSocket> restored = soccr::Restore(state);
//   if (!restored.ok()) return restored.status();  // nothing left behind
//   // ... let the peer's packets through again, then:
//   absl::StatusOr<soccr::OwnedFd> fd = std::move(*restored).Resume();
//
// Restore never blocks: queue bytes go into the kernel with non-blocking
// writes into buffers sized for them beforehand.

#ifndef SOCCR_RESTORE_H_
#define SOCCR_RESTORE_H_

#include "absl/status/statusor.h"
#include "soccr/connection_state.h"
#include "soccr/paused_socket.h"
#include "soccr/sys/sys.h"

namespace soccr {

// Creates a socket in repair mode and gives it `state`: addresses, sequence
// numbers, options, timestamp, window, both queues and socket options. The
// result is still paused; its Resume() lets traffic flow and queues the data
// the original had not sent yet (so that it leaves under the restored
// window and MSS).
//
// The state is checked first (see PlanRestore): InvalidArgument names the
// inconsistent field before any socket exists. FailedPrecondition when a
// queue needs a bigger socket buffer than the process may set (the message
// names the sysctl to raise). Otherwise the failing step, kernel call and
// errno. On any error the new socket is closed silently, in repair mode.
//
// Needs CAP_NET_ADMIN in the current network namespace. The local address
// need not be configured yet: if bind() finds it missing, the restore binds
// with IP_FREEBIND (as a migrated connection's address may arrive later).
[[nodiscard]] absl::StatusOr<RestoredSocket> Restore(
    const ConnectionState& state, const sys::Sys& sys = sys::LinuxSys());

}  // namespace soccr

#endif  // SOCCR_RESTORE_H_
