#include "soccr/internal/huge_pages.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "soccr/fd.h"

namespace soccr::internal {

bool HugePagesOnRequest() {
  static const bool on = [] {
    OwnedFd fd(::open("/sys/kernel/mm/transparent_hugepage/enabled",
                      O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    char buf[128] = {};
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
    if (n <= 0) return false;
    const absl::string_view mode(buf, static_cast<size_t>(n));
    return absl::StrContains(mode, "[always]") ||
           absl::StrContains(mode, "[madvise]");
  }();
  return on;
}

}  // namespace soccr::internal
