// soccr/sys/counting_sys.h: a Sys that counts the kernel calls made through
// it, per operation, and forwards every call unchanged.
//
//   soccr::sys::CountingSys sys;                    // wraps LinuxSys()
//   absl::StatusOr<soccr::PausedSocket> p = soccr::PausedSocket::Pause(fd,
//   sys); absl::StatusOr<soccr::ConnectionState> s = soccr::Checkpoint(*p);
//   uint64_t calls = sys.Total();                   // kernel calls so far
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

#include "soccr/sys/sys.h"

namespace soccr::sys {

class CountingSys final : public Sys {
 public:
  // `real` must outlive this object.
  explicit CountingSys(const Sys& real = LinuxSys()) : real_(real) {}
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
  void Add(Op op) const {
    counts_[static_cast<int>(op)].fetch_add(1, std::memory_order_relaxed);
  }

  const Sys& real_;
  mutable std::atomic<uint64_t> counts_[kNumOps] = {};
};

}  // namespace soccr::sys

#endif  // SOCCR_SYS_COUNTING_SYS_H_
