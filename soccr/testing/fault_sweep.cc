#include "soccr/testing/fault_sweep.h"

#include "soccr/internal/best_effort.h"

namespace soccr::testing {

sys::FaultInjectingSys::Call FailedCall(const sys::FaultInjectingSys& sys) {
  for (const sys::FaultInjectingSys::Call& c : sys.calls()) {
    if (c.failed) return c;
  }
  return {};
}

bool IsBestEffort(const sys::FaultInjectingSys::Call& call) {
  return call.op == sys::Op::kSetSockOpt &&
         internal::IsBestEffortSetSockOpt(call.level, call.name);
}

}  // namespace soccr::testing
