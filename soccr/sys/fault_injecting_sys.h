// soccr/sys/fault_injecting_sys.h: a Sys that records every call and fails
// the ones a test chooses. For tests only.
//
//   soccr::sys::FaultInjectingSys sys;             // wraps LinuxSys()
//   ... run an operation once with `sys` ...
//   const size_t n = sys.calls().size();            // every call it made
//   for (size_t i = 0; i < n; ++i) {
//     sys.Reset();
//     sys.FailCallAt(i, EPERM);                     // the i-th call fails
//     ... run it again, expect a clean error ...
//   }

#ifndef SOCCR_SYS_FAULT_INJECTING_SYS_H_
#define SOCCR_SYS_FAULT_INJECTING_SYS_H_

#include <stddef.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "soccr/sys/sys.h"

namespace soccr::sys {

class FaultInjectingSys final : public Sys {
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

  explicit FaultInjectingSys(const Sys& real = LinuxSys()) : real_(real) {}

  // Fails the call with this 0-based index (counted since the last Reset())
  // with errno `err`, without making it.
  void FailCallAt(size_t index, int err);
  // Fails every call of `op` with errno `err`.
  void FailOp(Op op, int err);
  // Forgets recorded calls and planned failures.
  void Reset();
  std::vector<Call> calls() const;

  Result<OwnedFd> Socket(int domain, int type, int protocol) const override;
  Result<void> SetRepair(BorrowedFd fd, RepairMode mode) const override;
  Result<void> SetRepairQueue(BorrowedFd fd, RepairQueue queue) const override;
  Result<uint32_t> GetQueueSeq(BorrowedFd fd) const override;
  Result<void> SetQueueSeq(BorrowedFd fd, uint32_t seq) const override;
  Result<void> SetRepairOptions(
      BorrowedFd fd,
      absl::Span<const struct tcp_repair_opt> opts) const override;
  Result<struct tcp_repair_window> GetRepairWindow(
      BorrowedFd fd) const override;
  Result<void> SetRepairWindow(
      BorrowedFd fd, const struct tcp_repair_window& window) const override;
  Result<uint32_t> GetTimestamp(BorrowedFd fd) const override;
  Result<void> SetTimestamp(BorrowedFd fd, uint32_t ts) const override;
  Result<struct tcp_info> GetTcpInfo(BorrowedFd fd) const override;
  Result<int> GetInq(BorrowedFd fd) const override;
  Result<int> GetOutq(BorrowedFd fd) const override;
  Result<int> GetOutqNotSent(BorrowedFd fd) const override;
  Result<size_t> Peek(BorrowedFd fd, absl::Span<uint8_t> buf,
                      int flags) const override;
  Result<size_t> Send(BorrowedFd fd, absl::Span<const uint8_t> data,
                      int flags) const override;
  Result<size_t> SendTo(BorrowedFd fd, absl::Span<const uint8_t> data,
                        const SocketAddress& dst) const override;
  Result<short> Poll(BorrowedFd fd, short events) const override;
  Result<int> GetFileFlags(BorrowedFd fd) const override;
  Result<void> SetFileFlags(BorrowedFd fd, int flags) const override;
  Result<void> Bind(BorrowedFd fd, const SocketAddress& addr) const override;
  Result<void> Connect(BorrowedFd fd, const SocketAddress& addr) const override;
  Result<void> Listen(BorrowedFd fd, int backlog) const override;
  Result<void> Shutdown(BorrowedFd fd, int how) const override;
  Result<SocketAddress> GetSockName(BorrowedFd fd) const override;
  Result<SocketAddress> GetPeerName(BorrowedFd fd) const override;
  Result<socklen_t> GetSockOpt(BorrowedFd fd, int level, int name,
                               absl::Span<uint8_t> buf) const override;
  Result<void> SetSockOpt(BorrowedFd fd, int level, int name,
                          absl::Span<const uint8_t> value) const override;

 private:
  // Records the call; returns the errno to fail it with, or 0 to make it.
  int Intercept(Op op, int level = 0, int name = 0) const;

  const Sys& real_;
  mutable absl::Mutex mu_;
  mutable std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::optional<size_t> fail_index_ ABSL_GUARDED_BY(mu_);
  int fail_index_err_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_op_err_[kNumOps] ABSL_GUARDED_BY(mu_) = {};
};

}  // namespace soccr::sys

#endif  // SOCCR_SYS_FAULT_INJECTING_SYS_H_
