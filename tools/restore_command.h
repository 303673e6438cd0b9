// tools/restore_command.h: `soccr restore`, a connection from an image
// handed to any program as its descriptor 3.
//
//   soccr::tools::RestoreCommand c;
//   c.image = "conn.soccr";
//   c.argv = {"my-server", "--continue"};
//   soccr::tools::ExecFailure f = soccr::tools::RestoreAndExec(c, progress);
//   // Only returns on failure: f.exit_status, f.status.
//
// Descriptor 3 is the convention of libsoccr's tcp-constructor example:
// the program starts with a live, blocking TCP socket on fd 3 and finds its
// state with getsockname/getpeername as for any connection.

#ifndef SOCCR_TOOLS_RESTORE_COMMAND_H_
#define SOCCR_TOOLS_RESTORE_COMMAND_H_

#include <stddef.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "soccr/image/image.h"
#include "soccr/paused_socket.h"
#include "soccr/sys/sys.h"
#include "tools/progress.h"

namespace soccr::tools {

// The descriptor a restored connection gets in the program run after it.
inline constexpr int kRestoredFd = 3;

// Reads connection `index` of the image file `path` and restores it (still
// paused; see soccr::Restore). Errors: the read's (NotFound, ...), the
// image's (DataLoss, Unimplemented, InvalidArgument; OutOfRange for an
// index past the end) or the restore's, each with the path.
// With `restored`, the record restored goes there on success.
[[nodiscard]] absl::StatusOr<RestoredSocket> RestoreFromImage(
    const std::string& path, size_t index, Progress& progress,
    const sys::Sys& sys = sys::LinuxSys(), ImageRecord* restored = nullptr);

struct RestoreCommand {
  std::string image;
  size_t index = 0;
  std::vector<std::string> argv;  // the program and its arguments
  // If set, called once the connection is live on fd 3, just before the
  // exec, with what was restored and the program's path (`soccr restore
  // --json` reports them).
  std::function<void(const ImageRecord&, const std::string& program)>
      before_exec;
};

struct ExecFailure {
  int exit_status;  // cli::kExitFailed, kExitNotFound or kExitCannotExecute
  absl::Status status;
};

// The program execvp would run for `name` (in PATH unless it has a '/'),
// or why there is none (`failure` says with which exit status).
[[nodiscard]] absl::StatusOr<std::string> FindProgram(const std::string& name,
                                                      ExecFailure* failure);

// Finds the program first (as execvp would, in PATH unless argv[0] has a
// '/'), so that a mistyped command fails before anything is restored
// (kExitNotFound, kExitCannotExecute). Then restores connection `index`,
// resumes it, makes it descriptor 3 (not close-on-exec), and executes the
// program in this process. Returns only on failure; if the exec itself
// fails, the socket goes back into repair mode before it is closed, so the
// peer gets neither FIN nor reset (but the connection ran since the resume:
// the image may no longer match it).
ExecFailure RestoreAndExec(const RestoreCommand& command, Progress& progress,
                           const sys::Sys& sys = sys::LinuxSys());

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_RESTORE_COMMAND_H_
