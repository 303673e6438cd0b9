// soccr/sys/counting_sys.h: a Sys that counts the kernel calls made through
// it, per operation, and forwards every call unchanged.
//
//   soccr::sys::CountingSys sys;  // wraps LinuxSys()
//   absl::StatusOr<soccr::PausedSocket> p =
//       soccr::PausedSocket::Pause(soccr::BorrowedFd(fd), sys);
//   if (!p.ok()) return p.status();
//   absl::StatusOr<soccr::ConnectionState> s = soccr::Checkpoint(*p);
//   uint64_t calls = sys.Total();  // kernel calls so far
//   uint64_t peeks = sys.Count(soccr::sys::Op::kPeek);
//
// For benchmarks and diagnostics: how many system calls an operation costs
// is part of its price. Counting is lock-free (one relaxed atomic increment
// per call), so one CountingSys may serve many threads at once.

#ifndef SOCCR_SYS_COUNTING_SYS_H_
#define SOCCR_SYS_COUNTING_SYS_H_

#include <stdint.h>

#include <atomic>
#include <string>

#include "soccr/sys/intercepting_sys.h"

namespace soccr::sys {

class CountingSys final : public InterceptingSys {
 public:
  // `real` must outlive this object.
  explicit CountingSys(const Sys& real = LinuxSys()) : InterceptingSys(real) {}
  CountingSys(const CountingSys&) = delete;
  CountingSys& operator=(const CountingSys&) = delete;

  // Calls of `op` since construction or the last Reset().
  uint64_t Count(Op op) const {
    return counts_[static_cast<int>(op)].load(std::memory_order_relaxed);
  }
  // Calls of every operation.
  uint64_t Total() const;
  // Zeroes every count. Not atomic with respect to calls made meanwhile.
  void Reset();
  // "socket 1, setsockopt(TCP_REPAIR) 2, ...": the non-zero counts in Op
  // order, for logs and benchmark output.
  std::string ToString() const;

 private:
  // Counts the call and lets it through.
  int Intercept(Op op, int, int) const override {
    counts_[static_cast<int>(op)].fetch_add(1, std::memory_order_relaxed);
    return 0;
  }

  mutable std::atomic<uint64_t> counts_[kNumOps] = {};
};

}  // namespace soccr::sys

#endif  // SOCCR_SYS_COUNTING_SYS_H_
