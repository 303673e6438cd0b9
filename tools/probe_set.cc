#include "tools/probe_set.h"

#include <utility>

namespace soccr::tools {

ProbeSet::ProbeSet(absl::Span<const Feature> features) {
  for (const Feature& f : features) {
    probes_.push_back({f.name, f.basic, Probe::Outcome::kSkipped, ""});
  }
}

const Probe& ProbeSet::Find(absl::string_view feature) const {
  for (const Probe& p : probes_) {
    if (p.feature == feature) return p;
  }
  return probes_.front();  // unreachable: callers name known features
}

Probe& ProbeSet::Find(absl::string_view feature) {
  return const_cast<Probe&>(std::as_const(*this).Find(feature));
}

void ProbeSet::Ok(absl::string_view feature, std::string detail) {
  Probe& p = Find(feature);
  p.outcome = Probe::Outcome::kOk;
  p.detail = std::move(detail);
}

void ProbeSet::Missing(absl::string_view feature, std::string detail) {
  Probe& p = Find(feature);
  p.outcome = Probe::Outcome::kMissing;
  p.detail = std::move(detail);
}

void ProbeSet::SkipRest(absl::string_view why) {
  for (Probe& p : probes_) {
    if (p.outcome == Probe::Outcome::kSkipped && p.detail.empty()) {
      p.detail = std::string(why);
    }
  }
}

Probe::Outcome ProbeSet::outcome(absl::string_view feature) const {
  return Find(feature).outcome;
}

}  // namespace soccr::tools
