// Every kernel call that checkpoint and restore make, made to fail in turn:
// each time a clean error naming the call, no descriptor leaked, the
// original connection still usable, and the peer none the wiser.

#include <errno.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/testing/fault_sweep.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/socket_info.h"
#include "soccr/testing/status_macros.h"
#include "soccr/testing/status_matchers.h"

namespace soccr {
namespace {

using ::soccr::loopback::Pattern;
using ::soccr::sys::FaultInjectingSys;
using ::soccr::sys::Op;
using ::soccr::testing::FailedCall;
using ::soccr::testing::GetIntOpt;
using ::soccr::testing::IsBestEffort;
using ::soccr::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The peer's view: still in `state`, no error pending.
void ExpectPeerUndisturbed(BorrowedFd peer,
                           TcpState state = TcpState::kEstablished) {
  struct tcp_info ti = {};
  socklen_t len = sizeof(ti);
  ASSERT_EQ(::getsockopt(peer.get(), SOL_TCP, TCP_INFO, &ti, &len), 0);
  EXPECT_EQ(ti.tcpi_state, static_cast<int>(state));
  EXPECT_EQ(GetIntOpt(peer, SOL_SOCKET, SO_ERROR), 0);
}

class FaultInjectionTest : public soccr::testing::NetnsTest {
 protected:
  // A connection with bytes in every queue the checkpoint reads.
  void SetUp() override {
    soccr::testing::NetnsTest::SetUp();
    ASSERT_OK_AND_ASSIGN(p, soccr::loopback::ConnectedPair(
                                soccr::loopback::Family::kV4, 0, 64 << 10));
    pair_ = std::move(p);
    const int lowat = 1 << 20;
    ASSERT_EQ(::setsockopt(pair_.client.get(), SOL_TCP, TCP_NOTSENT_LOWAT,
                           &lowat, sizeof(lowat)),
              0);
    to_client_ = Pattern(30000, 1);
    ASSERT_OK(soccr::loopback::WriteAll(pair_.server.borrow(), to_client_));
    ASSERT_OK(
        soccr::loopback::WaitInq(pair_.client.borrow(), to_client_.size()));
    ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair_.server.borrow()));
    to_server_ = Pattern(1 << 20, 2);
    ASSERT_OK_AND_ASSIGN(
        n, soccr::loopback::WriteSome(pair_.client.borrow(), to_server_));
    to_server_.resize(n);
    ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair_.client.borrow()));
    ASSERT_GT(soccr::loopback::UnsentLen(pair_.client.borrow()), 0);
  }

  // Reads everything both ways through `client` and checks it (and both
  // end-of-files for a half-closed connection).
  void ExpectAllDelivered(BorrowedFd client) {
    ASSERT_OK_AND_ASSIGN(up, soccr::loopback::ReadExactly(pair_.server.borrow(),
                                                          to_server_.size()));
    EXPECT_TRUE(up == to_server_) << "client->server bytes differ";
    ASSERT_OK_AND_ASSIGN(
        down, soccr::loopback::ReadExactly(client, to_client_.size()));
    EXPECT_TRUE(down == to_client_) << "server->client bytes differ";
    if (peer_state_ != TcpState::kEstablished) {
      ASSERT_OK(soccr::loopback::ExpectEof(pair_.server.borrow()));
      ASSERT_OK(soccr::loopback::ExpectEof(client));
    }
  }

  // Takes the client to LAST_ACK with its FIN queued behind unsent data:
  // a restore then injects the server's FIN in repair mode and queues ours
  // on resume.
  void HalfClose() {
    ASSERT_EQ(::shutdown(pair_.server.get(), SHUT_WR), 0);
    ASSERT_OK(soccr::loopback::WaitTcpState(
        pair_.client.borrow(), static_cast<int>(TcpState::kCloseWait)));
    ASSERT_EQ(::shutdown(pair_.client.get(), SHUT_WR), 0);
    ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair_.server.borrow()));
    peer_state_ = TcpState::kFinWait2;
  }

  void CheckpointFaults();
  void RestoreFaults();

  // The server's state while the client is paused.
  TcpState peer_state_ = TcpState::kEstablished;
  soccr::loopback::TcpPair pair_;
  std::string to_client_;
  std::string to_server_;
};

void FaultInjectionTest::CheckpointFaults() {
  FaultInjectingSys sys;
  const BorrowedFd fd = pair_.client.borrow();
  {
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(fd, sys));
    ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
    ASSERT_OK(std::move(paused).Resume());
  }
  const std::vector<FaultInjectingSys::Call> clean = sys.calls();
  ASSERT_GT(clean.size(), 15u);
  const int fds = soccr::loopback::CountOpenFds();

  for (size_t i = 0; i < clean.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("failing call ", i, ": ", clean[i].ToString()));
    sys.Reset();
    sys.FailCallAt(i, EIO);
    {
      absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd, sys);
      if (paused.ok()) {
        absl::StatusOr<ConnectionState> state = Checkpoint(*paused);
        if (state.ok()) {
          // Only the resume itself is left to fail.
          absl::Status resumed = std::move(*paused).Resume();
          EXPECT_FALSE(resumed.ok());
          EXPECT_THAT(std::string(resumed.message()),
                      HasSubstr(std::string(sys::OpName(clean[i].op))));
        } else {
          EXPECT_THAT(std::string(state.status().message()),
                      HasSubstr(std::string(sys::OpName(clean[i].op))));
          EXPECT_THAT(std::string(state.status().message()),
                      HasSubstr("Input/output error"));
          // Until the addresses are known, the socket is named by its fd.
          EXPECT_THAT(std::string(state.status().message()),
                      HasSubstr(clean[i].op == Op::kGetSockName ||
                                        clean[i].op == Op::kGetTcpInfo ||
                                        clean[i].op == Op::kGetPeerName
                                    ? "checkpoint fd "
                                    : "checkpoint 127.0.0.1:"));
        }
      } else {
        // Pause reads SO_REUSEADDR, then enters repair mode.
        EXPECT_LT(i, 2u);
      }
      // Dropping the handle resumes the socket if it is still paused.
    }
    EXPECT_EQ(FailedCall(sys).op, clean[i].op);
    EXPECT_EQ(GetIntOpt(fd, SOL_TCP, TCP_REPAIR), 0) << "left in repair mode";
    EXPECT_EQ(soccr::loopback::CountOpenFds(), fds);
    ExpectPeerUndisturbed(pair_.server.borrow(), peer_state_);
  }
  ExpectAllDelivered(fd);
}

