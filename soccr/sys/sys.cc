#include "soccr/sys/sys.h"

#include <string.h>

namespace soccr::sys {

absl::string_view OpName(Op op) {
  switch (op) {
    case Op::kSocket:
      return "socket";
    case Op::kSetRepair:
      return "setsockopt(TCP_REPAIR)";
    case Op::kSetRepairQueue:
      return "setsockopt(TCP_REPAIR_QUEUE)";
    case Op::kGetQueueSeq:
      return "getsockopt(TCP_QUEUE_SEQ)";
    case Op::kSetQueueSeq:
      return "setsockopt(TCP_QUEUE_SEQ)";
    case Op::kSetRepairOptions:
      return "setsockopt(TCP_REPAIR_OPTIONS)";
    case Op::kGetRepairWindow:
      return "getsockopt(TCP_REPAIR_WINDOW)";
    case Op::kSetRepairWindow:
      return "setsockopt(TCP_REPAIR_WINDOW)";
    case Op::kGetTimestamp:
      return "getsockopt(TCP_TIMESTAMP)";
    case Op::kSetTimestamp:
      return "setsockopt(TCP_TIMESTAMP)";
    case Op::kGetTcpInfo:
      return "getsockopt(TCP_INFO)";
    case Op::kGetInq:
      return "ioctl(SIOCINQ)";
    case Op::kGetOutq:
      return "ioctl(SIOCOUTQ)";
    case Op::kGetOutqNotSent:
      return "ioctl(SIOCOUTQNSD)";
    case Op::kPeek:
      return "recv(MSG_PEEK)";
    case Op::kSend:
      return "send";
    case Op::kBind:
      return "bind";
    case Op::kConnect:
      return "connect";
    case Op::kListen:
      return "listen";
    case Op::kShutdown:
      return "shutdown";
    case Op::kGetSockName:
      return "getsockname";
    case Op::kGetPeerName:
      return "getpeername";
    case Op::kGetSockOpt:
      return "getsockopt";
    case Op::kSetSockOpt:
      return "setsockopt";
    case Op::kSendTo:
      return "sendto";
    case Op::kPoll:
      return "poll";
    case Op::kRecv:
      return "recv";
    case Op::kGetFileFlags:
      return "fcntl(F_GETFL)";
    case Op::kSetFileFlags:
      return "fcntl(F_SETFL)";
    case Op::kDisconnect:
      return "connect(AF_UNSPEC)";
    case Op::kFstat:
      return "fstat";
    case Op::kWritev:
      return "writev";
    case Op::kSendMsg:
      return "sendmsg";
    case Op::kRead:
      return "read";
    case Op::kWrite:
      return "write";
    case Op::kMmap:
      return "mmap";
    case Op::kOpen:
      return "open";
    case Op::kMunmap:
      return "munmap";
    case Op::kGetSocketNetns:
      return "ioctl(SIOCGSKNS)";
    case Op::kEnterNetns:
      return "setns(CLONE_NEWNET)";
    case Op::kMadvise:
      return "madvise";
    case Op::kGrowPipe:
      return "fcntl(F_SETPIPE_SZ)";  // After F_GETPIPE_SZ.
  }
  return "unknown call";
}

Result<OwnedFd> Sys::GetSocketNetns(BorrowedFd) const {
  return {OwnedFd(), ENOSYS, Op::kGetSocketNetns};
}

Result<void> Sys::EnterNetns(BorrowedFd) const {
  return {ENOSYS, Op::kEnterNetns};
}

Result<void> Sys::Madvise(void*, size_t, int) const {
  return {ENOSYS, Op::kMadvise};
}

Result<int> Sys::GrowPipe(BorrowedFd, int) const {
  return {0, ENOSYS, Op::kGrowPipe};
}

std::vector<Result<void>> Sys::SetRepairEach(absl::Span<const BorrowedFd> fds,
                                             RepairMode mode) const {
  std::vector<Result<void>> out;
  out.reserve(fds.size());
  for (BorrowedFd fd : fds) out.push_back(SetRepair(fd, mode));
  return out;
}

Result<int> Sys::GetSockOptInt(BorrowedFd fd, int level, int name) const {
  int value = 0;
  Result<socklen_t> r = GetSockOpt(
      fd, level, name,
      absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof(value)));
  return Result<int>{value, r.err, r.op};
}

Result<void> Sys::SetSockOptInt(BorrowedFd fd, int level, int name,
                                int value) const {
  return SetSockOpt(
      fd, level, name,
      absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(&value),
                                sizeof(value)));
}

}  // namespace soccr::sys
