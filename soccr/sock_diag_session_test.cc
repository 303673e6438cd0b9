// SockDiagSession: one netlink socket for a caller's checkpoints, one after
// another; the same state as without it; never shared with another
// thread's checkpoint or with a forked child; and every sock_diag answer,
// kept socket or not, checked to be about the socket asked about.

#include "soccr/sock_diag_session.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>  // NOLINT: a second thread is the point
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/internal/sock_diag_session_scope.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/status_macros.h"
#include "soccr/sys/counting_sys.h"
#include "soccr/sys/intercepting_sys.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::loopback::Family;
using ::soccr::loopback::Pattern;
using ::soccr::sys::Op;
using ::testing::HasSubstr;

class SockDiagSessionTest : public soccr::testing::NetnsTest {};

// A connection with bytes queued both ways, each end's own.
absl::StatusOr<loopback::TcpPair> BusyPair(Family family, uint64_t seed) {
  absl::StatusOr<loopback::TcpPair> pair = loopback::ConnectedPair(family);
  if (!pair.ok()) return pair.status();
  const std::string in = Pattern(3000, seed);
  SOCCR_RETURN_IF_ERROR(loopback::WriteAll(pair->server.borrow(), in));
  SOCCR_RETURN_IF_ERROR(loopback::WaitInq(pair->client.borrow(), in.size()));
  SOCCR_RETURN_IF_ERROR(loopback::DropIncoming(pair->server.borrow()));
  SOCCR_RETURN_IF_ERROR(
      loopback::WriteAll(pair->client.borrow(), Pattern(1000, seed + 1)));
  return pair;
}

// The state with the TCP timestamp clock (milliseconds), which moves on
// between two checkpoints, taken from `like`.
ConnectionState SameClock(ConnectionState s, const ConnectionState& like) {
  s.timestamp = like.timestamp;
  return s;
}

TEST_F(SockDiagSessionTest, OneNetlinkSocketForManyCheckpointsSameState) {
  std::vector<loopback::TcpPair> pairs;
  for (Family family :
       {Family::kV4, Family::kV6, Family::kMapped, Family::kV4, Family::kV6}) {
    ASSERT_OK_AND_ASSIGN(pair, BusyPair(family, pairs.size() * 2));
    pairs.push_back(std::move(pair));
  }
  SockDiagSession session;
  EXPECT_FALSE(session.is_open());
  for (bool socket_options : {false, true}) {
    SCOPED_TRACE(socket_options ? "with socket options" : "libsoccr's state");
    sys::CountingSys counting;
    CheckpointOptions with;
    with.socket_options = socket_options;
    with.sock_diag = &session;
    CheckpointOptions without;
    without.socket_options = socket_options;
    uint64_t netlink_sockets = 0;
    for (size_t i = 0; i < pairs.size(); ++i) {
      SCOPED_TRACE(i);
      ASSERT_OK_AND_ASSIGN(
          paused, PausedSocket::Pause(pairs[i].client.borrow(), counting));
      ASSERT_OK_AND_ASSIGN(plain, Checkpoint(paused, without));
      const uint64_t before = counting.Count(Op::kSocket);
      ASSERT_OK_AND_ASSIGN(kept, Checkpoint(paused, with));
      netlink_sockets += counting.Count(Op::kSocket) - before;
      EXPECT_EQ(SameClock(kept, plain), plain) << kept.ToString();
      EXPECT_TRUE(kept.recv_queue.view() == Pattern(3000, i * 2));
      EXPECT_TRUE(kept.send_queue.view() == Pattern(1000, i * 2 + 1));
      EXPECT_TRUE(session.is_open());
      ASSERT_OK(std::move(paused).Resume());
    }
    // Opened by the first checkpoint of the first round, kept since.
    EXPECT_EQ(netlink_sockets, socket_options ? 0u : 1u);
  }
  // The connections carry on.
  for (size_t i = 0; i < pairs.size(); ++i) {
    ASSERT_OK(loopback::AcceptIncoming(pairs[i].server.borrow()));
    ASSERT_OK_AND_ASSIGN(got,
                         loopback::ReadExactly(pairs[i].server.borrow(), 1000));
    EXPECT_TRUE(got == Pattern(1000, i * 2 + 1));
  }
}

// Two uses at once: the second does not wait and does not share; a
// moved-from session is no session.
TEST_F(SockDiagSessionTest, InUseOrMovedFromMeansAQuestionOfItsOwn) {
  SockDiagSession session;
  {
    const internal::SockDiagSessionScope first(&session);
    EXPECT_TRUE(first.holds());
    const internal::SockDiagSessionScope second(&session);
    EXPECT_FALSE(second.holds());
    // A checkpoint on another thread meanwhile asks on a socket of its
    // own: the session's is not opened by it.
    ASSERT_OK_AND_ASSIGN(pair, BusyPair(Family::kV4, 7));
    absl::StatusOr<ConnectionState> state;
    std::thread other([&] {
      absl::StatusOr<PausedSocket> paused =
          PausedSocket::Pause(pair.client.borrow());
      if (!paused.ok()) {
        state = paused.status();
        return;
      }
      CheckpointOptions options;
      options.sock_diag = &session;
      state = Checkpoint(*paused, options);
    });
    other.join();
    ASSERT_OK(state.status());
    EXPECT_TRUE(state->recv_queue.view() == Pattern(3000, 7));
    EXPECT_FALSE(session.is_open());
  }
  {
    const internal::SockDiagSessionScope again(&session);
    EXPECT_TRUE(again.holds());
  }
  SockDiagSession moved = std::move(session);
  const internal::SockDiagSessionScope none(&session);  // NOLINT: moved from
  EXPECT_FALSE(none.holds());
  EXPECT_FALSE(session.is_open());  // NOLINT: moved from
  const internal::SockDiagSessionScope null(nullptr);
  EXPECT_FALSE(null.holds());

  ASSERT_OK_AND_ASSIGN(pair, BusyPair(Family::kV6, 9));
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
  CheckpointOptions options;
  options.sock_diag = &session;  // NOLINT: moved from
  ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused, options));
  EXPECT_TRUE(state.recv_queue.view() == Pattern(3000, 9));
  options.sock_diag = &moved;
  ASSERT_OK_AND_ASSIGN(state2, Checkpoint(paused, options));
  EXPECT_EQ(SameClock(state2, state), state);
  EXPECT_TRUE(moved.is_open());
  ASSERT_OK(std::move(paused).Resume());
}

