// Every kernel call that checkpointing and restoring the states without a
// plain live connection make (CLOSE after a reset, SYN_SENT, LISTEN, a
// socket never connected), made to fail in turn: each time a clean error
// naming the call and no descriptor leaked; a failed checkpoint leaves the
// socket out of repair mode; a failed resume can be retried; and once nothing
// fails, the socket is in the checkpointed state.

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <functional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/testing/checkpoint_util.h"
#include "soccr/testing/fault_sweep.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"
#include "soccr/testing/status_matchers.h"

namespace soccr {
namespace {

using ::soccr::loopback::TcpStateNumber;
using ::soccr::sys::FaultInjectingSys;
using ::soccr::sys::Op;
using ::soccr::testing::FailedCall;
using ::soccr::testing::IsBestEffort;
using ::soccr::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

int N(TcpState s) { return static_cast<int>(s); }

class StateFaultsTest : public soccr::testing::NetnsTest {
 protected:
  void SetUp() override {
    soccr::testing::NetnsTest::SetUp();
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener_);
    const SocketAddress any = SocketAddress::Loopback4(0);
    ASSERT_EQ(::bind(listener_.get(), any.sockaddr(), any.length()), 0);
    ASSERT_EQ(::listen(listener_.get(), 64), 0);
    struct sockaddr_in a = {};
    socklen_t len = sizeof(a);
    ::getsockname(listener_.get(), reinterpret_cast<struct sockaddr*>(&a),
                  &len);
    target_ = SocketAddress::Loopback4(ntohs(a.sin_port));
  }

  // A client connection accepted from listener_.
  absl::StatusOr<soccr::loopback::TcpPair> Connect() {
    soccr::loopback::TcpPair p;
    p.client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(p.client.get(), target_.sockaddr(), target_.length()) != 0) {
      return absl::ErrnoToStatus(errno, "connect");
    }
    p.server.reset(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!p.server) return absl::ErrnoToStatus(errno, "accept");
    return p;
  }

  // A client in CLOSE after a reset, with unread data; with `fin_first`
  // the reset came in CLOSE_WAIT (EPIPE pending), else ECONNRESET.
  absl::StatusOr<OwnedFd> ResetClient(bool fin_first) {
    absl::StatusOr<soccr::loopback::TcpPair> p = Connect();
    if (!p.ok()) return p.status();
    absl::Status s = soccr::loopback::WriteAll(p->server.borrow(), "unread");
    if (s.ok()) s = soccr::loopback::WaitInq(p->client.borrow(), 6);
    if (s.ok() && fin_first) {
      ::shutdown(p->server.get(), SHUT_WR);
      s = soccr::loopback::WaitTcpState(p->client.borrow(),
                                        N(TcpState::kCloseWait));
    }
    const struct linger abort = {1, 0};
    ::setsockopt(p->server.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
    p->server.reset();
    if (s.ok()) {
      s = soccr::loopback::WaitTcpState(p->client.borrow(),
                                        N(TcpState::kClose));
    }
    if (!s.ok()) return s;
    return std::move(p->client);
  }

  // Checkpoints a fresh socket from `make` with each call failing in turn.
  void CheckpointFaults(const std::function<absl::StatusOr<OwnedFd>()>& make) {
    FaultInjectingSys sys;
    ConnectionState clean_state;
    {
      ASSERT_OK_AND_ASSIGN(fd, make());
      ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(fd.borrow(), sys));
      ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
      clean_state = state;
      ASSERT_OK(std::move(paused).Resume());
    }
    const std::vector<FaultInjectingSys::Call> clean = sys.calls();
    const int fds = soccr::loopback::CountOpenFds();
    for (size_t i = 0; i < clean.size(); ++i) {
      SCOPED_TRACE(absl::StrCat("failing call ", i, ": ", clean[i].ToString()));
      ASSERT_OK_AND_ASSIGN(fd, make());
      const int fd_count = soccr::loopback::CountOpenFds();
      sys.Reset();
      sys.FailCallAt(i, EIO);
      {
        absl::StatusOr<PausedSocket> paused =
            PausedSocket::Pause(fd.borrow(), sys);
        absl::Status status = paused.status();
        if (paused.ok()) {
          absl::StatusOr<ConnectionState> state = Checkpoint(*paused);
          status = state.ok() ? std::move(*paused).Resume() : state.status();
        }
        // EIO: Unknown (soccr/internal/status_code.h keeps Abseil's choice).
        EXPECT_THAT(status,
                    StatusIs(absl::StatusCode::kUnknown,
                             HasSubstr(std::string(sys::OpName(clean[i].op)))));
      }
      EXPECT_EQ(FailedCall(sys).op, clean[i].op);
      EXPECT_EQ(soccr::loopback::CountOpenFds(), fd_count);
      int repair = -1;
      socklen_t len = sizeof(repair);
      ::getsockopt(fd.get(), SOL_TCP, TCP_REPAIR, &repair, &len);
      EXPECT_EQ(repair, 0) << "left in repair mode";
      EXPECT_EQ(TcpStateNumber(fd.borrow()), N(clean_state.state));
    }
    EXPECT_EQ(soccr::loopback::CountOpenFds(), fds);
  }

