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

Result<OwnedFd> CountingSys::Socket(int domain, int type, int protocol) const {
  Add(Op::kSocket);
  return real_.Socket(domain, type, protocol);
}

Result<void> CountingSys::SetRepair(BorrowedFd fd, RepairMode mode) const {
  Add(Op::kSetRepair);
  return real_.SetRepair(fd, mode);
}

Result<void> CountingSys::SetRepairQueue(BorrowedFd fd,
                                         RepairQueue queue) const {
  Add(Op::kSetRepairQueue);
  return real_.SetRepairQueue(fd, queue);
}

Result<uint32_t> CountingSys::GetQueueSeq(BorrowedFd fd) const {
  Add(Op::kGetQueueSeq);
  return real_.GetQueueSeq(fd);
}

Result<void> CountingSys::SetQueueSeq(BorrowedFd fd, uint32_t seq) const {
  Add(Op::kSetQueueSeq);
  return real_.SetQueueSeq(fd, seq);
}

Result<void> CountingSys::SetRepairOptions(
    BorrowedFd fd, absl::Span<const struct tcp_repair_opt> opts) const {
  Add(Op::kSetRepairOptions);
  return real_.SetRepairOptions(fd, opts);
}

Result<struct tcp_repair_window> CountingSys::GetRepairWindow(
    BorrowedFd fd) const {
  Add(Op::kGetRepairWindow);
  return real_.GetRepairWindow(fd);
}

Result<void> CountingSys::SetRepairWindow(
    BorrowedFd fd, const struct tcp_repair_window& window) const {
  Add(Op::kSetRepairWindow);
  return real_.SetRepairWindow(fd, window);
}

Result<uint32_t> CountingSys::GetTimestamp(BorrowedFd fd) const {
  Add(Op::kGetTimestamp);
  return real_.GetTimestamp(fd);
}

Result<void> CountingSys::SetTimestamp(BorrowedFd fd, uint32_t ts) const {
  Add(Op::kSetTimestamp);
  return real_.SetTimestamp(fd, ts);
}

Result<struct tcp_info> CountingSys::GetTcpInfo(BorrowedFd fd) const {
  Add(Op::kGetTcpInfo);
  return real_.GetTcpInfo(fd);
}

Result<int> CountingSys::GetInq(BorrowedFd fd) const {
  Add(Op::kGetInq);
  return real_.GetInq(fd);
}

Result<int> CountingSys::GetOutq(BorrowedFd fd) const {
  Add(Op::kGetOutq);
  return real_.GetOutq(fd);
}

Result<int> CountingSys::GetOutqNotSent(BorrowedFd fd) const {
  Add(Op::kGetOutqNotSent);
  return real_.GetOutqNotSent(fd);
}

Result<size_t> CountingSys::Peek(BorrowedFd fd, absl::Span<uint8_t> buf,
                                 int flags) const {
  Add(Op::kPeek);
  return real_.Peek(fd, buf, flags);
}

Result<size_t> CountingSys::Send(BorrowedFd fd, absl::Span<const uint8_t> data,
                                 int flags) const {
  Add(Op::kSend);
  return real_.Send(fd, data, flags);
}

Result<size_t> CountingSys::SendTo(BorrowedFd fd,
                                   absl::Span<const uint8_t> data,
                                   const SocketAddress& dst) const {
  Add(Op::kSendTo);
  return real_.SendTo(fd, data, dst);
}

Result<short> CountingSys::Poll(BorrowedFd fd, short events) const {
  Add(Op::kPoll);
  return real_.Poll(fd, events);
}

Result<int> CountingSys::GetFileFlags(BorrowedFd fd) const {
  Add(Op::kGetFileFlags);
  return real_.GetFileFlags(fd);
}

Result<void> CountingSys::SetFileFlags(BorrowedFd fd, int flags) const {
  Add(Op::kSetFileFlags);
  return real_.SetFileFlags(fd, flags);
}

Result<void> CountingSys::Bind(BorrowedFd fd, const SocketAddress& addr) const {
  Add(Op::kBind);
  return real_.Bind(fd, addr);
}

Result<void> CountingSys::Connect(BorrowedFd fd,
                                  const SocketAddress& addr) const {
  Add(Op::kConnect);
  return real_.Connect(fd, addr);
}

Result<void> CountingSys::Listen(BorrowedFd fd, int backlog) const {
  Add(Op::kListen);
  return real_.Listen(fd, backlog);
}

Result<void> CountingSys::Shutdown(BorrowedFd fd, int how) const {
  Add(Op::kShutdown);
  return real_.Shutdown(fd, how);
}

Result<SocketAddress> CountingSys::GetSockName(BorrowedFd fd) const {
  Add(Op::kGetSockName);
  return real_.GetSockName(fd);
}

Result<SocketAddress> CountingSys::GetPeerName(BorrowedFd fd) const {
  Add(Op::kGetPeerName);
  return real_.GetPeerName(fd);
}

Result<socklen_t> CountingSys::GetSockOpt(BorrowedFd fd, int level, int name,
                                          absl::Span<uint8_t> buf) const {
  Add(Op::kGetSockOpt);
  return real_.GetSockOpt(fd, level, name, buf);
}

Result<void> CountingSys::SetSockOpt(BorrowedFd fd, int level, int name,
                                     absl::Span<const uint8_t> value) const {
  Add(Op::kSetSockOpt);
  return real_.SetSockOpt(fd, level, name, value);
}

}  // namespace soccr::sys
