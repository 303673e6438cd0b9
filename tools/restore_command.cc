#include "tools/restore_command.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "soccr/image/image.h"
#include "soccr/image/stream.h"
#include "soccr/internal/status_code.h"
#include "soccr/restore.h"
#include "tools/cli.h"
#include "tools/image_file.h"

namespace soccr::tools {
namespace {

// The program execvp would run for `name`, or why there is none.
ExecFailure NotRunnable(int status, absl::string_view name,
                        absl::string_view why) {
  return {status, absl::Status(status == cli::kExitNotFound
                                   ? absl::StatusCode::kNotFound
                                   : absl::StatusCode::kPermissionDenied,
                               absl::StrCat(name, ": ", why))};
}

bool IsExecutableFile(const std::string& path, int* err) {
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) {
    *err = errno;
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *err = EACCES;
    return false;
  }
  if (::access(path.c_str(), X_OK) != 0) {
    *err = errno;
    return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> FindProgram(const std::string& name,
                                        ExecFailure* failure) {
  int err = 0;
  if (name.find('/') != std::string::npos) {
    if (IsExecutableFile(name, &err)) return name;
    *failure = NotRunnable(
        err == ENOENT ? cli::kExitNotFound : cli::kExitCannotExecute, name,
        ::strerror(err));
    return failure->status;
  }
  const char* env = ::getenv("PATH");
  const std::string path =
      env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  bool found_unrunnable = false;
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    const std::string candidate =
        absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (IsExecutableFile(candidate, &err)) return candidate;
    if (err != ENOENT && err != ENOTDIR) found_unrunnable = true;
  }
  *failure = found_unrunnable ? NotRunnable(cli::kExitCannotExecute, name,
                                            "found in PATH but not executable")
                              : NotRunnable(cli::kExitNotFound, name,
                                            "command not found in PATH");
  return failure->status;
}

absl::StatusOr<RestoredSocket> RestoreFromImage(const std::string& path,
                                                size_t index,
                                                Progress& progress,
                                                const sys::Sys& sys,
                                                ImageRecord* restored_record) {
  auto in_path = [&](const absl::Status& s) {
    return absl::Status(
        s.code(),
        absl::StrCat(path == "-" ? "standard input" : path, ": ", s.message()));
  };
  // "-": one image from standard input (a pipe, a socket), read as it
  // arrives (soccr/image/stream.h).
  absl::StatusOr<ImageReader> image;
  if (path == "-") {
    image = ReadImageStream(BorrowedFd(STDIN_FILENO));
    // Then the end of the stream: the writer is done with the connection
    // only then (`soccr dump -o - --close` disconnects the original after
    // writing the image; restoring before that would find its addresses
    // taken).
    char extra;
    ssize_t n;
    while (image.ok() && (n = ::read(STDIN_FILENO, &extra, 1)) != 0) {
      if (n > 0) {
        image = absl::DataLossError(
            "image stream: more bytes after the image (one image only)");
      } else if (errno == EAGAIN) {
        struct pollfd p = {STDIN_FILENO, POLLIN, 0};
        (void)::poll(&p, 1, -1);
      } else if (errno != EINTR) {
        image = internal::ErrnoStatus(errno, "read standard input");
      }
    }
  } else {
    absl::StatusOr<ImageFile> file = ImageFile::Read(path, progress);
    if (!file.ok()) return file.status();
    image = ImageReader::Open(file->bytes(), file->owner());
  }
  if (!image.ok()) return in_path(image.status());
  absl::StatusOr<ImageRecord> record = image->ReadRecord(index);
  if (!record.ok()) return in_path(record.status());
  const ConnectionState* state = &record->state;
  // Said, not refused: such options are optional by nature.
  for (const SocketOption& o : record->skipped_options) {
    progress.Note(absl::StrCat(path, ": connection ", index, ": skipping ",
                               SocketOptionToString(o), " (", o.value.size(),
                               " bytes), which this soccr does not know"));
  }
  progress.Step(absl::StrCat(
      "restoring ", state->Endpoints(), " (",
      FormatBytes(uint64_t{state->inq_len} + state->outq_len), " in queues)"));
  absl::StatusOr<RestoredSocket> restored = Restore(*state, sys);
  progress.Clear();
  if (restored.ok() && restored_record != nullptr) {
    *restored_record = *std::move(record);
  }
  return restored;
}

ExecFailure RestoreAndExec(const RestoreCommand& command, Progress& progress,
                           const sys::Sys& sys) {
  ExecFailure failure{cli::kExitFailed, absl::OkStatus()};
  absl::StatusOr<std::string> program = FindProgram(command.argv[0], &failure);
  if (!program.ok()) return failure;

  ImageRecord record;
  absl::StatusOr<RestoredSocket> restored =
      RestoreFromImage(command.image, command.index, progress, sys, &record);
  if (!restored.ok()) return {cli::kExitFailed, restored.status()};
  absl::StatusOr<OwnedFd> live = std::move(*restored).Resume();
  if (!live.ok()) return {cli::kExitFailed, live.status()};

  // Descriptor 3, open across exec. dup2 onto itself keeps close-on-exec,
  // so clear it explicitly either way.
  OwnedFd fd3;
  if (live->get() == kRestoredFd) {
    fd3 = *std::move(live);
  } else {
    if (::dup2(live->get(), kRestoredFd) < 0) {
      return {cli::kExitFailed,
              internal::ErrnoStatus(errno, "restore: dup2 onto fd 3")};
    }
    fd3.reset(kRestoredFd);
    live->reset();
  }
  if (::fcntl(kRestoredFd, F_SETFD, 0) != 0) {
    return {cli::kExitFailed,
            internal::ErrnoStatus(errno, "restore: fcntl(F_SETFD) on fd 3")};
  }

  if (command.before_exec) command.before_exec(record, *program);
  std::vector<char*> argv;
  for (const std::string& a : command.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  ::execv(program->c_str(), argv.data());
  const int err = errno;
  // Back into repair mode before closing: the peer gets neither FIN nor
  // reset. (The connection ran since the resume, so the image may be stale.)
  (void)sys.SetRepair(BorrowedFd(kRestoredFd), sys::RepairMode::kOn);
  fd3.reset();
  return {cli::kExitCannotExecute,
          internal::ErrnoStatus(err, absl::StrCat("execv ", *program))};
}

}  // namespace soccr::tools