  // Restores `state` with each call of the restore and resume failing in
  // turn. Returns the ops that failed.
  std::set<Op> RestoreFaults(const ConnectionState& state) {
    FaultInjectingSys sys;
    std::set<Op> failed_ops;
    const int fds = soccr::loopback::CountOpenFds();
    for (size_t i = 0;; ++i) {
      sys.Reset();
      sys.FailCallAt(i, EIO);
      absl::StatusOr<RestoredSocket> restored = Restore(state, sys);
      const FaultInjectingSys::Call failed = FailedCall(sys);
      SCOPED_TRACE(absl::StrCat("failing call ", i, ": ", failed.ToString()));
      failed_ops.insert(failed.op);
      if (!restored.ok()) {
        EXPECT_THAT(
            restored,
            StatusIs(absl::StatusCode::kUnknown,
                     AllOf(HasSubstr(std::string(sys::OpName(failed.op))),
                           HasSubstr("Input/output error"))));
        EXPECT_EQ(soccr::loopback::CountOpenFds(), fds);
        continue;
      }
      absl::StatusOr<OwnedFd> live = std::move(*restored).Resume();
      const bool nothing_failed = sys.calls().size() <= i;
      if (!nothing_failed) {
        const FaultInjectingSys::Call f = FailedCall(sys);
        failed_ops.insert(f.op);
        if (!live.ok()) {
          EXPECT_THAT(live,
                      StatusIs(absl::StatusCode::kUnknown,
                               HasSubstr(std::string(sys::OpName(f.op)))));
          live = std::move(*restored).Resume();  // what is left, once more
        } else {
          EXPECT_TRUE(IsBestEffort(f))
              << "resumed although " << f.ToString() << " failed";
        }
      }
      EXPECT_TRUE(live.ok()) << live.status();
      if (live.ok()) {
        EXPECT_EQ(TcpStateNumber(live->borrow()), N(state.state));
      }
      live = absl::UnknownError("closed");
      restored = absl::UnknownError("closed");
      EXPECT_EQ(soccr::loopback::CountOpenFds(), fds);
      if (nothing_failed) break;
    }
    return failed_ops;
  }

  OwnedFd listener_;
  SocketAddress target_;
};

TEST_F(StateFaultsTest, ClosedAfterReset) {
  CheckpointFaults([&] { return ResetClient(false); });
  ASSERT_OK_AND_ASSIGN(fd, ResetClient(false));
  ASSERT_OK_AND_ASSIGN(state,
                       soccr::testing::CheckpointAndClose(std::move(fd)));
  ASSERT_EQ(state.pending_error, static_cast<uint32_t>(ECONNRESET));
  const std::set<Op> failed = RestoreFaults(state);
  for (Op op : {Op::kSendTo, Op::kGetTcpInfo, Op::kSetRepairWindow}) {
    EXPECT_TRUE(failed.count(op)) << sys::OpName(op) << " never failed";
  }
}

