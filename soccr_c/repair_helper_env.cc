#include "soccr_c/repair_helper_env.h"

#include <stdlib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "soccr/repair_helper/helper_sys.h"

namespace soccr::c_api {

const std::string& RepairHelperPath() {
  static const std::string* const path = [] {
    const char* v = getenv(kRepairHelperEnv);
    return new std::string(v == nullptr ? "" : v);
  }();
  return *path;
}

const sys::Sys& CApiSys() {
  static const sys::Sys* const sys = []() -> const sys::Sys* {
    if (RepairHelperPath().empty()) return &sys::LinuxSys();
    return new repair_helper::RepairHelperSys(
        repair_helper::RepairHelperClient::ForPath(RepairHelperPath()),
        sys::LinuxSys());
  }();
  return *sys;
}

absl::Status WithRepairHelperHint(const absl::Status& s) {
  if (s.ok() || !absl::StrContains(s.message(), "repair mode")) return s;
  if (!RepairHelperPath().empty()) {
    return absl::Status(
        s.code(),
        absl::StrCat(s.message(),
                     " (repair mode through the "
                     "helper at ",
                     kRepairHelperEnv, "=", RepairHelperPath(),
                     ": is `soccr-repair --listen ", RepairHelperPath(),
                     "` running, with CAP_NET_ADMIN, for this "
                     "user?)"));
  }
  if (s.code() != absl::StatusCode::kPermissionDenied) return s;
  return absl::Status(
      s.code(), absl::StrCat(s.message(),
                             " (without CAP_NET_ADMIN: run `soccr-repair "
                             "--listen PATH` with the capability and set ",
                             kRepairHelperEnv, "=PATH)"));
}

}  // namespace soccr::c_api
