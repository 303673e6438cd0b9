#include "tools/check.h"

#include <utility>

#include "tools/probe_set.h"
#include "tools/probes.h"
#include "tools/system_facts.h"

namespace soccr::tools {

CheckReport RunChecks(const sys::Sys& sys) {
  CheckReport report;
  report.context = DescribeProcess();
  ProbeSet probes(ProbedFeatures());
  RunProbes(sys, probes);
  report.probes = std::move(probes).Take();
  return report;
}

}  // namespace soccr::tools
