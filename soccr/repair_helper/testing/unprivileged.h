// soccr/repair_helper/testing/unprivileged.h: a test process without
// CAP_NET_ADMIN and a repair helper with it.
//
// EnterUnprivilegedWithHelper(), called first thing in main() (the process
// must be single-threaded), makes a private user and network namespace
// (lo up), starts the real `soccr-repair --listen` binary in it (it keeps
// CAP_NET_ADMIN there), then moves the test process into a nested user
// namespace, where it holds no capability over that network namespace: it
// can make connections over lo, and TCP_REPAIR fails with EPERM, exactly as
// for an ordinary user. Every test of the binary then shares that one
// network namespace (a fresh one of its own would give the test the
// capability back).
//
//   // main(), first thing; then HelperSocketPath() is the service's
//   // unix socket
//   if (!soccr::repair_helper::testing::EnterUnprivilegedWithHelper().ok())
//     return 1;

#ifndef SOCCR_REPAIR_HELPER_TESTING_UNPRIVILEGED_H_
#define SOCCR_REPAIR_HELPER_TESTING_UNPRIVILEGED_H_

#include <string>

#include "absl/status/status.h"

namespace soccr::repair_helper::testing {

// See the file comment. `helper_binary`: the soccr-repair binary (default:
// tools/soccr-repair in the runfiles).
[[nodiscard]] absl::Status EnterUnprivilegedWithHelper(
    const std::string& helper_binary = "");

// The unix socket the helper listens on.
const std::string& HelperSocketPath();

// The helper's stderr so far (its log of refusals).
std::string HelperLog();

// Stops the helper (SIGTERM) and waits for it; its exit status.
int StopHelper();

}  // namespace soccr::repair_helper::testing

#endif  // SOCCR_REPAIR_HELPER_TESTING_UNPRIVILEGED_H_