// A forked child's copy of an open session holds the parent's netlink
// socket: the child opens its own, and the parent's goes on working.
TEST_F(SockDiagSessionTest, AForkedChildOpensItsOwn) {
  ASSERT_OK_AND_ASSIGN(pair, BusyPair(Family::kV4, 11));
  SockDiagSession session;
  CheckpointOptions options;
  options.sock_diag = &session;
  {
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
    ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused, options));
    ASSERT_OK(std::move(paused).Resume());
  }
  ASSERT_TRUE(session.is_open());
  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << strerror(errno);
  if (child == 0) {
    // Exit codes: 0 fine, 1 the checkpoint failed, 2 it used the parent's
    // socket (no new one), 3 the state is wrong.
    sys::CountingSys counting;
    absl::StatusOr<PausedSocket> paused =
        PausedSocket::Pause(pair.client.borrow(), counting);
    if (!paused.ok()) ::_exit(1);
    absl::StatusOr<ConnectionState> state = Checkpoint(*paused, options);
    if (!state.ok()) ::_exit(1);
    if (counting.Count(Op::kSocket) != 1) ::_exit(2);
    if (state->recv_queue.view() != Pattern(3000, 11)) ::_exit(3);
    // A second checkpoint in the child keeps the child's socket.
    if (!Checkpoint(*paused, options).ok()) ::_exit(1);
    if (counting.Count(Op::kSocket) != 1) ::_exit(2);
    if (!std::move(*paused).Resume().ok()) ::_exit(1);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The parent's socket: still open, still answering, not reopened.
  sys::CountingSys counting;
  ASSERT_OK_AND_ASSIGN(paused,
                       PausedSocket::Pause(pair.client.borrow(), counting));
  ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused, options));
  EXPECT_EQ(counting.Count(Op::kSocket), 0u);
  EXPECT_TRUE(state.recv_queue.view() == Pattern(3000, 11));
  ASSERT_OK(std::move(paused).Resume());
}

// Passes every call on, but makes sock_diag's replies name another socket
// (their SO_COOKIE changed), as a reply left over for another question
// would.
class OtherSocketsReply final : public sys::InterceptingSys {
 public:
  OtherSocketsReply() : InterceptingSys(sys::LinuxSys()) {}
  sys::Result<size_t> Recv(BorrowedFd fd,
                           absl::Span<uint8_t> buf) const override {
    sys::Result<size_t> r = InterceptingSys::Recv(fd, buf);
    if (r.ok() && r.value >= NLMSG_HDRLEN + sizeof(struct inet_diag_msg)) {
      auto* h = reinterpret_cast<struct nlmsghdr*>(buf.data());
      if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
        auto* msg = static_cast<struct inet_diag_msg*>(NLMSG_DATA(h));
        msg->id.idiag_cookie[0] ^= 1;
      }
    }
    return r;
  }

 private:
  int Intercept(Op, int, int) const override { return 0; }
};

TEST_F(SockDiagSessionTest, AnAnswerAboutAnotherSocketIsRefused) {
  ASSERT_OK_AND_ASSIGN(pair, BusyPair(Family::kV4, 13));
  const OtherSocketsReply other;
  SockDiagSession session;
  for (SockDiagSession* s :
       {static_cast<SockDiagSession*>(nullptr), &session}) {
    SCOPED_TRACE(s == nullptr ? "own socket" : "session");
    {
      ASSERT_OK_AND_ASSIGN(paused,
                           PausedSocket::Pause(pair.client.borrow(), other));
      CheckpointOptions options;
      options.sock_diag = s;
      absl::StatusOr<ConnectionState> state = Checkpoint(paused, options);
      EXPECT_FALSE(state.ok());
      EXPECT_THAT(state.status().message(),
                  HasSubstr("ask sock_diag about the connection: sock_diag "
                            "reply: it describes another socket"));
      EXPECT_THAT(state.status().message(), HasSubstr("127.0.0.1:"));
      ASSERT_OK(std::move(paused).Resume());
    }
    // The failed question closed the session's socket (a reply might be
    // left on it); the next checkpoint opens another and succeeds.
    EXPECT_FALSE(session.is_open());
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
    CheckpointOptions options;
    options.sock_diag = s;
    ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused, options));
    EXPECT_TRUE(state.recv_queue.view() == Pattern(3000, 13));
    ASSERT_OK(std::move(paused).Resume());
  }
  EXPECT_TRUE(session.is_open());
  // The original carries on.
  ASSERT_OK(loopback::AcceptIncoming(pair.server.borrow()));
  ASSERT_OK_AND_ASSIGN(got, loopback::ReadExactly(pair.server.borrow(), 1000));
  EXPECT_TRUE(got == Pattern(1000, 14));
}

}  // namespace
}  // namespace soccr
