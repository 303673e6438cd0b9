// tools/locks.h: `soccr locks` and `soccr unlock ID`, the network locks of
// the current network namespace (soccr/netlock/netlock.h).
//
//   absl::StatusOr<std::vector<soccr::LockInfo>> all =
//       soccr::NetworkLock::List();
//   if (!all.ok()) return all.status();
//   std::string text = soccr::tools::FormatLocks(*all);  // "" if none
//
// One line per lock: its id, scope, how many connections it holds (or
// exempts, for the namespace scope), the process that took it, when (UTC)
// and its note:
//
//   3f2a9c0d1b7e4a55 connections 100 pid 4242 2026-12-02T07:01:00Z soccr send

#ifndef SOCCR_TOOLS_LOCKS_H_
#define SOCCR_TOOLS_LOCKS_H_

#include <optional>
#include <string>
#include <vector>

#include "soccr/netlock/netlock.h"

namespace soccr::tools {

// The text of `soccr locks`: one line per lock, nothing for none.
std::string FormatLocks(const std::vector<LockInfo>& locks);

// `soccr locks --json`: {"locks": [{"id", "scope", "connections", "pid",
// "created", "note"}, ...]}.
std::string FormatLocksJson(const std::vector<LockInfo>& locks);

// `soccr unlock --json ID`: {"unlocked": ID, "lock": {as in locks --json},
// or null if it was not listed just before the unlock}.
std::string FormatUnlockedJson(const std::string& id,
                               const std::optional<LockInfo>& lock);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_LOCKS_H_
