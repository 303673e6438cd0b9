// The C API's operations with every kernel call of a restore and its resume
// made to fail in turn: each time a clean error naming the call, the new
// socket never half-resumed (left in repair mode once it was changed, so
// that closing it sends nothing), nothing leaked, and the peer undisturbed.

#include "soccr_c/handle.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/checkpoint.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/paused_socket.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/testing/fault_sweep.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"
#include "soccr/testing/status_matchers.h"

namespace soccr::c_api {
namespace {

using ::soccr::sys::FaultInjectingSys;
using ::soccr::sys::Op;
using ::soccr::testing::FailedCall;
using ::soccr::testing::IsBestEffort;
using ::soccr::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

int RepairMode(BorrowedFd fd) {
  int v = -1;
  socklen_t len = sizeof(v);
  ::getsockopt(fd.get(), SOL_TCP, TCP_REPAIR, &v, &len);
  return v;
}

void ExpectPeerUndisturbed(BorrowedFd peer) {
  struct tcp_info ti = {};
  socklen_t len = sizeof(ti);
  ASSERT_EQ(::getsockopt(peer.get(), SOL_TCP, TCP_INFO, &ti, &len), 0);
  EXPECT_EQ(ti.tcpi_state, static_cast<int>(TcpState::kEstablished));
  int err = -1;
  len = sizeof(err);
  ASSERT_EQ(::getsockopt(peer.get(), SOL_SOCKET, SO_ERROR, &err, &len), 0);
  EXPECT_EQ(err, 0);
}

class HandleFaultTest : public soccr::testing::NetnsTest {
 protected:
  void SetUp() override {
    soccr::testing::NetnsTest::SetUp();
    ASSERT_OK_AND_ASSIGN(p, soccr::loopback::ConnectedPair(
                                soccr::loopback::Family::kV4, 0, 64 << 10));
    pair_ = std::move(p);
    to_client_ = soccr::loopback::Pattern(30000, 1);
    ASSERT_OK(soccr::loopback::WriteAll(pair_.server.borrow(), to_client_));
    ASSERT_OK(
        soccr::loopback::WaitInq(pair_.client.borrow(), to_client_.size()));
    ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair_.server.borrow()));
    to_server_ = soccr::loopback::Pattern(1 << 20, 2);
    ASSERT_OK_AND_ASSIGN(
        n, soccr::loopback::WriteSome(pair_.client.borrow(), to_server_));
    to_server_.resize(n);
    ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair_.client.borrow()));

    // Checkpointed through the C API's own operations, then closed
    // silently.
    CheckpointInto(pair_.client);
  }

  // Checkpoints `fd` through the C API's operations into data_, inq_,
  // outq_, self_ and peer_, and leaves it in repair mode.
  void CheckpointInto(OwnedFd& fd) {
    ASSERT_OK_AND_ASSIGN(sk, Pause(fd.get()));
    ASSERT_OK_AND_ASSIGN(n_saved, Save(*sk, &data_, sizeof(data_)));
    ASSERT_EQ(n_saved, 68);
    ASSERT_GT(data_.unsq_len, 0u);
    ASSERT_OK_AND_ASSIGN(inq, GetQueueBytes(*sk, TCP_RECV_QUEUE, 0));
    ASSERT_OK_AND_ASSIGN(outq, GetQueueBytes(*sk, TCP_SEND_QUEUE, 0));
    inq_.assign(inq, data_.inq_len);
    outq_.assign(outq, data_.outq_len);
    ASSERT_OK_AND_ASSIGN(self, GetAddr(*sk, 1, SOCCR_MEM_EXCL));
    ASSERT_OK_AND_ASSIGN(peer, GetAddr(*sk, 0, SOCCR_MEM_EXCL));
    self_ = *self;
    peer_ = *peer;
    free(self);
    free(peer);
    Release(std::move(sk));
    fd.reset();
  }

  // A new socket, paused through `sys`, with the queues and addresses set.
  void NewHandle(const sys::Sys& sys, OwnedFd& fd,
                 std::unique_ptr<libsoccr_sk>& sk) {
    fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
    ASSERT_TRUE(fd);
    ASSERT_OK_AND_ASSIGN(h, Pause(fd.get(), sys));
    ASSERT_OK(SetQueueBytes(*h, TCP_RECV_QUEUE, inq_.data(), 0));
    ASSERT_OK(SetQueueBytes(*h, TCP_SEND_QUEUE, outq_.data(), 0));
    ASSERT_OK(SetAddr(*h, 1, &self_, 0));
    ASSERT_OK(SetAddr(*h, 0, &peer_, 0));
    sk = std::move(h);
  }

  soccr::loopback::TcpPair pair_;
  std::string to_client_, to_server_;
  libsoccr_sk_data data_ = {};
  std::string inq_, outq_;
  libsoccr_addr self_ = {}, peer_ = {};
};

