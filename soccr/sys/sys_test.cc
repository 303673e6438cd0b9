// Every Sys names the call behind each Result, success or failure, so that
// an error built from a Result cannot name another call.

#include "soccr/sys/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "soccr/sys/fault_injecting_sys.h"

namespace soccr::sys {
namespace {

struct Case {
  Op op;
  // Makes the call on `fd` and returns the Result's op and errno.
  std::function<std::pair<Op, int>(const Sys&, BorrowedFd)> call;
};

template <typename R>
std::pair<Op, int> Of(const R& r) {
  return {r.op, r.err};
}

// One call of every operation.
std::vector<Case> EveryCall() {
  static uint8_t buf[64];
  const SocketAddress addr = *SocketAddress::Parse("127.0.0.1:9");
  return {
      {Op::kSocket,
       [](const Sys& s, BorrowedFd) {
         return Of(s.Socket(-1, SOCK_STREAM, 0));
       }},
      {Op::kSetRepair,
       [](const Sys& s, BorrowedFd fd) {
         return Of(s.SetRepair(fd, RepairMode::kOn));
       }},
      {Op::kSetRepairQueue,
       [](const Sys& s, BorrowedFd fd) {
         return Of(s.SetRepairQueue(fd, RepairQueue::kSend));
       }},
      {Op::kGetQueueSeq,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetQueueSeq(fd)); }},
      {Op::kSetQueueSeq,
       [](const Sys& s, BorrowedFd fd) { return Of(s.SetQueueSeq(fd, 1)); }},
      {Op::kSetRepairOptions,
       [](const Sys& s, BorrowedFd fd) {
         return Of(s.SetRepairOptions(fd, {}));
       }},
      {Op::kGetRepairWindow,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetRepairWindow(fd)); }},
      {Op::kSetRepairWindow,
       [](const Sys& s, BorrowedFd fd) {
         return Of(s.SetRepairWindow(fd, {}));
       }},
      {Op::kGetTimestamp,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetTimestamp(fd)); }},
      {Op::kSetTimestamp,
       [](const Sys& s, BorrowedFd fd) { return Of(s.SetTimestamp(fd, 1)); }},
      {Op::kGetTcpInfo,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetTcpInfo(fd)); }},
      {Op::kGetInq,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetInq(fd)); }},
      {Op::kGetOutq,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetOutq(fd)); }},
      {Op::kGetOutqNotSent,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetOutqNotSent(fd)); }},
      {Op::kPeek,
       [](const Sys& s, BorrowedFd fd) { return Of(s.Peek(fd, buf)); }},
      {Op::kSend,
       [](const Sys& s, BorrowedFd fd) { return Of(s.Send(fd, buf)); }},
      {Op::kBind,
       [addr](const Sys& s, BorrowedFd fd) { return Of(s.Bind(fd, addr)); }},
      {Op::kConnect,
       [addr](const Sys& s, BorrowedFd fd) { return Of(s.Connect(fd, addr)); }},
      {Op::kListen,
       [](const Sys& s, BorrowedFd fd) { return Of(s.Listen(fd, 1)); }},
      {Op::kShutdown,
       [](const Sys& s, BorrowedFd fd) { return Of(s.Shutdown(fd, SHUT_WR)); }},
      {Op::kGetSockName,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetSockName(fd)); }},
      {Op::kGetPeerName,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetPeerName(fd)); }},
      {Op::kGetSockOpt,
       [](const Sys& s, BorrowedFd fd) {
         return Of(s.GetSockOptInt(fd, SOL_SOCKET, SO_TYPE));
       }},
      {Op::kSetSockOpt,
       [](const Sys& s, BorrowedFd fd) {
         return Of(s.SetSockOptInt(fd, SOL_SOCKET, SO_KEEPALIVE, 1));
       }},
      {Op::kSendTo,
       [addr](const Sys& s, BorrowedFd fd) {
         return Of(s.SendTo(fd, buf, addr));
       }},
      {Op::kPoll,
       [](const Sys& s, BorrowedFd fd) { return Of(s.Poll(fd, POLLIN, 0)); }},
      {Op::kDisconnect,
       [](const Sys& s, BorrowedFd fd) { return Of(s.Disconnect(fd)); }},
      {Op::kFstat, [](const Sys& s, BorrowedFd fd) { return Of(s.Fstat(fd)); }},
      {Op::kWritev,
       [](const Sys& s, BorrowedFd fd) {
         struct iovec v = {buf, sizeof(buf)};
         return Of(s.Writev(fd, absl::MakeConstSpan(&v, 1)));
       }},
      {Op::kSendMsg,
       [](const Sys& s, BorrowedFd fd) {
         struct iovec v = {buf, sizeof(buf)};
         return Of(s.SendMsg(fd, absl::MakeConstSpan(&v, 1), 0));
       }},
      {Op::kGetFileFlags,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetFileFlags(fd)); }},
      {Op::kSetFileFlags,
       [](const Sys& s, BorrowedFd fd) { return Of(s.SetFileFlags(fd, 0)); }},
      {Op::kRecv,
       [](const Sys& s, BorrowedFd fd) { return Of(s.Recv(fd, buf)); }},
      {Op::kRead,
       [](const Sys& s, BorrowedFd fd) { return Of(s.Read(fd, buf)); }},
      {Op::kWrite,
       [](const Sys& s, BorrowedFd fd) { return Of(s.Write(fd, buf)); }},
      {Op::kMmap,
       [](const Sys& s, BorrowedFd fd) {
         return Of(s.Mmap(fd, 4096, PROT_READ, MAP_PRIVATE));
       }},
      {Op::kMunmap,
       [](const Sys& s, BorrowedFd) {
         // Not page-aligned: EINVAL, and nothing is unmapped.
         return Of(s.Munmap(reinterpret_cast<void*>(1), 4096));
       }},
      {Op::kOpen,
       [](const Sys& s, BorrowedFd) {
         return Of(s.Open("/nonexistent/soccr-sys-test", O_RDONLY | O_CLOEXEC));
       }},
      {Op::kGetSocketNetns,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GetSocketNetns(fd)); }},
      {Op::kEnterNetns,
       [](const Sys& s, BorrowedFd fd) { return Of(s.EnterNetns(fd)); }},
      {Op::kMadvise,
       [](const Sys& s, BorrowedFd) {
         // Not page-aligned: EINVAL.
         return Of(
             s.Madvise(reinterpret_cast<void*>(1), 4096, MADV_SEQUENTIAL));
       }},
      {Op::kGrowPipe,
       [](const Sys& s, BorrowedFd fd) { return Of(s.GrowPipe(fd, 1 << 20)); }},
  };
}