void FaultInjectionTest::RestoreFaults() {
  ConnectionState state;
  {
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair_.client.borrow()));
    ASSERT_OK_AND_ASSIGN(s, Checkpoint(paused));
    state = std::move(s);
    std::move(paused).LeaveInRepairMode();
    pair_.client.reset();
  }
  // A clean run, to learn every call a restore and its resume make.
  FaultInjectingSys sys;
  size_t restore_calls = 0;
  {
    ASSERT_OK_AND_ASSIGN(restored, Restore(state, sys));
    restore_calls = sys.calls().size();
    // Dropped unresumed: closed silently.
  }
  sys.Reset();
  {
    ASSERT_OK_AND_ASSIGN(restored, Restore(state, sys));
    ASSERT_OK_AND_ASSIGN(again, Checkpoint(restored.paused()));
    EXPECT_EQ(again.recv_queue, state.recv_queue);
    EXPECT_EQ(again.send_queue, state.send_queue);
    EXPECT_EQ(again.state, state.state);
  }
  ASSERT_GT(restore_calls, 15u);
  const int fds = soccr::loopback::CountOpenFds();

  std::set<Op> failed_ops;
  size_t i = 0;
  for (bool more = true; more; ++i) {
    sys.Reset();
    sys.FailCallAt(i, EIO);
    absl::StatusOr<RestoredSocket> restored = Restore(state, sys);
    failed_ops.insert(FailedCall(sys).op);
    if (!restored.ok()) {
      const FaultInjectingSys::Call failed = FailedCall(sys);
      SCOPED_TRACE(absl::StrCat("failing call ", i, ": ", failed.ToString()));
      // EIO says nothing the caller could act on: Unknown (the errno ->
      // code table of soccr/internal/status_code.h keeps Abseil's choice).
      EXPECT_THAT(
          restored,
          StatusIs(absl::StatusCode::kUnknown,
                   AllOf(HasSubstr("restore " + state.Endpoints() + ": "),
                         HasSubstr(std::string(sys::OpName(failed.op))),
                         HasSubstr("Input/output error"))));
    } else {
      absl::StatusOr<OwnedFd> live = std::move(*restored).Resume();
      failed_ops.insert(FailedCall(sys).op);
      if (sys.calls().size() <= i) {
        // Past the last call: nothing failed, and the connection is back.
        ASSERT_TRUE(live.ok()) << live.status();
        more = false;
        ExpectAllDelivered(live->borrow());
        break;
      }
      const FaultInjectingSys::Call failed = FailedCall(sys);
      SCOPED_TRACE(absl::StrCat("failing call ", i, ": ", failed.ToString()));
      if (!live.ok()) {
        EXPECT_THAT(live,
                    StatusIs(absl::StatusCode::kUnknown,
                             HasSubstr(std::string(sys::OpName(failed.op)))));
        EXPECT_GE(restored->fd().get(), 0) << "the handle keeps the socket";
        // The handle still holds what is left to do: a retry finishes it.
        live = std::move(*restored).Resume();
        ASSERT_TRUE(live.ok()) << live.status();
      } else {
        EXPECT_TRUE(IsBestEffort(failed)) << "a restore succeeded although "
                                          << failed.ToString() << " failed";
      }
      // Live again: take a fresh checkpoint for the next round.
      EXPECT_EQ(soccr::loopback::TcpStateNumber(live->borrow()),
                static_cast<int>(state.state));
      ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(live->borrow()));
      ASSERT_OK_AND_ASSIGN(s, Checkpoint(paused));
      state = std::move(s);
      std::move(paused).LeaveInRepairMode();
    }
    restored = absl::UnknownError("dropped");  // Close whatever is left.
    EXPECT_EQ(soccr::loopback::CountOpenFds(), fds);
    ExpectPeerUndisturbed(pair_.server.borrow(), peer_state_);
  }
  EXPECT_GT(i, restore_calls);
  if (peer_state_ != TcpState::kEstablished) {
    // The peer's FIN injected in repair mode, ours queued on resume.
    for (Op op : {Op::kSocket, Op::kSendTo, Op::kGetTcpInfo,
                  Op::kSetRepairWindow, Op::kShutdown}) {
      EXPECT_TRUE(failed_ops.count(op)) << sys::OpName(op) << " never failed";
    }
  }
}

TEST_F(FaultInjectionTest, EveryCheckpointCallFailsCleanly) {
  CheckpointFaults();
}

TEST_F(FaultInjectionTest, EveryRestoreCallFailsCleanly) { RestoreFaults(); }

TEST_F(FaultInjectionTest, EveryCheckpointCallOfAHalfClosedConnection) {
  HalfClose();
  CheckpointFaults();
}

TEST_F(FaultInjectionTest, EveryRestoreCallOfAHalfClosedConnection) {
  HalfClose();
  RestoreFaults();
}

}  // namespace
}  // namespace soccr
