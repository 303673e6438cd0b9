// Fuzzes the restore-input validator with arbitrary ConnectionStates (see
// fuzz_input.h for how bytes become a state).
//
// Properties: PlanRestore either rejects with InvalidArgument or
// Unimplemented, and then the image writer refuses the state with the same
// code; or it gives a plan for which CheckPlanInvariants holds, and the
// state survives an image: parse(serialize(x)) == x, in place and copied,
// with stable bytes.

#include <stddef.h>
#include <stdint.h>

#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/round_trip.h"
#include "soccr/image/image.h"
#include "soccr/internal/plan_invariants.h"
#include "soccr/restore_plan.h"

namespace soccr::fuzzing {
namespace {

void FuzzPlan(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const ConnectionState s = StateFromInput(in);
  absl::StatusOr<RestorePlan> plan = PlanRestore(s);
  absl::StatusOr<std::string> image = SerializeImage({s});
  if (!plan.ok()) {
    const absl::StatusCode code = plan.status().code();
    SOCCR_FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument ||
                     code == absl::StatusCode::kUnimplemented)
        << plan.status() << " for " << s.ToString();
    SOCCR_FUZZ_CHECK(!image.ok() && image.status().code() == code)
        << "the writer took a state PlanRestore refused: " << image.status();
    return;
  }
  const absl::Status invariants = internal::CheckPlanInvariants(s, *plan);
  SOCCR_FUZZ_CHECK(invariants.ok()) << invariants << " for " << s.ToString();
  CheckRoundTrip({s});
}

}  // namespace
}  // namespace soccr::fuzzing

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  soccr::fuzzing::FuzzPlan(data, size);
  return 0;
}
