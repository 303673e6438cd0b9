#include "soccr/sys/fault_injecting_sys.h"

#include "absl/strings/str_cat.h"

namespace soccr::sys {

std::string FaultInjectingSys::Call::ToString() const {
  if (op == Op::kGetSockOpt || op == Op::kSetSockOpt) {
    return absl::StrCat(OpName(op), "(", level, ", ", name, ")");
  }
  return std::string(OpName(op));
}

void FaultInjectingSys::FailCallAt(size_t index, int err) {
  absl::MutexLock lock(&mu_);
  fail_index_ = index;
  fail_index_err_ = err;
}

void FaultInjectingSys::FailOp(Op op, int err) {
  absl::MutexLock lock(&mu_);
  fail_op_err_[static_cast<int>(op)] = err;
}

void FaultInjectingSys::Reset() {
  absl::MutexLock lock(&mu_);
  calls_.clear();
  fail_index_.reset();
  fail_index_err_ = 0;
  for (int& e : fail_op_err_) e = 0;
}

std::vector<FaultInjectingSys::Call> FaultInjectingSys::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

int FaultInjectingSys::Intercept(Op op, int level, int name) const {
  absl::MutexLock lock(&mu_);
  int err = fail_op_err_[static_cast<int>(op)];
  if (fail_index_.has_value() && *fail_index_ == calls_.size()) {
    err = fail_index_err_;
  }
  calls_.push_back(Call{op, level, name, err != 0});
  return err;
}

}  // namespace soccr::sys
