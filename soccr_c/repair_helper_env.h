// soccr_c/repair_helper_env.h: SOCCR_REPAIR_HELPER, the C API's way to run
// without CAP_NET_ADMIN.
//
// When the environment variable SOCCR_REPAIR_HELPER names the unix socket
// of a `soccr-repair --listen` service, the C API switches repair mode
// through it (soccr/repair_helper/helper_sys.h) and makes every other call
// itself; otherwise it calls the kernel directly.
//
//   const soccr::sys::Sys& sys = soccr::c_api::CApiSys();

#ifndef SOCCR_C_REPAIR_HELPER_ENV_H_
#define SOCCR_C_REPAIR_HELPER_ENV_H_

#include <string>

#include "absl/status/status.h"
#include "soccr/sys/sys.h"

namespace soccr::c_api {

// The variable's name.
inline constexpr char kRepairHelperEnv[] = "SOCCR_REPAIR_HELPER";

// SOCCR_REPAIR_HELPER as read at the first call (empty: unset). Later
// changes to the environment are not seen.
const std::string& RepairHelperPath();

// The Sys the C API uses (see the file comment). Lives forever; the first
// call decides. A helper that is not running yet is connected to at the
// first pause, and again whenever it closed the connection.
const sys::Sys& CApiSys();

// `s` with what to do about it when it is a failure to enter repair mode:
// without a helper, a hint to set SOCCR_REPAIR_HELPER; with one, its path.
absl::Status WithRepairHelperHint(const absl::Status& s);

}  // namespace soccr::c_api

#endif  // SOCCR_C_REPAIR_HELPER_ENV_H_
