// Checkpoint and restore of half-closed connections: FIN_WAIT1 (our FIN
// queued behind unsent data, or sent and unacknowledged), FIN_WAIT2,
// CLOSE_WAIT, LAST_ACK and CLOSING, over IPv4, IPv6 and IPv4-mapped IPv6.
//
// Each test produces the state on the client of a loopback pair, checkpoints
// it, closes it while paused, restores it, checks that a checkpoint of the
// restored socket gives the same state again and that TCP_INFO reports the
// same state after the resume, then plays the rest of the conversation: every
// byte in both directions, and both end-of-files.
//
// Nothing the server sends may reach the closed original's port (the kernel
// would answer with a reset), so before the checkpoint the server always has
// nothing in flight, and FINs the server must not acknowledge yet are held
// back by a socket filter that drops only FIN segments.

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/testing/checkpoint_util.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::loopback::ExpectEof;
using ::soccr::loopback::Family;
using ::soccr::loopback::OutqLen;
using ::soccr::loopback::Pattern;
using ::soccr::loopback::ReadExactly;
using ::soccr::loopback::TcpStateNumber;
using ::soccr::loopback::UnsentLen;
using ::soccr::loopback::WaitInq;
using ::soccr::loopback::WaitNothingInFlight;
using ::soccr::loopback::WaitTcpState;
using ::soccr::loopback::WriteAll;
using ::soccr::testing::CheckpointAndClose;
using ::soccr::testing::ExpectSameState;

int N(TcpState s) { return static_cast<int>(s); }

