// tools/system_facts.h: what `soccr check` reads about the system it runs
// on, from uname(2), /proc and the sysctl files.
//
//   std::string rmem = soccr::tools::ReadSysctl("net/ipv4/tcp_rmem");
//   // "4096 131072 6291456"
//
// Each reader answers with a value or a word that says it could not
// ("unknown", "?"): a report is still worth printing without it.

#ifndef SOCCR_TOOLS_SYSTEM_FACTS_H_
#define SOCCR_TOOLS_SYSTEM_FACTS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace soccr::tools {

// /proc/sys/<name> with its fields separated by single spaces ("4096
// 16384 4194304" for the tab-separated tcp_wmem); empty if unreadable.
std::string ReadSysctl(absl::string_view name);

// "yes" or "no" for capability number `bit` (12: CAP_NET_ADMIN, 13:
// CAP_NET_RAW) in this process's effective set, from /proc/self/status;
// "unknown" if that cannot be read.
std::string HasCapability(int bit);

// "Linux <release>, uid <euid>, CAP_NET_ADMIN <yes|no>, CAP_NET_RAW
// <yes|no>, network namespace net:[<inode>]".
std::string DescribeProcess();

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_SYSTEM_FACTS_H_
