// tools/check_report.h: the report of `soccr check`, one line per feature.
//
//   soccr::tools::CheckReport report = soccr::tools::RunChecks();
//   printf("%s", soccr::tools::FormatCheckReport(report).c_str());
//   return report.BasicsPresent() ? 0 : 1;

#ifndef SOCCR_TOOLS_CHECK_REPORT_H_
#define SOCCR_TOOLS_CHECK_REPORT_H_

#include <string>
#include <vector>

namespace soccr::tools {

// One feature, as a probe found it.
struct Probe {
  enum class Outcome { kOk, kMissing, kSkipped };
  std::string feature;  // "repair mode (TCP_REPAIR)"
  bool basic = false;
  Outcome outcome = Outcome::kSkipped;
  // What was checked (ok), or the failing call, errno and what it means.
  std::string detail;
};

struct CheckReport {
  // The kernel release, the process's credentials and capabilities, and
  // the network namespace.
  std::string context;
  std::vector<Probe> probes;

  // Whether every basic probe came out ok.
  bool BasicsPresent() const;
};

// One line of context, one line per probe, and a verdict.
std::string FormatCheckReport(const CheckReport& report);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_CHECK_REPORT_H_
