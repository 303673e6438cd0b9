// tools/json_reports.h: what `soccr check --json`, `soccr dump --json` and
// `soccr restore --json` (and `soccr demo --json`) print, one JSON object each.
// The field names are stable (docs/json-output.md lists them); new fields may
// be added, none renamed or removed.
//
//   printf("%s", soccr::tools::CheckReportJson(report).c_str());

#ifndef SOCCR_TOOLS_JSON_REPORTS_H_
#define SOCCR_TOOLS_JSON_REPORTS_H_

#include <stddef.h>

#include <string>

#include "soccr/image/image.h"
#include "tools/check_report.h"
#include "tools/demo.h"
#include "tools/demo_hosts.h"
#include "tools/dump_command.h"

namespace soccr::tools {

// {"context", "basics_present", "features": [{"feature", "basic",
// "result": "ok"|"missing"|"skipped", "detail"}]}
std::string CheckReportJson(const CheckReport& report);

// {"pid", "fd", "image", "image_bytes", "repair", "original":
// "resumed"|"left_paused"|"closed"|"not_paused", "checkpoint_us",
// "write_us", "paused_us", "connection": {as in soccr inspect --json}}
std::string DumpReportJson(const DumpOptions& options,
                           const DumpResult& result);

// {"image", "index", "fd": 3, "program", "connection": {as in soccr
// inspect --json}}: what was restored, once it is live, before the exec.
std::string RestoreReportJson(const std::string& image, size_t index,
                              const ImageRecord& record,
                              const std::string& program);

// {"connection": "LOCAL->PEER", "inq_len", "outq_len", "unsent_len",
// "checkpoint_us", "image_bytes", "write_us", "image": path or null (removed),
// "restored_pid", "restore_us", "down_verified", "up_verified"}: a demo
// that printed it verified every byte (one that did not exits 1 instead).
std::string DemoReportJson(const DemoReport& report);

// {"connections", "bytes_each_way", "moved", "move_error": text or null,
// "phases_us": {"lock", "checkpoint", "transfer", "restore", "commit",
// "unlock", "downtime"} (null if the move failed), "image_bytes",
// "longest_gap_us", "peer": {"sent", "received", "mismatched", "missing",
// "error": text or null}, "service": {"src": {"read", "written"}, "dst":
// {...}}, "address_at": {"src", "dst"}, "locks_left": {"src", "dst"},
// "left_clean", "all_bytes_arrived"}: `soccr demo --hosts --json`.
std::string HostsDemoReportJson(const HostsDemoReport& report);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_JSON_REPORTS_H_
