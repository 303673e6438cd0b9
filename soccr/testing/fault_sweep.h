// soccr/testing/fault_sweep.h: what fault sweeps (a FaultInjectingSys
// failing each call of an operation in turn) need to judge the outcome.
//
//   sys.FailCallAt(i, EPERM);
//   absl::Status s = Run(sys);
//   if (s.ok()) {
//     EXPECT_TRUE(soccr::testing::IsBestEffort(
//         soccr::testing::FailedCall(sys)));
//   }

#ifndef SOCCR_TESTING_FAULT_SWEEP_H_
#define SOCCR_TESTING_FAULT_SWEEP_H_

#include "soccr/sys/fault_injecting_sys.h"

namespace soccr::testing {

// The call `sys` failed since its last Reset(), or a default Call (with
// `failed` false) if none did.
sys::FaultInjectingSys::Call FailedCall(const sys::FaultInjectingSys& sys);

// Whether soccr tolerates the failure of `call` by design, as the library
// itself says (soccr/internal/best_effort.h): an operation may succeed
// although such a call failed, and no other.
bool IsBestEffort(const sys::FaultInjectingSys::Call& call);

}  // namespace soccr::testing

#endif  // SOCCR_TESTING_FAULT_SWEEP_H_