TEST_F(StateFaultsTest, ClosedAfterResetInCloseWait) {
  ASSERT_OK_AND_ASSIGN(fd, ResetClient(true));
  ASSERT_OK_AND_ASSIGN(state,
                       soccr::testing::CheckpointAndClose(std::move(fd)));
  ASSERT_EQ(state.pending_error, static_cast<uint32_t>(EPIPE));
  // Two injections: the FIN, then the reset.
  RestoreFaults(state);
}

TEST_F(StateFaultsTest, ClosedAfterBothFins) {
  auto make = [&]() -> absl::StatusOr<OwnedFd> {
    absl::StatusOr<soccr::loopback::TcpPair> p = Connect();
    if (!p.ok()) return p.status();
    ::shutdown(p->server.get(), SHUT_WR);
    absl::Status s = soccr::loopback::WaitTcpState(p->client.borrow(),
                                                   N(TcpState::kCloseWait));
    ::shutdown(p->client.get(), SHUT_WR);
    if (s.ok()) {
      s = soccr::loopback::WaitTcpState(p->client.borrow(),
                                        N(TcpState::kClose));
    }
    if (!s.ok()) return s;
    return std::move(p->client);
  };
  CheckpointFaults(make);
  ASSERT_OK_AND_ASSIGN(fd, make());
  ASSERT_OK_AND_ASSIGN(state,
                       soccr::testing::CheckpointAndClose(std::move(fd)));
  ASSERT_EQ(state.pending_error, 0u);
  // The reset's error is cleared with SO_ERROR: that read fails too.
  RestoreFaults(state);
}

TEST_F(StateFaultsTest, SynSent) {
  ASSERT_OK(soccr::loopback::DropIncoming(listener_.borrow()));
  auto make = [&]() -> absl::StatusOr<OwnedFd> {
    OwnedFd fd(
        ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ::connect(fd.get(), target_.sockaddr(), target_.length());
    if (TcpStateNumber(fd.borrow()) != N(TcpState::kSynSent)) {
      return absl::InternalError("not in SYN_SENT");
    }
    return fd;
  };
  CheckpointFaults(make);
  ASSERT_OK_AND_ASSIGN(fd, make());
  ASSERT_OK_AND_ASSIGN(state,
                       soccr::testing::CheckpointAndClose(std::move(fd)));
  const std::set<Op> failed = RestoreFaults(state);
  for (Op op : {Op::kGetFileFlags, Op::kSetFileFlags, Op::kConnect}) {
    EXPECT_TRUE(failed.count(op)) << sys::OpName(op) << " never failed";
  }
}

TEST_F(StateFaultsTest, Listener) {
  CheckpointFaults([&]() -> absl::StatusOr<OwnedFd> {
    OwnedFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const SocketAddress a = SocketAddress::Loopback6(0);
    if (::bind(fd.get(), a.sockaddr(), a.length()) != 0 ||
        ::listen(fd.get(), 5) != 0) {
      return absl::ErrnoToStatus(errno, "listen");
    }
    return fd;
  });
  ConnectionState state;
  state.state = TcpState::kListen;
  state.local = target_;
  state.listen_backlog = 9;
  listener_.reset();  // the restores take its address
  const std::set<Op> failed = RestoreFaults(state);
  EXPECT_TRUE(failed.count(Op::kListen));
  EXPECT_TRUE(failed.count(Op::kBind));
}

TEST_F(StateFaultsTest, NeverConnected) {
  CheckpointFaults([&]() -> absl::StatusOr<OwnedFd> {
    OwnedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const SocketAddress a = SocketAddress::Loopback4(0);
    if (::bind(fd.get(), a.sockaddr(), a.length()) != 0) {
      return absl::ErrnoToStatus(errno, "bind");
    }
    return fd;
  });
  OwnedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const SocketAddress a = SocketAddress::Loopback4(0);
  ASSERT_EQ(::bind(fd.get(), a.sockaddr(), a.length()), 0);
  ASSERT_OK_AND_ASSIGN(state,
                       soccr::testing::CheckpointAndClose(std::move(fd)));
  EXPECT_TRUE(RestoreFaults(state).count(Op::kBind));
}

}  // namespace
}  // namespace soccr
