// soccr/sys/fault_injecting_sys.h: a Sys that records every call and fails
// the ones a test chooses. For tests only.
//
//   soccr::sys::FaultInjectingSys sys;  // wraps LinuxSys()
//   absl::Status once = run(sys);       // an operation, once
//   const size_t n = sys.calls().size();  // every call it made
//   for (size_t i = 0; i < n; ++i) {
//     sys.Reset();
//     sys.FailCallAt(i, EPERM);         // the i-th call fails
//     absl::Status again = run(sys);    // expect a clean error
//   }

#ifndef SOCCR_SYS_FAULT_INJECTING_SYS_H_
#define SOCCR_SYS_FAULT_INJECTING_SYS_H_

#include <stddef.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "soccr/sys/intercepting_sys.h"

namespace soccr::sys {

class FaultInjectingSys final : public InterceptingSys {
 public:
  // One recorded call. `level` and `name` are set for Get/SetSockOpt.
  struct Call {
    Op op;
    int level = 0;
    int name = 0;
    // Whether this call was made to fail.
    bool failed = false;
    // "setsockopt(TCP_REPAIR)", "getsockopt(1, 7)".
    std::string ToString() const;
  };

  explicit FaultInjectingSys(const Sys& real = LinuxSys())
      : InterceptingSys(real) {}

  // Fails the call with this 0-based index (counted since the last Reset())
  // with errno `err`, without making it.
  void FailCallAt(size_t index, int err);
  // Fails every call of `op` with errno `err`.
  void FailOp(Op op, int err);
  // Forgets recorded calls and planned failures.
  void Reset();
  std::vector<Call> calls() const;

 private:
  // Records the call; returns the errno to fail it with, or 0 to make it.
  int Intercept(Op op, int level, int name) const override;

  mutable absl::Mutex mu_;
  mutable std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::optional<size_t> fail_index_ ABSL_GUARDED_BY(mu_);
  int fail_index_err_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_op_err_[kNumOps] ABSL_GUARDED_BY(mu_) = {};
};

}  // namespace soccr::sys

#endif  // SOCCR_SYS_FAULT_INJECTING_SYS_H_