class HalfCloseTest : public soccr::testing::NetnsTest,
                      public ::testing::WithParamInterface<Family> {
 public:
  BorrowedFd client() const { return pair_.client.borrow(); }
  BorrowedFd server() const { return pair_.server.borrow(); }

 protected:
  void SetUp() override {
    soccr::testing::NetnsTest::SetUp();
    // A small server receive buffer keeps the client's writes unsent.
    ASSERT_OK_AND_ASSIGN(
        p, soccr::loopback::ConnectedPair(GetParam(), 0, 32 << 10));
    pair_ = std::move(p);
  }

  // The server sends `n` bytes the client leaves unread.
  void ServerSendsUnread(size_t n) {
    to_client_ = Pattern(n, 1);
    ASSERT_OK(WriteAll(server(), to_client_));
    ASSERT_OK(WaitInq(client(), n));
    ASSERT_OK(WaitNothingInFlight(server()));
  }

  // The client writes until the server's window is full; what is left stays
  // unsent in its send queue, and everything sent is acknowledged.
  void ClientFillsServerWindow() {
    const std::string data = Pattern(4 << 20, 2);
    ASSERT_OK_AND_ASSIGN(n, soccr::loopback::WriteSome(client(), data));
    ASSERT_OK(WaitNothingInFlight(client()));
    ASSERT_GT(UnsentLen(client()), 0) << "nothing stayed unsent";
    to_server_ = data.substr(0, n);
  }

  // The client writes a little, which the server receives (not reads).
  void ClientSendsAcked() {
    to_server_ = Pattern(3000, 3);
    ASSERT_OK(WriteAll(client(), to_server_));
    ASSERT_OK(WaitInq(server(), to_server_.size()));
    ASSERT_OK(WaitNothingInFlight(client()));
  }

  // Checkpoints the client in `expected`, closes it paused, restores it,
  // compares a checkpoint of the restored socket, resumes it and checks its
  // state (or `moved_on`: with our FIN in flight, the resume sends it at
  // once, and over loopback the peer's ACK may be in before TCP_INFO is
  // read). Runs `before_resume` between restore and resume.
  void CheckpointRestore(TcpState expected,
                         void (*before_resume)(HalfCloseTest*) = nullptr,
                         std::optional<TcpState> moved_on = std::nullopt) {
    ASSERT_EQ(TcpStateNumber(client()), N(expected));
    ASSERT_OK(WaitNothingInFlight(server()));
    ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair_.client)));
    EXPECT_EQ(state.state, expected);
    EXPECT_EQ(state.inq_len, to_client_.size());
    EXPECT_TRUE(state.recv_queue.view() == to_client_);
    state_ = state;

    ASSERT_OK_AND_ASSIGN(restored, Restore(state));
    ASSERT_OK_AND_ASSIGN(again, Checkpoint(restored.paused()));
    ExpectSameState(state, again);
    if (before_resume != nullptr) before_resume(this);
    ASSERT_OK_AND_ASSIGN(fd, std::move(restored).Resume());
    const int now = TcpStateNumber(fd.borrow());
    EXPECT_TRUE(now == N(expected) ||
                (moved_on.has_value() && now == N(*moved_on)))
        << "state after resume: " << now;
    pair_.client = std::move(fd);
  }

  // The server reads everything the client wrote, then end-of-file.
  void ServerGetsAllThenEof() {
    ASSERT_OK_AND_ASSIGN(got, ReadExactly(server(), to_server_.size()));
    EXPECT_TRUE(got == to_server_) << "client->server bytes differ";
    ASSERT_OK(ExpectEof(server()));
  }

  // The client reads what the server sent before the checkpoint.
  void ClientGetsEarlierData() {
    ASSERT_OK_AND_ASSIGN(got, ReadExactly(client(), to_client_.size()));
    EXPECT_TRUE(got == to_client_) << "server->client bytes differ";
  }

  // More from the server after the restore, then its FIN.
  void ServerSendsMoreThenCloses() {
    const std::string more = Pattern(100000, 4);
    ASSERT_OK(WriteAll(server(), more));
    ASSERT_OK_AND_ASSIGN(got, ReadExactly(client(), more.size()));
    EXPECT_TRUE(got == more);
    ASSERT_EQ(::shutdown(server().get(), SHUT_WR), 0);
    ASSERT_OK(ExpectEof(client()));
  }

  // Our side can no longer write.
  void ClientWriteFails() {
    errno = 0;
    EXPECT_EQ(::send(client().get(), "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT), -1);
    EXPECT_EQ(errno, EPIPE);
  }

  soccr::loopback::TcpPair pair_;
  std::string to_client_;
  std::string to_server_;
  ConnectionState state_;
};

INSTANTIATE_TEST_SUITE_P(Families, HalfCloseTest,
                         ::testing::Values(Family::kV4, Family::kV6,
                                           Family::kMapped),
                         [](const ::testing::TestParamInfo<Family>& info) {
                           return soccr::loopback::FamilyName(info.param);
                         });

TEST_P(HalfCloseTest, FinWait1WithFinQueuedBehindUnsentData) {
  ServerSendsUnread(50000);
  ClientFillsServerWindow();
  ASSERT_EQ(::shutdown(client().get(), SHUT_WR), 0);
  // The FIN waits behind the unsent data: SIOCOUTQNSD counts it.
  ASSERT_GT(UnsentLen(client()), 1);
  CheckpointRestore(TcpState::kFinWait1);
  EXPECT_GT(state_.unsent_len, 0u);
  EXPECT_EQ(state_.outq_len, state_.send_queue.size());
  ServerGetsAllThenEof();
  ClientGetsEarlierData();
  ClientWriteFails();
  ServerSendsMoreThenCloses();
}

TEST_P(HalfCloseTest, FinWait1WithFinInFlight) {
  ServerSendsUnread(20000);
  ClientSendsAcked();
  ASSERT_OK(soccr::loopback::DropIncomingFin(server()));
  ASSERT_EQ(::shutdown(client().get(), SHUT_WR), 0);
  // Sent, and dropped by the server: only the FIN is in flight.
  ASSERT_EQ(OutqLen(client()), 1);
  ASSERT_EQ(UnsentLen(client()), 0);
  CheckpointRestore(
      TcpState::kFinWait1,
      [](HalfCloseTest* t) {
        ASSERT_OK(soccr::loopback::AcceptIncoming(t->server()));
      },
      TcpState::kFinWait2);
  EXPECT_EQ(state_.outq_len, 0u);
  EXPECT_EQ(state_.unsent_len, 0u);
  // The restored socket retransmits the FIN, exactly once in the stream.
  ServerGetsAllThenEof();
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kFinWait2)));
  ClientGetsEarlierData();
  ServerSendsMoreThenCloses();
}

TEST_P(HalfCloseTest, FinWait2) {
  ClientSendsAcked();
  ASSERT_EQ(::shutdown(client().get(), SHUT_WR), 0);
  ServerGetsAllThenEof();
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kFinWait2)));
  ServerSendsUnread(70000);
  to_server_.clear();
  CheckpointRestore(TcpState::kFinWait2);
  EXPECT_EQ(state_.outq_len, 0u);
  ClientGetsEarlierData();
  ClientWriteFails();
  ServerSendsMoreThenCloses();
}