TEST_F(HandleFaultTest, EveryRestoreAndResumeCallFailsCleanly) {
  FaultInjectingSys sys;
  const int fds = soccr::loopback::CountOpenFds();
  for (size_t i = 0;; ++i) {
    OwnedFd fd;
    std::unique_ptr<libsoccr_sk> sk;
    NewHandle(sys, fd, sk);
    if (::testing::Test::HasFatalFailure()) return;
    sys.Reset();
    sys.FailCallAt(i, EIO);
    const absl::Status restored = Restore(*sk, &data_, sizeof(data_));
    const size_t restore_calls = sys.calls().size();
    const absl::Status resumed = Resume(std::move(sk));
    const bool none_failed = sys.calls().size() <= i;
    if (none_failed) {
      // Past the last call: nothing failed, and the connection is back.
      ASSERT_TRUE(restored.ok()) << restored;
      ASSERT_TRUE(resumed.ok()) << resumed;
      EXPECT_EQ(RepairMode(fd.borrow()), 0);
      ASSERT_OK_AND_ASSIGN(up, soccr::loopback::ReadExactly(
                                   pair_.server.borrow(), to_server_.size()));
      EXPECT_TRUE(up == to_server_) << "client->server bytes differ";
      ASSERT_OK_AND_ASSIGN(
          down, soccr::loopback::ReadExactly(fd.borrow(), to_client_.size()));
      EXPECT_TRUE(down == to_client_) << "server->client bytes differ";
      EXPECT_GT(i, 15u);
      break;
    }
    if (restored.ok() && resumed.ok()) {
      // Only tuning failed, where the kernel clamps rather than refuses:
      // the connection is live again. Checkpoint it afresh (once nothing
      // is in flight) for the next round.
      const FaultInjectingSys::Call failed = FailedCall(sys);
      EXPECT_TRUE(IsBestEffort(failed))
          << "a resume succeeded although " << failed.ToString() << " failed";
      EXPECT_EQ(RepairMode(fd.borrow()), 0);
      ASSERT_OK(soccr::loopback::WaitNothingInFlight(fd.borrow()));
      CheckpointInto(fd);
      if (::testing::Test::HasFatalFailure()) return;
      fd.reset();
      continue;
    }
    const FaultInjectingSys::Call failed = FailedCall(sys);
    SCOPED_TRACE(absl::StrCat("failing call ", i, ": ", failed.ToString()));
    const std::string op(sys::OpName(failed.op));
    if (i < restore_calls) {
      ASSERT_FALSE(restored.ok());
      // EIO: Unknown (soccr's errno table keeps Abseil's choice).
      EXPECT_THAT(restored,
                  StatusIs(absl::StatusCode::kUnknown,
                           AllOf(HasSubstr("restore 127.0.0.1:"), HasSubstr(op),
                                 HasSubstr("Input/output error"))));
      // The first call only looks at the socket (getsockname: a new socket
      // of the right family, no port yet); after it the socket was changed
      // and can only be closed.
      const bool looked_only = i < 1;
      if (looked_only) {
        EXPECT_TRUE(resumed.ok()) << resumed;
        EXPECT_EQ(RepairMode(fd.borrow()), 0);
      } else {
        EXPECT_EQ(resumed.code(), absl::StatusCode::kFailedPrecondition);
        EXPECT_THAT(std::string(resumed.message()),
                    HasSubstr("restore failed part-way"));
        EXPECT_EQ(RepairMode(fd.borrow()), 1);
      }
    } else {
      ASSERT_TRUE(restored.ok()) << restored;
      EXPECT_THAT(resumed, StatusIs(absl::StatusCode::kUnknown,
                                    AllOf(HasSubstr(op),
                                          HasSubstr("stays in repair mode"))));
      EXPECT_EQ(RepairMode(fd.borrow()), 1);
    }
    fd.reset();  // In repair mode or never connected: sends nothing.
    EXPECT_EQ(soccr::loopback::CountOpenFds(), fds);
    ExpectPeerUndisturbed(pair_.server.borrow());
  }
}

TEST_F(HandleFaultTest, CheckpointFailuresLeaveTheOriginalUsable) {
  // A fresh pair: the fixture's client is gone.
  ASSERT_OK_AND_ASSIGN(
      pair, soccr::loopback::ConnectedPair(soccr::loopback::Family::kV6));
  FaultInjectingSys sys;
  for (size_t i = 0;; ++i) {
    ASSERT_OK_AND_ASSIGN(sk, Pause(pair.client.get(), sys));
    sys.Reset();
    sys.FailCallAt(i, EIO);
    libsoccr_sk_data data;
    absl::StatusOr<int> saved = Save(*sk, &data, sizeof(data));
    const absl::Status resumed = Resume(std::move(sk));
    if (sys.calls().size() <= i) {
      ASSERT_TRUE(saved.ok()) << saved.status();
      ASSERT_TRUE(resumed.ok()) << resumed;
      EXPECT_GT(i, 10u);
      break;
    }
    SCOPED_TRACE(
        absl::StrCat("failing call ", i, ": ", FailedCall(sys).ToString()));
    if (!saved.ok()) {
      EXPECT_THAT(
          saved,
          StatusIs(absl::StatusCode::kUnknown,
                   HasSubstr(std::string(sys::OpName(FailedCall(sys).op)))));
      ASSERT_TRUE(resumed.ok()) << resumed;
      EXPECT_EQ(RepairMode(pair.client.borrow()), 0);
    } else if (resumed.ok()) {
      // Only tuning after leaving repair mode failed.
      EXPECT_TRUE(IsBestEffort(FailedCall(sys)));
      EXPECT_EQ(RepairMode(pair.client.borrow()), 0);
    } else {
      // Only the resume was left to fail: still paused, as the log says.
      EXPECT_THAT(resumed, StatusIs(absl::StatusCode::kUnknown,
                                    HasSubstr("stays in repair mode")));
      EXPECT_EQ(RepairMode(pair.client.borrow()), 1);
      ASSERT_OK_AND_ASSIGN(again, Pause(pair.client.get()));
      ASSERT_OK(Resume(std::move(again)));
    }
    ExpectPeerUndisturbed(pair.server.borrow());
  }
  ASSERT_OK(soccr::loopback::WriteAll(pair.client.borrow(), "ping"));
  ASSERT_OK_AND_ASSIGN(got,
                       soccr::loopback::ReadExactly(pair.server.borrow(), 4));
  EXPECT_EQ(got, "ping");
}

}  // namespace
}  // namespace soccr::c_api
