// tools/dump_command.h: `soccr dump`, the checkpoint of a TCP connection
// another process owns, into an image file.
//
//   soccr::tools::DumpOptions options;
//   options.pid = 1234;
//   options.fd = 5;
//   options.output = "conn.soccr";
//   absl::StatusOr<soccr::tools::DumpResult> r =
//       soccr::tools::DumpConnection(options, progress);
//
// The descriptor is copied with pidfd_getfd (see tools/pidfd.h): the
// process is not stopped, signalled or traced. Its socket is in repair mode
// only from the pause until the image is safely on disk; in that window
// the connection sends and acknowledges nothing, and the owner's own reads
// fail (EPERM) and writes fail (EINVAL) -- stop the owner first (SIGSTOP,
// a cgroup freezer) if it might use the socket meanwhile. As with any
// checkpoint, the peer's packets should be held back too (a firewall rule)
// when the connection is to move.
//
// What happens to the original afterwards:
//   kResume      it leaves repair mode and carries on, untouched (the
//                default; a window probe restarts the flow at once);
//   kLeavePaused it stays in repair mode for good: frozen, and closing it
//                (or the owner exiting) sends nothing to the peer. Its
//                addresses stay taken, so a restore in the same network
//                namespace must wait until the owner closes it;
//   kClose       it is disconnected silently: while still in repair mode
//                the kernel drops the connection (connect(AF_UNSPEC),
//                which in repair mode sends neither FIN nor RST), so the
//                owner's descriptor stays open but shows a closed socket
//                (its next read or write fails with ECONNABORTED), and the
//                addresses are free at once for a restore in the same
//                namespace. A listener stops listening; a socket never
//                connected is left as it is.
// On any error before that, the original is resumed as it was.

#ifndef SOCCR_TOOLS_DUMP_COMMAND_H_
#define SOCCR_TOOLS_DUMP_COMMAND_H_

#include <stdint.h>
#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "soccr/connection_state.h"
#include "soccr/sys/sys.h"
#include "tools/progress.h"

namespace soccr::tools {

enum class AfterDump { kResume, kLeavePaused, kClose };

struct DumpOptions {
  pid_t pid = 0;
  int fd = -1;
  // The image file to write (replaced atomically if it exists), or "-":
  // standard output (a pipe, a socket).
  std::string output;
  AfterDump after = AfterDump::kResume;
};

struct DumpResult {
  ConnectionState state;
  // Whether the socket was in repair mode (not for a listener or a socket
  // never connected, which are held as they are).
  bool repair = true;
  uint64_t image_bytes = 0;
  absl::Duration checkpoint_time;  // pause and checkpoint
  absl::Duration write_time;       // the image, written and flushed to disk
  absl::Duration paused_time;      // from the pause to what followed
};

// Checkpoints the connection on descriptor `options.fd` of process
// `options.pid` into `options.output`. Errors name the process and the
// descriptor and say what failed: NotFound (no such process or
// descriptor), PermissionDenied (no ptrace access, or no CAP_NET_ADMIN over
// the socket's network namespace), InvalidArgument (not a TCP socket),
// or the checkpoint's or the write's own error.
// The socket's kernel calls go through `sys`.
[[nodiscard]] absl::StatusOr<DumpResult> DumpConnection(
    const DumpOptions& options, Progress& progress,
    const sys::Sys& sys = sys::LinuxSys());

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_DUMP_COMMAND_H_
