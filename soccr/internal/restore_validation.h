// soccr/internal/restore_validation.h: the checks PlanRestore() makes
// before it plans anything.
//
// Each rule is one the kernel makes during a restore (named after the
// kernel function that checks) or one soccr's memory safety and
// bookkeeping need, nothing else; a comment at each rule says which and
// why, and the refusal carries it (soccr/rejection_rule.h).
//
//   const internal::ErrorContext ctx("restore", state.local, state.peer);
//   SOCCR_RETURN_IF_ERROR(internal::ValidateForRestore(state, ctx));

#ifndef SOCCR_INTERNAL_RESTORE_VALIDATION_H_
#define SOCCR_INTERNAL_RESTORE_VALIDATION_H_

#include <stdint.h>

#include "absl/status/status.h"
#include "soccr/connection_state.h"
#include "soccr/internal/error_context.h"
#include "soccr/restore_plan.h"

namespace soccr::internal {

// The kernel's TCP_MIN_MSS: TCP_MAXSEG refuses anything smaller.
constexpr int kMinUserMss = 88;
// The largest TCP_MAXSEG accepts (MAX_TCP_WINDOW).
constexpr int kMaxUserMss = 32767;
// The kernel keeps mss_clamp in a u16 (tcp_options_received): a larger
// TCPOPT_MSS value would be truncated without an error.
constexpr uint32_t kMaxMssClamp = 65535;

// Sequence-space comparison: a is after b.
inline bool SeqAfter(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(b - a) < 0;
}

// How a socket in `s` is recreated (s.state alone, and for CLOSE whether it
// has a peer).
RestoreKind RestoreKindOf(const ConnectionState& s);

// OK if `s` can be restored; otherwise the first rule it breaks, in `ctx`'s
// words, with the rule as its payload: InvalidArgument naming the field, or
// Unimplemented for what the repair interface cannot recreate.
[[nodiscard]] absl::Status ValidateForRestore(const ConnectionState& s,
                                              const ErrorContext& ctx);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_RESTORE_VALIDATION_H_
