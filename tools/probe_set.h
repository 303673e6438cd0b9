// tools/probe_set.h: the features `soccr check` probes, in report order,
// with what each probe found.
//
//   ProbeSet probes({{"repair mode (TCP_REPAIR)", /*basic=*/true}});
//   probes.Missing("repair mode (TCP_REPAIR)", "setsockopt(...): ...");
//   probes.SkipRest("needs repair mode");
//   std::vector<Probe> lines = std::move(probes).Take();
//
// A feature no probe decided stays skipped, with the first reason given.

#ifndef SOCCR_TOOLS_PROBE_SET_H_
#define SOCCR_TOOLS_PROBE_SET_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tools/check_report.h"

namespace soccr::tools {

class ProbeSet {
 public:
  struct Feature {
    const char* name;
    bool basic;
  };

  // Every feature starts skipped, without a reason.
  explicit ProbeSet(absl::Span<const Feature> features);

  // Records what the probe of `feature` (one of the features) found.
  void Ok(absl::string_view feature, std::string detail);
  void Missing(absl::string_view feature, std::string detail);
  // Every feature still undecided is skipped because of `why` (unless an
  // earlier reason was given).
  void SkipRest(absl::string_view why);

  Probe::Outcome outcome(absl::string_view feature) const;

  std::vector<Probe> Take() && { return std::move(probes_); }

 private:
  Probe& Find(absl::string_view feature);
  const Probe& Find(absl::string_view feature) const;

  std::vector<Probe> probes_;
};

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_PROBE_SET_H_
