#include "tools/progress.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace soccr::tools {

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, bytes == 1 ? " byte" : " bytes");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (v >= 1024 && unit < 3) {
    v /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", v, kUnits[unit]);
}

Progress::Progress(BorrowedFd fd, bool enabled, absl::string_view prefix)
    : fd_(fd), enabled_(enabled && fd), prefix_(prefix) {}

Progress Progress::OnStderr(absl::string_view prefix) {
  return Progress(BorrowedFd(STDERR_FILENO), ::isatty(STDERR_FILENO) == 1,
                  prefix);
}

Progress::Progress(Progress&& other) noexcept
    : fd_(other.fd_),
      enabled_(other.enabled_),
      prefix_(std::move(other.prefix_)),
      step_(std::move(other.step_)),
      last_percent_(other.last_percent_),
      shown_(other.shown_) {
  other.enabled_ = false;
  other.shown_ = false;
}

void Progress::Draw(absl::string_view line) {
  // \r and "erase to end of line": the new line replaces the old in place.
  const std::string out = absl::StrCat("\r\x1b[K", line);
  // Progress is best effort: a failed write to the terminal changes nothing.
  (void)!::write(fd_.get(), out.data(), out.size());
  shown_ = true;
}

void Progress::Step(absl::string_view what) {
  if (!enabled_) return;
  step_ = std::string(what);
  last_percent_ = -1;
  Draw(absl::StrCat(prefix_, ": ", step_));
}

void Progress::Update(uint64_t done, uint64_t total) {
  if (!enabled_ || total == 0) return;
  const int percent =
      static_cast<int>(done >= total ? 100 : done * 100 / total);
  if (percent == last_percent_) return;
  last_percent_ = percent;
  Draw(absl::StrCat(prefix_, ": ", step_, " ", FormatBytes(done), " of ",
                    FormatBytes(total), " (", percent, "%)"));
}

void Progress::Clear() {
  if (!enabled_ || !shown_) return;
  (void)!::write(fd_.get(), "\r\x1b[K", 4);
  shown_ = false;
}

void Progress::Note(absl::string_view line) {
  if (!fd_) return;
  Clear();
  const std::string out = absl::StrCat(prefix_, ": ", line, "\n");
  (void)!::write(fd_.get(), out.data(), out.size());
  if (enabled_ && !step_.empty()) Draw(absl::StrCat(prefix_, ": ", step_));
}

}  // namespace soccr::tools
