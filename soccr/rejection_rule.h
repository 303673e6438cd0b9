// soccr/rejection_rule.h: the rule behind a state a restore refuses.
//
// PlanRestore() (and the image reader and writer and the C API, which pass
// its errors on) refuses a ConnectionState with a status that names the
// rule it broke: a check the kernel makes during a restore, or one of
// soccr's own invariants.
//
//   absl::StatusOr<soccr::RestorePlan> plan = soccr::PlanRestore(state);
//   if (std::optional<soccr::RejectionRule> rule =
//           soccr::RejectionRuleOf(plan.status())) {
//     // rule->source == soccr::RuleSource::kKernel, rule->name ==
//     // "tcp_repair_set_window", ...
//   }

#ifndef SOCCR_REJECTION_RULE_H_
#define SOCCR_REJECTION_RULE_H_

#include <stdint.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace soccr {

// Where a rule PlanRestore enforces comes from.
enum class RuleSource : uint8_t {
  // The kernel makes the same check during a restore: the state would fail
  // there (the rule's name is the kernel function that checks).
  kKernel,
  // soccr's memory safety or bookkeeping: lengths that must match the bytes,
  // fields a restore would have to drop or change silently, states the
  // repair interface cannot recreate without sending to the peer.
  kSoccr,
};

// The rule behind a refusal.
struct RejectionRule {
  RuleSource source = RuleSource::kSoccr;
  // For kKernel the kernel function ("tcp_repair_set_window"); for kSoccr
  // a short name of the invariant ("queue length").
  std::string name;
};

// The status payload (absl::Status::GetPayload) that carries a refusal's
// rule: "kernel:<function>" or "soccr:<invariant>".
inline constexpr absl::string_view kRejectionRulePayloadUrl =
    "soccr.dev/restore-plan-rule";

// The rule behind an error from PlanRestore (or from the image reader or
// writer and the C API, which pass PlanRestore's errors on); nullopt when
// `status` carries none.
std::optional<RejectionRule> RejectionRuleOf(const absl::Status& status);

// `status` with `prefix` before its message; the rule it carries is kept.
[[nodiscard]] absl::Status PrefixRejection(absl::string_view prefix,
                                           const absl::Status& status);

}  // namespace soccr

#endif  // SOCCR_REJECTION_RULE_H_
