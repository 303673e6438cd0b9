#include "tools/dump_command.h"

#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/image/stream.h"
#include "soccr/soccr.h"
#include "soccr/status_macros.h"
#include "tools/image_file.h"
#include "tools/pidfd.h"

namespace soccr::tools {
namespace {

absl::Status Prefixed(absl::string_view prefix, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(prefix, ": ", s.message()));
}

}  // namespace

absl::StatusOr<DumpResult> DumpConnection(const DumpOptions& options,
                                          Progress& progress,
                                          const sys::Sys& sys) {
  const std::string what =
      absl::StrCat("fd ", options.fd, " of process ", options.pid);
  absl::StatusOr<OwnedFd> copy = TakeDescriptor(options.pid, options.fd);
  if (!copy.ok()) return copy.status();
  SOCCR_RETURN_IF_ERROR(CheckTcpSocket(copy->borrow(), what));

  DumpResult result;
  progress.Step(absl::StrCat("pausing ", what));
  const absl::Time paused_at = absl::Now();
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause(copy->borrow(), sys);
  if (!paused.ok()) return Prefixed(what, paused.status());
  // From here until the end, dropping `paused` resumes the original: every
  // early return leaves it usable.
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused);
  if (!state.ok()) return Prefixed(what, state.status());
  result.checkpoint_time = absl::Now() - paused_at;
  progress.Step(absl::StrCat(
      "writing ", options.output, " (",
      FormatBytes(uint64_t{state->inq_len} + state->outq_len), " in queues)"));
  const absl::Time write_start = absl::Now();
  absl::StatusOr<uint64_t> size =
      options.output == "-"
          ? WriteImageToStream(BorrowedFd(STDOUT_FILENO), {*state})
          : WriteImageFile(options.output, {*state});
  if (!size.ok()) return size.status();
  result.write_time = absl::Now() - write_start;
  result.image_bytes = *size;

  const bool in_repair = paused->in_repair_mode();
  result.repair = in_repair;
  switch (options.after) {
    case AfterDump::kResume:
      if (absl::Status s = std::move(*paused).Resume(); !s.ok()) {
        return Prefixed(
            absl::StrCat(what, ": the image is written, but resuming failed"),
            s);
      }
      break;
    case AfterDump::kLeavePaused:
      std::move(*paused).LeaveInRepairMode();
      break;
    case AfterDump::kClose:
      // A socket never connected would lose its address: it stays as it is.
      if (state->state == TcpState::kClose && state->peer.empty()) {
        std::move(*paused).LeaveInRepairMode();
      } else if (absl::Status s = std::move(*paused).DisconnectSilently();
                 !s.ok()) {
        return Prefixed(absl::StrCat(what,
                                     ": the image is written, but closing "
                                     "silently failed"),
                        s);
      }
      break;
  }
  result.paused_time = absl::Now() - paused_at;
  progress.Clear();
  result.state = *std::move(state);
  return result;
}

}  // namespace soccr::tools