TEST_P(HalfCloseTest, CloseWaitWithUnreadDataAndUnsentData) {
  ServerSendsUnread(60000);
  ASSERT_EQ(::shutdown(server().get(), SHUT_WR), 0);
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kCloseWait)));
  ClientFillsServerWindow();
  CheckpointRestore(TcpState::kCloseWait);
  EXPECT_GT(state_.unsent_len, 0u);
  // The application reads the data, then end-of-file where it was.
  ClientGetsEarlierData();
  ASSERT_OK(ExpectEof(client()));
  // It can still write; the server gets everything, then our FIN.
  const std::string more = Pattern(50000, 5);
  ASSERT_OK_AND_ASSIGN(got, ReadExactly(server(), to_server_.size()));
  EXPECT_TRUE(got == to_server_);
  ASSERT_OK(WriteAll(client(), more));
  to_server_ = more;
  ASSERT_EQ(::shutdown(client().get(), SHUT_WR), 0);
  ServerGetsAllThenEof();
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kClose)));
}

TEST_P(HalfCloseTest, LastAckWithFinQueuedBehindUnsentData) {
  ServerSendsUnread(40000);
  ASSERT_EQ(::shutdown(server().get(), SHUT_WR), 0);
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kCloseWait)));
  ClientFillsServerWindow();
  ASSERT_EQ(::shutdown(client().get(), SHUT_WR), 0);
  CheckpointRestore(TcpState::kLastAck);
  EXPECT_GT(state_.unsent_len, 0u);
  ServerGetsAllThenEof();
  ClientGetsEarlierData();
  ASSERT_OK(ExpectEof(client()));
  ClientWriteFails();
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kClose)));
}

TEST_P(HalfCloseTest, LastAckWithFinInFlight) {
  ServerSendsUnread(40000);
  ASSERT_EQ(::shutdown(server().get(), SHUT_WR), 0);
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kCloseWait)));
  ClientSendsAcked();
  ASSERT_OK(soccr::loopback::DropIncomingFin(server()));
  ASSERT_EQ(::shutdown(client().get(), SHUT_WR), 0);
  ASSERT_EQ(OutqLen(client()), 1);
  ASSERT_EQ(UnsentLen(client()), 0);
  CheckpointRestore(
      TcpState::kLastAck,
      [](HalfCloseTest* t) {
        ASSERT_OK(soccr::loopback::AcceptIncoming(t->server()));
      },
      TcpState::kClose);
  ServerGetsAllThenEof();
  ClientGetsEarlierData();
  ASSERT_OK(ExpectEof(client()));
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kClose)));
}

TEST_P(HalfCloseTest, ClosingWithFinQueuedBehindUnsentData) {
  ServerSendsUnread(30000);
  ClientFillsServerWindow();
  ASSERT_EQ(::shutdown(client().get(), SHUT_WR), 0);
  ASSERT_EQ(::shutdown(server().get(), SHUT_WR), 0);
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kClosing)));
  CheckpointRestore(TcpState::kClosing);
  EXPECT_GT(state_.unsent_len, 0u);
  ServerGetsAllThenEof();
  ClientGetsEarlierData();
  ASSERT_OK(ExpectEof(client()));
  ClientWriteFails();
  // Our FIN acknowledged: TIME_WAIT, which a descriptor shows as CLOSE.
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kClose)));
}

TEST_P(HalfCloseTest, ClosingWithFinInFlight) {
  ServerSendsUnread(30000);
  ClientSendsAcked();
  ASSERT_OK(soccr::loopback::DropIncomingFin(server()));
  ASSERT_EQ(::shutdown(client().get(), SHUT_WR), 0);
  ASSERT_EQ(::shutdown(server().get(), SHUT_WR), 0);
  // The server's FIN arrives and is acknowledged; ours is dropped.
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kClosing)));
  ASSERT_OK(WaitTcpState(server(), N(TcpState::kFinWait2)));
  CheckpointRestore(
      TcpState::kClosing,
      [](HalfCloseTest* t) {
        ASSERT_OK(soccr::loopback::AcceptIncoming(t->server()));
      },
      TcpState::kClose);
  ServerGetsAllThenEof();
  ClientGetsEarlierData();
  ASSERT_OK(ExpectEof(client()));
  ASSERT_OK(WaitTcpState(client(), N(TcpState::kClose)));
}

}  // namespace
}  // namespace soccr
