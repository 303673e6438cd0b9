// Checkpoint and restore of half-closed connections: FIN_WAIT1 (our FIN
// queued behind unsent data, or sent and unacknowledged), FIN_WAIT2,
// CLOSE_WAIT, LAST_ACK and CLOSING, over IPv4, IPv6 and IPv4-mapped IPv6.
//
// Each state is a row of one table (HalfCloseCase: where our FIN is, when
// the peer's came), run the same way: the state produced on the client of a
// loopback pair, checkpointed, the client closed while paused, restored, a
// checkpoint of the restored socket compared, TCP_INFO's state checked after
// the resume, then the rest of the conversation played: every byte in both
// directions, and both end-of-files.
//
// Nothing the server sends may reach the closed original's port (the kernel
// would answer with a reset), so before the checkpoint the server always has
// nothing in flight, and FINs the server must not acknowledge yet are held
// back by a socket filter that drops only FIN segments.

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <tuple>
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

// Where the client's FIN is at the checkpoint.
enum class OurFin {
  kNone,          // not sent: the client still writes
  kBehindUnsent,  // queued behind data the server's full window holds back
  kInFlight,      // sent, dropped by the server: only the FIN is in flight
  kAcked,         // sent and acknowledged
};

// When the server's FIN came.
enum class PeerFin {
  kNone,
  kBefore,  // before the client writes (the client goes to CLOSE_WAIT)
  kAfter,   // after the client's FIN (simultaneous close: CLOSING)
};

struct HalfCloseCase {
  const char* name;
  TcpState state;  // the client's at the checkpoint
  size_t unread;   // the server sends it, the client leaves it unread
  OurFin our_fin;
  PeerFin peer_fin;
  // With our FIN in flight, the resume sends it at once, and over loopback
  // the peer's ACK may be in before TCP_INFO is read.
  std::optional<TcpState> moved_on;
};

const HalfCloseCase kCases[] = {
    {"FinWait1WithFinQueuedBehindUnsentData", TcpState::kFinWait1, 50000,
     OurFin::kBehindUnsent, PeerFin::kNone, std::nullopt},
    {"FinWait1WithFinInFlight", TcpState::kFinWait1, 20000, OurFin::kInFlight,
     PeerFin::kNone, TcpState::kFinWait2},
    {"FinWait2", TcpState::kFinWait2, 70000, OurFin::kAcked, PeerFin::kNone,
     std::nullopt},
    {"CloseWaitWithUnreadDataAndUnsentData", TcpState::kCloseWait, 60000,
     OurFin::kNone, PeerFin::kBefore, std::nullopt},
    {"LastAckWithFinQueuedBehindUnsentData", TcpState::kLastAck, 40000,
     OurFin::kBehindUnsent, PeerFin::kBefore, std::nullopt},
    {"LastAckWithFinInFlight", TcpState::kLastAck, 40000, OurFin::kInFlight,
     PeerFin::kBefore, TcpState::kClose},
    {"ClosingWithFinQueuedBehindUnsentData", TcpState::kClosing, 30000,
     OurFin::kBehindUnsent, PeerFin::kAfter, std::nullopt},
    {"ClosingWithFinInFlight", TcpState::kClosing, 30000, OurFin::kInFlight,
     PeerFin::kAfter, TcpState::kClose},
};

