// tools/check.h: `soccr check`, what this kernel and this process can do,
// probed for real in the current network namespace.
//
//   soccr::tools::CheckReport report = soccr::tools::RunChecks();
//   printf("%s", soccr::tools::FormatCheckReport(report).c_str());
//   return report.BasicsPresent() ? 0 : 1;
//
// The probes (tools/probes.h) make their kernel calls through `sys`, on
// loopback connections made for them; nothing outside the namespace is
// touched. The report (tools/check_report.h) gives one line per feature.

#ifndef SOCCR_TOOLS_CHECK_H_
#define SOCCR_TOOLS_CHECK_H_

#include "soccr/sys/sys.h"
#include "tools/check_report.h"

namespace soccr::tools {

// Runs every probe in the current network namespace. Never fails: a probe
// that cannot run reports why. `sys` must outlive the call.
CheckReport RunChecks(const sys::Sys& sys = sys::LinuxSys());

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_CHECK_H_
