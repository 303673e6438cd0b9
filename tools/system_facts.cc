#include "tools/system_facts.h"

#include <stdint.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace soccr::tools {

std::string ReadSysctl(absl::string_view name) {
  std::ifstream in(absl::StrCat("/proc/sys/", name));
  std::stringstream s;
  s << in.rdbuf();
  return absl::StrJoin(
      absl::StrSplit(s.str(), absl::ByAnyChar(" \t\n"), absl::SkipEmpty()),
      " ");
}

std::string HasCapability(int bit) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v = line;
    if (!absl::ConsumePrefix(&v, "CapEff:")) continue;
    uint64_t caps = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(v), &caps)) break;
    return (caps >> bit) & 1 ? "yes" : "no";
  }
  return "unknown";
}

std::string DescribeProcess() {
  struct utsname u = {};
  ::uname(&u);
  char netns[64] = "?";
  const ssize_t n = ::readlink("/proc/self/ns/net", netns, sizeof(netns) - 1);
  if (n > 0) netns[n] = '\0';
  return absl::StrCat("Linux ", u.release, ", uid ", ::geteuid(),
                      ", CAP_NET_ADMIN ", HasCapability(12), ", CAP_NET_RAW ",
                      HasCapability(13), ", network namespace ", netns);
}

}  // namespace soccr::tools
