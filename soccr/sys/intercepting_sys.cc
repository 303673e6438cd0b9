#include "soccr/sys/intercepting_sys.h"

namespace soccr::sys {

Result<OwnedFd> InterceptingSys::Socket(int domain, int type,
                                        int protocol) const {
  if (int err = Intercept(Op::kSocket, 0, 0)) return {OwnedFd(), err};
  return real_.Socket(domain, type, protocol);
}

Result<void> InterceptingSys::SetRepair(BorrowedFd fd, RepairMode mode) const {
  if (int err = Intercept(Op::kSetRepair, 0, 0)) return {err};
  return real_.SetRepair(fd, mode);
}

Result<void> InterceptingSys::SetRepairQueue(BorrowedFd fd,
                                             RepairQueue queue) const {
  if (int err = Intercept(Op::kSetRepairQueue, 0, 0)) return {err};
  return real_.SetRepairQueue(fd, queue);
}

Result<uint32_t> InterceptingSys::GetQueueSeq(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetQueueSeq, 0, 0)) return {0, err};
  return real_.GetQueueSeq(fd);
}

Result<void> InterceptingSys::SetQueueSeq(BorrowedFd fd, uint32_t seq) const {
  if (int err = Intercept(Op::kSetQueueSeq, 0, 0)) return {err};
  return real_.SetQueueSeq(fd, seq);
}

Result<void> InterceptingSys::SetRepairOptions(
    BorrowedFd fd, absl::Span<const struct tcp_repair_opt> opts) const {
  if (int err = Intercept(Op::kSetRepairOptions, 0, 0)) return {err};
  return real_.SetRepairOptions(fd, opts);
}

Result<struct tcp_repair_window> InterceptingSys::GetRepairWindow(
    BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetRepairWindow, 0, 0)) return {{}, err};
  return real_.GetRepairWindow(fd);
}

Result<void> InterceptingSys::SetRepairWindow(
    BorrowedFd fd, const struct tcp_repair_window& window) const {
  if (int err = Intercept(Op::kSetRepairWindow, 0, 0)) return {err};
  return real_.SetRepairWindow(fd, window);
}

Result<uint32_t> InterceptingSys::GetTimestamp(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetTimestamp, 0, 0)) return {0, err};
  return real_.GetTimestamp(fd);
}

Result<void> InterceptingSys::SetTimestamp(BorrowedFd fd, uint32_t ts) const {
  if (int err = Intercept(Op::kSetTimestamp, 0, 0)) return {err};
  return real_.SetTimestamp(fd, ts);
}

Result<struct tcp_info> InterceptingSys::GetTcpInfo(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetTcpInfo, 0, 0)) return {{}, err};
  return real_.GetTcpInfo(fd);
}

Result<int> InterceptingSys::GetInq(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetInq, 0, 0)) return {0, err};
  return real_.GetInq(fd);
}

Result<int> InterceptingSys::GetOutq(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetOutq, 0, 0)) return {0, err};
  return real_.GetOutq(fd);
}

Result<int> InterceptingSys::GetOutqNotSent(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetOutqNotSent, 0, 0)) return {0, err};
  return real_.GetOutqNotSent(fd);
}

Result<size_t> InterceptingSys::Peek(BorrowedFd fd, absl::Span<uint8_t> buf,
                                     int flags) const {
  if (int err = Intercept(Op::kPeek, 0, 0)) return {0, err};
  return real_.Peek(fd, buf, flags);
}

Result<size_t> InterceptingSys::Send(BorrowedFd fd,
                                     absl::Span<const uint8_t> data,
                                     int flags) const {
  if (int err = Intercept(Op::kSend, 0, 0)) return {0, err};
  return real_.Send(fd, data, flags);
}

Result<size_t> InterceptingSys::SendTo(BorrowedFd fd,
                                       absl::Span<const uint8_t> data,
                                       const SocketAddress& dst) const {
  if (int err = Intercept(Op::kSendTo, 0, 0)) return {0, err};
  return real_.SendTo(fd, data, dst);
}

Result<short> InterceptingSys::Poll(BorrowedFd fd, short events) const {
  if (int err = Intercept(Op::kPoll, 0, 0)) return {0, err};
  return real_.Poll(fd, events);
}

Result<int> InterceptingSys::GetFileFlags(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetFileFlags, 0, 0)) return {0, err};
  return real_.GetFileFlags(fd);
}

Result<void> InterceptingSys::SetFileFlags(BorrowedFd fd, int flags) const {
  if (int err = Intercept(Op::kSetFileFlags, 0, 0)) return {err};
  return real_.SetFileFlags(fd, flags);
}

Result<void> InterceptingSys::Bind(BorrowedFd fd,
                                   const SocketAddress& addr) const {
  if (int err = Intercept(Op::kBind, 0, 0)) return {err};
  return real_.Bind(fd, addr);
}

Result<void> InterceptingSys::Connect(BorrowedFd fd,
                                      const SocketAddress& addr) const {
  if (int err = Intercept(Op::kConnect, 0, 0)) return {err};
  return real_.Connect(fd, addr);
}

Result<void> InterceptingSys::Listen(BorrowedFd fd, int backlog) const {
  if (int err = Intercept(Op::kListen, 0, 0)) return {err};
  return real_.Listen(fd, backlog);
}

Result<void> InterceptingSys::Shutdown(BorrowedFd fd, int how) const {
  if (int err = Intercept(Op::kShutdown, 0, 0)) return {err};
  return real_.Shutdown(fd, how);
}

Result<SocketAddress> InterceptingSys::GetSockName(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetSockName, 0, 0)) return {{}, err};
  return real_.GetSockName(fd);
}

Result<SocketAddress> InterceptingSys::GetPeerName(BorrowedFd fd) const {
  if (int err = Intercept(Op::kGetPeerName, 0, 0)) return {{}, err};
  return real_.GetPeerName(fd);
}

Result<socklen_t> InterceptingSys::GetSockOpt(BorrowedFd fd, int level,
                                              int name,
                                              absl::Span<uint8_t> buf) const {
  if (int err = Intercept(Op::kGetSockOpt, level, name)) return {0, err};
  return real_.GetSockOpt(fd, level, name, buf);
}

Result<void> InterceptingSys::SetSockOpt(
    BorrowedFd fd, int level, int name, absl::Span<const uint8_t> value) const {
  if (int err = Intercept(Op::kSetSockOpt, level, name)) return {err};
  return real_.SetSockOpt(fd, level, name, value);
}

}  // namespace soccr::sys
