#include "soccr/sys/intercepting_sys.h"

namespace soccr::sys {

Result<OwnedFd> InterceptingSys::Socket(int domain, int type,
                                        int protocol) const {
  return Forward<OwnedFd>(Op::kSocket,
                          [&] { return real_.Socket(domain, type, protocol); });
}

Result<void> InterceptingSys::SetRepair(BorrowedFd fd, RepairMode mode) const {
  return Forward<void>(Op::kSetRepair,
                       [&] { return real_.SetRepair(fd, mode); });
}

Result<void> InterceptingSys::SetRepairQueue(BorrowedFd fd,
                                             RepairQueue queue) const {
  return Forward<void>(Op::kSetRepairQueue,
                       [&] { return real_.SetRepairQueue(fd, queue); });
}

Result<uint32_t> InterceptingSys::GetQueueSeq(BorrowedFd fd) const {
  return Forward<uint32_t>(Op::kGetQueueSeq,
                           [&] { return real_.GetQueueSeq(fd); });
}

Result<void> InterceptingSys::SetQueueSeq(BorrowedFd fd, uint32_t seq) const {
  return Forward<void>(Op::kSetQueueSeq,
                       [&] { return real_.SetQueueSeq(fd, seq); });
}

Result<void> InterceptingSys::SetRepairOptions(
    BorrowedFd fd, absl::Span<const struct tcp_repair_opt> opts) const {
  return Forward<void>(Op::kSetRepairOptions,
                       [&] { return real_.SetRepairOptions(fd, opts); });
}

Result<struct tcp_repair_window> InterceptingSys::GetRepairWindow(
    BorrowedFd fd) const {
  return Forward<struct tcp_repair_window>(
      Op::kGetRepairWindow, [&] { return real_.GetRepairWindow(fd); });
}

Result<void> InterceptingSys::SetRepairWindow(
    BorrowedFd fd, const struct tcp_repair_window& window) const {
  return Forward<void>(Op::kSetRepairWindow,
                       [&] { return real_.SetRepairWindow(fd, window); });
}

Result<uint32_t> InterceptingSys::GetTimestamp(BorrowedFd fd) const {
  return Forward<uint32_t>(Op::kGetTimestamp,
                           [&] { return real_.GetTimestamp(fd); });
}

Result<void> InterceptingSys::SetTimestamp(BorrowedFd fd, uint32_t ts) const {
  return Forward<void>(Op::kSetTimestamp,
                       [&] { return real_.SetTimestamp(fd, ts); });
}

Result<struct tcp_info> InterceptingSys::GetTcpInfo(BorrowedFd fd) const {
  return Forward<struct tcp_info>(Op::kGetTcpInfo,
                                  [&] { return real_.GetTcpInfo(fd); });
}

Result<int> InterceptingSys::GetInq(BorrowedFd fd) const {
  return Forward<int>(Op::kGetInq, [&] { return real_.GetInq(fd); });
}

Result<int> InterceptingSys::GetOutq(BorrowedFd fd) const {
  return Forward<int>(Op::kGetOutq, [&] { return real_.GetOutq(fd); });
}

Result<int> InterceptingSys::GetOutqNotSent(BorrowedFd fd) const {
  return Forward<int>(Op::kGetOutqNotSent,
                      [&] { return real_.GetOutqNotSent(fd); });
}

Result<size_t> InterceptingSys::Peek(BorrowedFd fd, absl::Span<uint8_t> buf,
                                     int flags) const {
  return Forward<size_t>(Op::kPeek, [&] { return real_.Peek(fd, buf, flags); });
}

Result<size_t> InterceptingSys::Recv(BorrowedFd fd,
                                     absl::Span<uint8_t> buf) const {
  return Forward<size_t>(Op::kRecv, [&] { return real_.Recv(fd, buf); });
}

Result<size_t> InterceptingSys::Send(BorrowedFd fd,
                                     absl::Span<const uint8_t> data,
                                     int flags) const {
  return Forward<size_t>(Op::kSend,
                         [&] { return real_.Send(fd, data, flags); });
}

Result<size_t> InterceptingSys::SendTo(BorrowedFd fd,
                                       absl::Span<const uint8_t> data,
                                       const SocketAddress& dst) const {
  return Forward<size_t>(Op::kSendTo,
                         [&] { return real_.SendTo(fd, data, dst); });
}

Result<short> InterceptingSys::Poll(BorrowedFd fd, short events,
                                    int timeout_ms) const {
  return Forward<short>(Op::kPoll,
                        [&] { return real_.Poll(fd, events, timeout_ms); });
}

Result<int> InterceptingSys::GetFileFlags(BorrowedFd fd) const {
  return Forward<int>(Op::kGetFileFlags,
                      [&] { return real_.GetFileFlags(fd); });
}

Result<void> InterceptingSys::SetFileFlags(BorrowedFd fd, int flags) const {
  return Forward<void>(Op::kSetFileFlags,
                       [&] { return real_.SetFileFlags(fd, flags); });
}

Result<void> InterceptingSys::Bind(BorrowedFd fd,
                                   const SocketAddress& addr) const {
  return Forward<void>(Op::kBind, [&] { return real_.Bind(fd, addr); });
}

Result<void> InterceptingSys::Connect(BorrowedFd fd,
                                      const SocketAddress& addr) const {
  return Forward<void>(Op::kConnect, [&] { return real_.Connect(fd, addr); });
}

Result<void> InterceptingSys::Listen(BorrowedFd fd, int backlog) const {
  return Forward<void>(Op::kListen, [&] { return real_.Listen(fd, backlog); });
}

Result<void> InterceptingSys::Shutdown(BorrowedFd fd, int how) const {
  return Forward<void>(Op::kShutdown, [&] { return real_.Shutdown(fd, how); });
}

Result<void> InterceptingSys::Disconnect(BorrowedFd fd) const {
  return Forward<void>(Op::kDisconnect, [&] { return real_.Disconnect(fd); });
}

Result<struct stat> InterceptingSys::Fstat(BorrowedFd fd) const {
  return Forward<struct stat>(Op::kFstat, [&] { return real_.Fstat(fd); });
}

Result<OwnedFd> InterceptingSys::GetSocketNetns(BorrowedFd fd) const {
  return Forward<OwnedFd>(Op::kGetSocketNetns,
                          [&] { return real_.GetSocketNetns(fd); });
}

Result<void> InterceptingSys::EnterNetns(BorrowedFd ns) const {
  return Forward<void>(Op::kEnterNetns, [&] { return real_.EnterNetns(ns); });
}

Result<size_t> InterceptingSys::Writev(
    BorrowedFd fd, absl::Span<const struct iovec> iov) const {
  return Forward<size_t>(Op::kWritev, [&] { return real_.Writev(fd, iov); });
}

Result<size_t> InterceptingSys::SendMsg(BorrowedFd fd,
                                        absl::Span<const struct iovec> iov,
                                        int flags) const {
  return Forward<size_t>(Op::kSendMsg,
                         [&] { return real_.SendMsg(fd, iov, flags); });
}

Result<size_t> InterceptingSys::Read(BorrowedFd fd,
                                     absl::Span<uint8_t> buf) const {
  return Forward<size_t>(Op::kRead, [&] { return real_.Read(fd, buf); });
}

Result<size_t> InterceptingSys::Write(BorrowedFd fd,
                                      absl::Span<const uint8_t> data) const {
  return Forward<size_t>(Op::kWrite, [&] { return real_.Write(fd, data); });
}

Result<void*> InterceptingSys::Mmap(BorrowedFd fd, size_t length, int prot,
                                    int flags) const {
  return Forward<void*>(Op::kMmap,
                        [&] { return real_.Mmap(fd, length, prot, flags); });
}

Result<void> InterceptingSys::Munmap(void* addr, size_t length) const {
  return Forward<void>(Op::kMunmap, [&] { return real_.Munmap(addr, length); });
}

Result<void> InterceptingSys::Madvise(void* addr, size_t length,
                                      int advice) const {
  return Forward<void>(Op::kMadvise,
                       [&] { return real_.Madvise(addr, length, advice); });
}

Result<int> InterceptingSys::GrowPipe(BorrowedFd fd, int bytes) const {
  return Forward<int>(Op::kGrowPipe, [&] { return real_.GrowPipe(fd, bytes); });
}

Result<OwnedFd> InterceptingSys::Open(const std::string& path,
                                      int flags) const {
  return Forward<OwnedFd>(Op::kOpen, [&] { return real_.Open(path, flags); });
}

Result<SocketAddress> InterceptingSys::GetSockName(BorrowedFd fd) const {
  return Forward<SocketAddress>(Op::kGetSockName,
                                [&] { return real_.GetSockName(fd); });
}

Result<SocketAddress> InterceptingSys::GetPeerName(BorrowedFd fd) const {
  return Forward<SocketAddress>(Op::kGetPeerName,
                                [&] { return real_.GetPeerName(fd); });
}

Result<socklen_t> InterceptingSys::GetSockOpt(BorrowedFd fd, int level,
                                              int name,
                                              absl::Span<uint8_t> buf) const {
  return Forward<socklen_t>(Op::kGetSockOpt, level, name, [&] {
    return real_.GetSockOpt(fd, level, name, buf);
  });
}

Result<void> InterceptingSys::SetSockOpt(
    BorrowedFd fd, int level, int name, absl::Span<const uint8_t> value) const {
  return Forward<void>(Op::kSetSockOpt, level, name, [&] {
    return real_.SetSockOpt(fd, level, name, value);
  });
}

}  // namespace soccr::sys
