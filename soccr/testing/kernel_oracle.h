// soccr/testing/kernel_oracle.h: PlanRestore's verdict checked against the
// kernel's, with real sockets.
//
// For tests and fuzzers that hold CAP_NET_ADMIN and CAP_NET_RAW in their own
// network namespace (EnterPrivateNetns):
//
//   ASSERT_OK(soccr::testing::SetUpSinkNetwork());
//   soccr::testing::OracleCounts counts;
//   soccr::ConnectionState s = soccr::testing::WithSinkAddresses(state);
//   absl::Status agree = soccr::testing::CompareWithKernel(s, counts);
//
// A state PlanRestore accepts is restored with soccr::Restore() and resumed:
// any error there is a disagreement (Unavailable, an injected segment the
// kernel did not process within the restore's bound on a loaded machine,
// is tried once more first). A state it refuses by a rule it says
// the kernel makes (RuleSource::kKernel) is handed to the kernel with the
// bare repair calls, no soccr code involved: if the kernel takes them all,
// that is a disagreement too. Refusals by soccr's own invariants are only
// counted.

#ifndef SOCCR_TESTING_KERNEL_ORACLE_H_
#define SOCCR_TESTING_KERNEL_ORACLE_H_

#include <stddef.h>

#include <map>
#include <string>

#include "absl/status/status.h"
#include "soccr/connection_state.h"

namespace soccr::testing {

// What CompareWithKernel saw.
struct OracleCounts {
  size_t accepted = 0;        // PlanRestore took it, and so did the kernel
  size_t kernel_refused = 0;  // a kernel rule, and the kernel refused too
  size_t soccr_refused = 0;   // a soccr invariant
  // Per rule ("kernel:tcp_repair_set_window", "soccr:queue length") and per
  // accepted state ("accepted:ESTABLISHED").
  std::map<std::string, size_t> by_rule;

  // "accepted 812, kernel-refused 95 (...), soccr-refused 93 (...)".
  std::string ToString() const;
};

// Prepares the current network namespace: a veth pair (sink0, sink1) up,
// 192.0.2.1 and 2001:db8::1 on sink0, and default routes (IPv4 and IPv6)
// through sink0, so that every peer address is reachable and whatever a
// restored socket sends vanishes. Runs ip(8).
[[nodiscard]] absl::Status SetUpSinkNetwork();

// `s` with its addresses replaced by the sink network's, kind for kind: an
// IPv4 address becomes 192.0.2.1 (local) or 198.51.100.7 (peer), IPv6
// 2001:db8::1 or 2001:db8:1::7, IPv4-mapped the mapped forms of the IPv4
// ones, an empty address stays empty. Ports are kept. SO_BINDTODEVICE and
// TCP_CONGESTION name sink0 (or none) and reno (or cubic).
ConnectionState WithSinkAddresses(ConnectionState s);

// Internal error, with the state printed, when PlanRestore and the kernel
// disagree about `s` (see the file comment); OK otherwise. Every socket it
// made is closed before it returns, without lingering.
[[nodiscard]] absl::Status CompareWithKernel(const ConnectionState& s,
                                             OracleCounts& counts);

}  // namespace soccr::testing

#endif  // SOCCR_TESTING_KERNEL_ORACLE_H_
