#include "tools/check_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace soccr::tools {

bool CheckReport::BasicsPresent() const {
  for (const Probe& p : probes) {
    if (p.basic && p.outcome != Probe::Outcome::kOk) return false;
  }
  return true;
}

std::string FormatCheckReport(const CheckReport& report) {
  std::string out = absl::StrCat(report.context, "\n");
  std::vector<std::string> missing_basics;
  for (const Probe& p : report.probes) {
    const char* outcome = p.outcome == Probe::Outcome::kOk        ? "ok"
                          : p.outcome == Probe::Outcome::kMissing ? "missing"
                                                                  : "skipped";
    absl::StrAppendFormat(&out, "%-7s %s %-36s %s\n", outcome,
                          p.basic ? "*" : " ", p.feature, p.detail);
    if (p.basic && p.outcome != Probe::Outcome::kOk) {
      missing_basics.push_back(p.feature);
    }
  }
  if (missing_basics.empty()) {
    absl::StrAppend(&out,
                    "all basic features (*) are present: soccr can "
                    "checkpoint and restore connections here\n");
  } else {
    absl::StrAppend(&out, "basic features (*) missing: ",
                    absl::StrJoin(missing_basics, ", "),
                    "; soccr cannot checkpoint and restore connections "
                    "here\n");
  }
  return out;
}

}  // namespace soccr::tools
