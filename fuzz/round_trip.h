// fuzz/round_trip.h: the image format's properties, checked on states that
// a fuzzer found acceptable.

#ifndef SOCCR_FUZZ_ROUND_TRIP_H_
#define SOCCR_FUZZ_ROUND_TRIP_H_

#include <vector>

#include "absl/status/status.h"
#include "soccr/connection_state.h"

namespace soccr::fuzzing {

// For states PlanRestore accepts: they serialize; the image parses back to
// exactly them, both in place and copied; and serializing what was parsed
// gives the same bytes again. Aborts on any violation.
void CheckRoundTrip(const std::vector<ConnectionState>& states);

// An image reader's error must be one of the documented codes, with a
// message that says it comes from reading an image. Aborts otherwise.
void CheckImageError(const absl::Status& status);

}  // namespace soccr::fuzzing

#endif  // SOCCR_FUZZ_ROUND_TRIP_H_
