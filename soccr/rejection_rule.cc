#include "soccr/rejection_rule.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace soccr {

std::optional<RejectionRule> RejectionRuleOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kRejectionRulePayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  const std::string rule(*payload);
  const size_t colon = rule.find(':');
  if (colon == std::string::npos) return std::nullopt;
  RejectionRule r;
  r.source = rule.substr(0, colon) == "kernel" ? RuleSource::kKernel
                                               : RuleSource::kSoccr;
  r.name = rule.substr(colon + 1);
  return r;
}

absl::Status PrefixRejection(absl::string_view prefix,
                             const absl::Status& status) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& value) {
    out.SetPayload(url, value);
  });
  return out;
}

}  // namespace soccr