class HalfCloseTest
    : public soccr::testing::NetnsTest,
      public ::testing::WithParamInterface<std::tuple<Family, HalfCloseCase>> {
 public:
  BorrowedFd client() const { return pair_.client.borrow(); }
  BorrowedFd server() const { return pair_.server.borrow(); }

 protected:
  void SetUp() override {
    soccr::testing::NetnsTest::SetUp();
    // A small server receive buffer keeps the client's writes unsent.
    ASSERT_OK_AND_ASSIGN(p, soccr::loopback::ConnectedPair(
                                std::get<0>(GetParam()), 0, 32 << 10));
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

INSTANTIATE_TEST_SUITE_P(
    States, HalfCloseTest,
    ::testing::Combine(::testing::Values(Family::kV4, Family::kV6,
                                         Family::kMapped),
                       ::testing::ValuesIn(kCases)),
    [](const ::testing::TestParamInfo<std::tuple<Family, HalfCloseCase>>&
           info) {
      return absl::StrCat(std::get<1>(info.param).name, "_",
                          soccr::loopback::FamilyName(std::get<0>(info.param)));
    });

TEST_P(HalfCloseTest, CheckpointRestoreAndTheRestOfTheConversation) {
  const HalfCloseCase& c = std::get<1>(GetParam());
  const bool in_flight = c.our_fin == OurFin::kInFlight;

  // Into the state.
  if (c.our_fin != OurFin::kAcked) ServerSendsUnread(c.unread);
  if (c.peer_fin == PeerFin::kBefore) {
    ASSERT_EQ(::shutdown(server().get(), SHUT_WR), 0);
    ASSERT_OK(WaitTcpState(client(), N(TcpState::kCloseWait)));
  }
  if (c.our_fin == OurFin::kNone || c.our_fin == OurFin::kBehindUnsent) {
    ClientFillsServerWindow();
  } else {
    ClientSendsAcked();
  }
  if (in_flight) ASSERT_OK(soccr::loopback::DropIncomingFin(server()));
  if (c.our_fin != OurFin::kNone) {
    ASSERT_EQ(::shutdown(client().get(), SHUT_WR), 0);
  }
  if (c.our_fin == OurFin::kBehindUnsent) {
    // The FIN waits behind the unsent data: SIOCOUTQNSD counts it.
    ASSERT_GT(UnsentLen(client()), 1);
  }
  if (in_flight) {
    // Sent, and dropped by the server: only the FIN is in flight.
    ASSERT_EQ(OutqLen(client()), 1);
    ASSERT_EQ(UnsentLen(client()), 0);
  }
  if (c.our_fin == OurFin::kAcked) {
    ServerGetsAllThenEof();
    ASSERT_OK(WaitTcpState(client(), N(TcpState::kFinWait2)));
    ServerSendsUnread(c.unread);
    to_server_.clear();
  }
  if (c.peer_fin == PeerFin::kAfter) {
    ASSERT_EQ(::shutdown(server().get(), SHUT_WR), 0);
  }
  ASSERT_OK(WaitTcpState(client(), N(c.state)));
  if (in_flight && c.peer_fin == PeerFin::kAfter) {
    // The server's FIN arrives and is acknowledged; ours is dropped.
    ASSERT_OK(WaitTcpState(server(), N(TcpState::kFinWait2)));
  }
  if (HasFatalFailure()) return;

  // A held-back FIN goes through once the restored socket is resumed.
  void (*accept_fin)(HalfCloseTest*) = nullptr;
  if (in_flight) {
    accept_fin = [](HalfCloseTest* t) {
      ASSERT_OK(soccr::loopback::AcceptIncoming(t->server()));
    };
  }
  CheckpointRestore(c.state, accept_fin, c.moved_on);
  if (HasFatalFailure()) return;
  EXPECT_EQ(state_.outq_len, state_.send_queue.size());
  if (c.our_fin == OurFin::kNone || c.our_fin == OurFin::kBehindUnsent) {
    EXPECT_GT(state_.unsent_len, 0u);
  } else {
    // The FIN counts in no length.
    EXPECT_EQ(state_.outq_len, 0u);
    EXPECT_EQ(state_.unsent_len, 0u);
  }

  // The rest of the conversation. The server gets everything, then our FIN
  // (retransmitted by the restored socket when it was in flight, exactly
  // once in the stream).
  if (c.our_fin == OurFin::kBehindUnsent || in_flight) ServerGetsAllThenEof();
  if (in_flight && c.peer_fin == PeerFin::kNone) {
    ASSERT_OK(WaitTcpState(client(), N(TcpState::kFinWait2)));
  }
  // The application reads the data, then end-of-file where it was.
  ClientGetsEarlierData();
  if (c.peer_fin != PeerFin::kNone) ASSERT_OK(ExpectEof(client()));
  if (c.our_fin != OurFin::kNone) ClientWriteFails();
  if (c.peer_fin == PeerFin::kNone) {
    ServerSendsMoreThenCloses();
  } else if (c.our_fin == OurFin::kNone) {
    // CLOSE_WAIT: the client can still write; the server gets everything,
    // then its FIN.
    const std::string more = Pattern(50000, 5);
    ASSERT_OK_AND_ASSIGN(got, ReadExactly(server(), to_server_.size()));
    EXPECT_TRUE(got == to_server_);
    ASSERT_OK(WriteAll(client(), more));
    to_server_ = more;
    ASSERT_EQ(::shutdown(client().get(), SHUT_WR), 0);
    ServerGetsAllThenEof();
    ASSERT_OK(WaitTcpState(client(), N(TcpState::kClose)));
  } else {
    // Both FINs acknowledged: TIME_WAIT, which a descriptor shows as CLOSE.
    ASSERT_OK(WaitTcpState(client(), N(TcpState::kClose)));
  }
}

}  // namespace
}  // namespace soccr
