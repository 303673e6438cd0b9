// tools/progress.h: progress of long operations, on a terminal only.
//
//   soccr::tools::Progress progress =
//       soccr::tools::Progress::OnStderr("soccr restore");
//   progress.Step("reading image.soccr");
//   for (uint64_t done = 0; done <= total; done += 4096) {
//     progress.Update(done, total);  // "... 12.0 MiB of 64.0 MiB (18%)"
//   }
//   progress.Clear();                // the line disappears
//
// When stderr is not a terminal (a pipe, a file, a test), nothing is ever
// written: scripts see only results and errors. On a terminal one line is
// redrawn in place, at most once per percent, and erased by Clear() (and
// by the destructor), so that results printed afterwards start on a clean
// line.

#ifndef SOCCR_TOOLS_PROGRESS_H_
#define SOCCR_TOOLS_PROGRESS_H_

#include <stdint.h>

#include <string>

#include "absl/strings/string_view.h"
#include "soccr/fd.h"

namespace soccr::tools {

// "812 bytes", "3.2 KiB", "64.0 MiB", "1.5 GiB".
std::string FormatBytes(uint64_t bytes);

class Progress {
 public:
  // Writes to `fd` (which must outlive this object) if `enabled`.
  Progress(BorrowedFd fd, bool enabled, absl::string_view prefix);
  // On stderr, enabled if and only if stderr is a terminal.
  static Progress OnStderr(absl::string_view prefix);
  // Disabled: for callers that show nothing.
  static Progress None() { return Progress(BorrowedFd(), false, ""); }

  Progress(Progress&& other) noexcept;
  Progress& operator=(Progress&&) = delete;
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() { Clear(); }

  bool enabled() const { return enabled_; }

  // Starts a step: shows "<prefix>: <what>".
  void Step(absl::string_view what);
  // `done` of `total` bytes of the current step.
  void Update(uint64_t done, uint64_t total);
  // Erases the line.
  void Clear();
  // A line the user should see even when progress is not shown (stderr not
  // a terminal): "<prefix>: <line>\n". Nothing for None().
  void Note(absl::string_view line);

 private:
  void Draw(absl::string_view line);

  BorrowedFd fd_;
  bool enabled_;
  std::string prefix_;
  std::string step_;
  int last_percent_ = -1;
  bool shown_ = false;
};

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_PROGRESS_H_
