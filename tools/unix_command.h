// tools/unix_command.h: `soccr dump`, `inspect` and `restore` for unix
// domain sockets (soccr/unix/).
//
//   soccr::tools::UnixDumpOptions o;
//   o.pid = 1234;
//   o.fds = {3, 4};            // both ends of a pair, or one socket
//   o.output = "pair.soccr";
//   absl::StatusOr<soccr::tools::UnixDumpResult> r =
//       soccr::tools::DumpUnixSockets(o);
//
// A unix socket's checkpoint only peeks: the owner keeps its socket, with
// every queued message still there, and carries on (nothing like repair
// mode exists for unix sockets). The descriptors are copied with
// pidfd_getfd (tools/pidfd.h), as for TCP. sock_diag answers only in the
// socket's network namespace: run soccr there.

#ifndef SOCCR_TOOLS_UNIX_COMMAND_H_
#define SOCCR_TOOLS_UNIX_COMMAND_H_

#include <stdint.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "soccr/fd.h"
#include "soccr/unix/unix_socket.h"
#include "tools/restore_command.h"

namespace soccr::tools {

// Whether `fd` is an AF_UNIX socket.
[[nodiscard]] bool IsUnixSocket(BorrowedFd fd);

struct UnixDumpOptions {
  pid_t pid = 0;
  // One socket, or both ends of one connection (a socketpair, or a named
  // connection whose two ends the process holds).
  std::vector<int> fds;
  std::string output;  // the image file (replaced atomically) or "-"
};

struct UnixDumpResult {
  std::vector<UnixSocketState> sockets;
  uint64_t image_bytes = 0;
};

// Checkpoints descriptors `fds` of process `pid` into `output`. Errors:
// TakeDescriptor's, InvalidArgument for a descriptor that is no unix
// socket or two that are not each other's peer, the checkpoint's refusals
// (FailedPrecondition, Unimplemented), the write's errno.
[[nodiscard]] absl::StatusOr<UnixDumpResult> DumpUnixSockets(
    const UnixDumpOptions& options);

// The text report of a dump.
std::string UnixDumpReport(const UnixDumpOptions& options,
                           const UnixDumpResult& result);

// `soccr dump --json` of unix sockets: {"pid", "fds", "image",
// "image_bytes", "original": "untouched", "sockets": [as in inspect]}.
std::string UnixDumpReportJson(const UnixDumpOptions& options,
                               const UnixDumpResult& result);

// Whether the image file `path` holds unix socket records (its first
// record is one; an empty image holds none). The file is read whole.
[[nodiscard]] absl::StatusOr<bool> IsUnixImageFile(const std::string& path);

// `soccr inspect` of such an image: every record, field by field.
[[nodiscard]] absl::StatusOr<std::string> InspectUnixImage(
    const std::string& path, bool verify_checksums);

// `soccr inspect --json` of such an image (docs/json-output.md): {"path",
// "file_bytes", "format_version", "checksums_verified", "sockets": [...]}.
[[nodiscard]] absl::StatusOr<std::string> InspectUnixImageJson(
    const std::string& path, bool verify_checksums);

struct UnixRestoreCommand {
  std::string image;
  // Reconnect a lone end to its recorded peer address, or to
  // `reconnect_path` when set; without, the image must hold a pair.
  bool reconnect = false;
  std::optional<std::string> reconnect_path;
  std::vector<std::string> argv;
  // Print what was restored as one JSON object on stderr just before the
  // exec (docs/json-output.md): image, program, fds, reconnected,
  // unread_messages, sockets (as in inspect --json).
  bool json = false;
};

// Restores the image and executes argv in this process: a pair's ends as
// descriptors 3 and 4 (the image's records 0 and 1); with `reconnect`,
// record 0 reconnected as descriptor 3 and its unread receive queue in a
// sealed memfd as descriptor 4 (stream: the bytes; seqpacket and dgram:
// each message as a u32 little-endian length and its bytes), with
// SOCCR_UNREAD_MESSAGES giving their number. Returns only on failure.
ExecFailure RestoreUnixAndExec(const UnixRestoreCommand& command);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_UNIX_COMMAND_H_