TEST(SysTest, EveryOperationIsCoveredOnce) {
  std::vector<int> seen(kNumOps, 0);
  for (const Case& c : EveryCall()) ++seen[static_cast<int>(c.op)];
  for (int op = 0; op < kNumOps; ++op) {
    EXPECT_EQ(seen[op], 1) << OpName(static_cast<Op>(op));
  }
}

TEST(SysTest, LinuxSysNamesTheFailedCall) {
  // A descriptor that is not open: the calls fail (socket() with its
  // family -1), and each Result says which call it was.
  const BorrowedFd closed(1 << 20);
  for (const Case& c : EveryCall()) {
    const auto [op, err] = c.call(LinuxSys(), closed);
    // poll() reports a closed descriptor in revents (POLLNVAL).
    if (c.op != Op::kPoll) {
      EXPECT_NE(err, 0) << OpName(c.op);
    }
    EXPECT_EQ(op, c.op) << "wanted " << OpName(c.op) << ", got " << OpName(op);
  }
}

TEST(SysTest, LinuxSysNamesASuccessfulCall) {
  const Result<OwnedFd> sock = LinuxSys().Socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(sock.op, Op::kSocket);
  const Result<int> type =
      LinuxSys().GetSockOptInt(sock.value.borrow(), SOL_SOCKET, SO_TYPE);
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(type.value, SOCK_STREAM);
  EXPECT_EQ(type.op, Op::kGetSockOpt);
}

TEST(SysTest, InjectedFailuresNameTheirCall) {
  FaultInjectingSys sys;
  for (int op = 0; op < kNumOps; ++op) sys.FailOp(static_cast<Op>(op), EIO);
  const BorrowedFd any(0);
  for (const Case& c : EveryCall()) {
    const auto [op, err] = c.call(sys, any);
    EXPECT_EQ(err, EIO) << OpName(c.op);
    EXPECT_EQ(op, c.op) << "wanted " << OpName(c.op) << ", got " << OpName(op);
  }
}

}  // namespace
}  // namespace soccr::sys
