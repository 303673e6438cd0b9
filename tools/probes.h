// tools/probes.h: the probes of `soccr check`, each the kernel call it is
// about, made through a sys::Sys on a loopback connection (or a socket)
// made for it.
//
//   ProbeSet probes(ProbedFeatures());
//   RunProbes(sys::LinuxSys(), probes);
//
// A probe that fails says why: the call and its errno, what that means and
// what it costs. No socket is left in repair mode (the ones a probe pauses
// are resumed or closed; a socket closed in repair mode sends nothing).
//
// The basic features are those without which soccr cannot checkpoint or
// restore an established connection at all: repair mode, the queues,
// repair options, timestamps, and a whole checkpoint and restore. The
// others narrow what can be restored (half-closed connections need raw
// packet injection, large queues need buffers raised, ...).

#ifndef SOCCR_TOOLS_PROBES_H_
#define SOCCR_TOOLS_PROBES_H_

#include "absl/types/span.h"
#include "soccr/sys/sys.h"
#include "tools/probe_set.h"

namespace soccr::tools {

// The features RunProbes() decides, in report order.
absl::Span<const ProbeSet::Feature> ProbedFeatures();

// Probes every feature in the current network namespace through `sys`,
// recording each outcome in `probes` (made from ProbedFeatures()).
void RunProbes(const sys::Sys& sys, ProbeSet& probes);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_PROBES_H_
