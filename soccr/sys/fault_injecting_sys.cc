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

Result<OwnedFd> FaultInjectingSys::Socket(int domain, int type,
                                          int protocol) const {
  if (int err = Intercept(Op::kSocket)) return {OwnedFd(), err};
  return real_.Socket(domain, type, protocol);
}

Result<void> FaultInjectingSys::SetRepair(BorrowedFd fd,
                                          RepairMode mode) const {
  if (int err = Intercept(Op::kSetRepair)) return {err};
  return real_.SetRepair(fd, mode);
}

Result<void> FaultInjectingSys::SetRepairQueue(BorrowedFd fd,
                                               RepairQueue queue) const {
  if (int err = Intercept(Op::kSetRepairQueue)) return {err};
  return real_.SetRepairQueue(fd, queue);
}

Result<uint32_t> FaultInjectingSys::GetQueueSeq(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetQueueSeq)) return {0, err};
  return real_.GetQueueSeq(fd);
}

Result<void> FaultInjectingSys::SetQueueSeq(BorrowedFd fd, uint32_t seq) const {
  if (int err = Intercept(Op::kSetQueueSeq)) return {err};
  return real_.SetQueueSeq(fd, seq);
}

Result<void> FaultInjectingSys::SetRepairOptions(
    BorrowedFd fd, absl::Span<const struct tcp_repair_opt> opts) const {
  if (int err = Intercept(Op::kSetRepairOptions)) return {err};
  return real_.SetRepairOptions(fd, opts);
}

Result<struct tcp_repair_window> FaultInjectingSys::GetRepairWindow(
    BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetRepairWindow)) return {{}, err};
  return real_.GetRepairWindow(fd);
}

Result<void> FaultInjectingSys::SetRepairWindow(
    BorrowedFd fd, const struct tcp_repair_window& window) const {
  if (int err = Intercept(Op::kSetRepairWindow)) return {err};
  return real_.SetRepairWindow(fd, window);
}

Result<uint32_t> FaultInjectingSys::GetTimestamp(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetTimestamp)) return {0, err};
  return real_.GetTimestamp(fd);
}

Result<void> FaultInjectingSys::SetTimestamp(BorrowedFd fd, uint32_t ts) const {
  if (int err = Intercept(Op::kSetTimestamp)) return {err};
  return real_.SetTimestamp(fd, ts);
}

Result<struct tcp_info> FaultInjectingSys::GetTcpInfo(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetTcpInfo)) return {{}, err};
  return real_.GetTcpInfo(fd);
}

Result<int> FaultInjectingSys::GetInq(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetInq)) return {0, err};
  return real_.GetInq(fd);
}

Result<int> FaultInjectingSys::GetOutq(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetOutq)) return {0, err};
  return real_.GetOutq(fd);
}

Result<int> FaultInjectingSys::GetOutqNotSent(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetOutqNotSent)) return {0, err};
  return real_.GetOutqNotSent(fd);
}

Result<size_t> FaultInjectingSys::Peek(BorrowedFd fd, absl::Span<uint8_t> buf,
                                       int flags) const {
  if (int err = Intercept(Op::kPeek)) return {0, err};
  return real_.Peek(fd, buf, flags);
}

Result<size_t> FaultInjectingSys::Send(BorrowedFd fd,
                                       absl::Span<const uint8_t> data,
                                       int flags) const {
  if (int err = Intercept(Op::kSend)) return {0, err};
  return real_.Send(fd, data, flags);
}

Result<size_t> FaultInjectingSys::SendTo(BorrowedFd fd,
                                         absl::Span<const uint8_t> data,
                                         const SocketAddress& dst) const {
  if (int err = Intercept(Op::kSendTo)) return {0, err};
  return real_.SendTo(fd, data, dst);
}

Result<short> FaultInjectingSys::Poll(BorrowedFd fd, short events) const {
  if (int err = Intercept(Op::kPoll)) return {0, err};
  return real_.Poll(fd, events);
}

Result<int> FaultInjectingSys::GetFileFlags(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetFileFlags)) return {0, err};
  return real_.GetFileFlags(fd);
}

Result<void> FaultInjectingSys::SetFileFlags(BorrowedFd fd, int flags) const {
  if (int err = Intercept(Op::kSetFileFlags)) return {err};
  return real_.SetFileFlags(fd, flags);
}

Result<void> FaultInjectingSys::Bind(BorrowedFd fd,
                                     const SocketAddress& addr) const {
  if (int err = Intercept(Op::kBind)) return {err};
  return real_.Bind(fd, addr);
}

Result<void> FaultInjectingSys::Connect(BorrowedFd fd,
                                        const SocketAddress& addr) const {
  if (int err = Intercept(Op::kConnect)) return {err};
  return real_.Connect(fd, addr);
}

Result<void> FaultInjectingSys::Listen(BorrowedFd fd, int backlog) const {
  if (int err = Intercept(Op::kListen)) return {err};
  return real_.Listen(fd, backlog);
}

Result<void> FaultInjectingSys::Shutdown(BorrowedFd fd, int how) const {
  if (int err = Intercept(Op::kShutdown)) return {err};
  return real_.Shutdown(fd, how);
}

Result<SocketAddress> FaultInjectingSys::GetSockName(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetSockName)) return {{}, err};
  return real_.GetSockName(fd);
}

Result<SocketAddress> FaultInjectingSys::GetPeerName(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetPeerName)) return {{}, err};
  return real_.GetPeerName(fd);
}

Result<socklen_t> FaultInjectingSys::GetSockOpt(BorrowedFd fd, int level,
                                                int name,
                                                absl::Span<uint8_t> buf) const {
  if (int err = Intercept(Op::kGetSockOpt, level, name)) return {0, err};
  return real_.GetSockOpt(fd, level, name, buf);
}

Result<void> FaultInjectingSys::SetSockOpt(
    BorrowedFd fd, int level, int name, absl::Span<const uint8_t> value) const {
  if (int err = Intercept(Op::kSetSockOpt, level, name)) return {err};
  return real_.SetSockOpt(fd, level, name, value);
}

}  // namespace soccr::sys
