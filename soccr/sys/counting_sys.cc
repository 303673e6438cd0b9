#include "soccr/sys/counting_sys.h"

#include "absl/strings/str_cat.h"

namespace soccr::sys {

uint64_t CountingSys::Total() const {
  uint64_t total = 0;
  for (const std::atomic<uint64_t>& c : counts_) {
    total += c.load(std::memory_order_relaxed);
  }
  return total;
}

void CountingSys::Reset() {
  for (std::atomic<uint64_t>& c : counts_) {
    c.store(0, std::memory_order_relaxed);
  }
}

std::string CountingSys::ToString() const {
  std::string out;
  for (int i = 0; i < kNumOps; ++i) {
    const uint64_t n = counts_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    absl::StrAppend(&out, out.empty() ? "" : ", ", OpName(static_cast<Op>(i)),
                    " ", n);
  }
  return out;
}

}  // namespace soccr::sys
