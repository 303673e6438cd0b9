// tools/check.h: `soccr check`, what this kernel and this process can do,
// probed for real in the current network namespace.
//
//   soccr::CheckReport report = soccr::RunChecks();
//   printf("%s", soccr::FormatCheckReport(report).c_str());
//   return report.BasicsPresent() ? 0 : 1;
//
// Each probe uses the kernel call it is about on a loopback connection (or
// a socket) made for it, and says why when it fails: the call and its
// errno, what that means and what it costs. Nothing outside the namespace
// is touched, and no socket is left in repair mode (the ones a probe pauses
// are resumed or closed; a socket closed in repair mode sends nothing).
//
// The basic features are those without which soccr cannot checkpoint or
// restore an established connection at all: repair mode, the queues,
// repair options, timestamps, and a whole checkpoint and restore. The
// others narrow what can be restored (half-closed connections need raw
// packet injection, large queues need buffers raised, ...).

#ifndef SOCCR_TOOLS_CHECK_H_
#define SOCCR_TOOLS_CHECK_H_

#include <string>
#include <vector>

namespace soccr {

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

// Runs every probe in the current network namespace. Never fails: a probe
// that cannot run reports why.
CheckReport RunChecks();

// One line of context, one line per probe, and a verdict.
std::string FormatCheckReport(const CheckReport& report);

}  // namespace soccr

#endif  // SOCCR_TOOLS_CHECK_H_
