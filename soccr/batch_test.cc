// CheckpointMany / CheckpointAndCloseMany / RestoreMany /
// RestoreAndResumeMany: every connection moved with its bytes, failures
// reported per connection, nothing leaked. Each test has its own network
// namespace; the worker threads inherit it.

#include "soccr/batch.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/restore.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::loopback::Pattern;

constexpr size_t kConnections = 40;

BatchOptions TwoThreads() {
  BatchOptions o;
  o.threads = 2;
  o.min_per_thread = 1;
  return o;
}

class BatchTest : public soccr::testing::NetnsTest {
 protected:
  // kConnections pairs; in each, the server has sent the client 1000 bytes
  // it has not read, and the client has sent the server 500 it has not read.
  void SetUp() override {
    soccr::testing::NetnsTest::SetUp();
    for (size_t i = 0; i < kConnections; ++i) {
      ASSERT_OK_AND_ASSIGN(
          pair, soccr::loopback::ConnectedPair(soccr::loopback::Family::kV4));
      ASSERT_OK(soccr::loopback::WriteAll(pair.server.borrow(), ToClient(i)));
      ASSERT_OK(soccr::loopback::WriteAll(pair.client.borrow(), ToServer(i)));
      ASSERT_OK(soccr::loopback::WaitInq(pair.client.borrow(), 1000));
      ASSERT_OK(soccr::loopback::WaitInq(pair.server.borrow(), 500));
      clients_.push_back(std::move(pair.client));
      servers_.push_back(std::move(pair.server));
    }
  }

  static std::string ToClient(size_t i) { return Pattern(1000, 2 * i); }
  static std::string ToServer(size_t i) { return Pattern(500, 2 * i + 1); }

  // The unread bytes arrive on both ends, then new bytes both ways.
  void ExpectConnectionWorks(size_t i, BorrowedFd client) {
    ASSERT_OK_AND_ASSIGN(down, soccr::loopback::ReadExactly(client, 1000));
    EXPECT_EQ(down, ToClient(i)) << "connection " << i;
    ASSERT_OK_AND_ASSIGN(
        up, soccr::loopback::ReadExactly(servers_[i].borrow(), 500));
    EXPECT_EQ(up, ToServer(i)) << "connection " << i;
    const std::string more = Pattern(3000, 1000 + i);
    ASSERT_OK(soccr::loopback::WriteAll(client, more));
    ASSERT_OK_AND_ASSIGN(
        got, soccr::loopback::ReadExactly(servers_[i].borrow(), more.size()));
    EXPECT_EQ(got, more) << "connection " << i;
    ASSERT_OK(soccr::loopback::WriteAll(servers_[i].borrow(), more));
    ASSERT_OK_AND_ASSIGN(back,
                         soccr::loopback::ReadExactly(client, more.size()));
    EXPECT_EQ(back, more) << "connection " << i;
  }

  std::vector<OwnedFd> clients_;
  std::vector<OwnedFd> servers_;
};

TEST_F(BatchTest, MigratesEveryConnectionWithItsBytes) {
  std::vector<absl::StatusOr<ConnectionState>> states =
      CheckpointAndCloseMany(absl::MakeSpan(clients_), TwoThreads());
  ASSERT_EQ(states.size(), kConnections);
  std::vector<ConnectionState> ok;
  for (size_t i = 0; i < kConnections; ++i) {
    ASSERT_TRUE(states[i].ok()) << i << ": " << states[i].status();
    EXPECT_FALSE(clients_[i]) << "connection " << i << " was not closed";
    EXPECT_EQ(states[i]->recv_queue.view(), ToClient(i));
    ok.push_back(*std::move(states[i]));
  }

  std::vector<absl::StatusOr<OwnedFd>> live =
      RestoreAndResumeMany(ok, TwoThreads());
  ASSERT_EQ(live.size(), kConnections);
  for (size_t i = 0; i < kConnections; ++i) {
    ASSERT_TRUE(live[i].ok()) << i << ": " << live[i].status();
    ExpectConnectionWorks(i, live[i]->borrow());
  }
}

// Sockets made ahead (MakeFreshSockets), restored onto later, resumed with
// ResumeMany: the same connections. A fresh socket of the wrong family is
// refused and closed; the others are unaffected.
TEST_F(BatchTest, RestoresOntoFreshSocketsMadeAhead) {
  std::vector<int> families(kConnections, AF_INET);
  families[4] = AF_INET6;
  families[9] = AF_UNIX;
  std::vector<absl::StatusOr<FreshSocket>> made =
      MakeFreshSockets(families, TwoThreads());
  ASSERT_EQ(made.size(), kConnections);
  EXPECT_EQ(made[9].status().code(), absl::StatusCode::kInvalidArgument);
  made[9] = MakeFreshSocket(AF_INET);
  std::vector<FreshSocket> fresh;
  for (size_t i = 0; i < kConnections; ++i) {
    ASSERT_TRUE(made[i].ok()) << i << ": " << made[i].status();
    fresh.push_back(*std::move(made[i]));
  }
  EXPECT_EQ(fresh[4].family(), AF_INET6);

  std::vector<absl::StatusOr<ConnectionState>> states =
      CheckpointAndCloseMany(absl::MakeSpan(clients_), TwoThreads());
  std::vector<ConnectionState> ok;
  for (absl::StatusOr<ConnectionState>& s : states) {
    ASSERT_TRUE(s.ok()) << s.status();
    ok.push_back(*std::move(s));
  }
  const int fds_before = soccr::loopback::CountOpenFds();
  std::vector<absl::StatusOr<RestoredSocket>> restored =
      RestoreMany(absl::MakeSpan(fresh), ok, TwoThreads());
  ASSERT_EQ(restored.size(), kConnections);
  EXPECT_EQ(restored[4].status().code(), absl::StatusCode::kInvalidArgument)
      << restored[4].status();
  EXPECT_THAT(std::string(restored[4].status().message()),
              ::testing::HasSubstr("address family"));
  // The refused socket is closed; the others are the restored ones.
  EXPECT_EQ(soccr::loopback::CountOpenFds(), fds_before - 1);
  std::vector<RestoredSocket> paused;
  std::vector<size_t> which;
  for (size_t i = 0; i < kConnections; ++i) {
    if (i == 4) continue;
    ASSERT_TRUE(restored[i].ok()) << i << ": " << restored[i].status();
    paused.push_back(*std::move(restored[i]));
    which.push_back(i);
  }
  std::vector<absl::StatusOr<OwnedFd>> live =
      ResumeMany(absl::MakeSpan(paused), TwoThreads());
  ASSERT_EQ(live.size(), which.size());
  for (size_t j = 0; j < which.size(); ++j) {
    ASSERT_TRUE(live[j].ok()) << which[j] << ": " << live[j].status();
    ExpectConnectionWorks(which[j], live[j]->borrow());
  }
  // Connection 4 was lost with its refused restore: its state restores
  // onto a socket of its own family.
  ASSERT_OK_AND_ASSIGN(f4, MakeFreshSocket(AF_INET));
  ASSERT_OK_AND_ASSIGN(r4, Restore(std::move(f4), ok[4]));
  ASSERT_OK_AND_ASSIGN(fd4, std::move(r4).Resume());
  ExpectConnectionWorks(4, fd4.borrow());
}

TEST_F(BatchTest, CheckpointManyKeepsSocketsPausedUntilDropped) {
  std::vector<BorrowedFd> fds;
  for (const OwnedFd& fd : clients_) fds.push_back(fd.borrow());
  {
    std::vector<absl::StatusOr<PausedCheckpoint>> paused =
        CheckpointMany(fds, TwoThreads());
    ASSERT_EQ(paused.size(), kConnections);
    for (size_t i = 0; i < kConnections; ++i) {
      ASSERT_TRUE(paused[i].ok()) << i << ": " << paused[i].status();
      EXPECT_EQ(paused[i]->socket.fd(), fds[i]);
      EXPECT_EQ(paused[i]->state.recv_queue.view(), ToClient(i));
      // The handle still holds the paused socket.
      ASSERT_TRUE(Checkpoint(paused[i]->socket).ok());
    }
  }  // Dropping the handles resumes every socket.
  for (size_t i = 0; i < kConnections; ++i) {
    ExpectConnectionWorks(i, clients_[i].borrow());
  }
}

TEST_F(BatchTest, AFailedCheckpointLeavesItsSocketLiveAndInPlace) {
  // Entry 3 is a UDP socket and entry 7 a pipe: neither can be paused. The
  // others move.
  OwnedFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(udp);
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  OwnedFd pipe_read(pipe_fds[0]);
  OwnedFd pipe_write(pipe_fds[1]);
  const int udp_fd = udp.get();
  const int pipe_fd = pipe_read.get();
  OwnedFd saved3 = std::exchange(clients_[3], std::move(udp));
  OwnedFd saved7 = std::exchange(clients_[7], std::move(pipe_read));

  std::vector<absl::StatusOr<ConnectionState>> states =
      CheckpointAndCloseMany(absl::MakeSpan(clients_), TwoThreads());
  ASSERT_EQ(states.size(), kConnections);
  EXPECT_EQ(states[3].status().code(), absl::StatusCode::kInvalidArgument)
      << states[3].status();
  EXPECT_EQ(states[7].status().code(), absl::StatusCode::kInvalidArgument)
      << states[7].status();
  // Both are still there, still open, still the caller's.
  EXPECT_EQ(clients_[3].get(), udp_fd);
  EXPECT_EQ(clients_[7].get(), pipe_fd);
  ASSERT_EQ(::write(pipe_write.get(), "x", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(pipe_fd, &c, 1), 1) << "the pipe was closed";
  int type = 0;
  socklen_t len = sizeof(type);
  ASSERT_EQ(::getsockopt(udp_fd, SOL_SOCKET, SO_TYPE, &type, &len), 0);
  EXPECT_EQ(type, SOCK_DGRAM);

  std::vector<ConnectionState> ok;
  std::vector<size_t> index;
  for (size_t i = 0; i < kConnections; ++i) {
    if (i == 3 || i == 7) continue;
    ASSERT_TRUE(states[i].ok()) << i << ": " << states[i].status();
    ok.push_back(*std::move(states[i]));
    index.push_back(i);
  }
  std::vector<absl::StatusOr<OwnedFd>> live =
      RestoreAndResumeMany(ok, TwoThreads());
  for (size_t k = 0; k < live.size(); ++k) {
    ASSERT_TRUE(live[k].ok()) << index[k] << ": " << live[k].status();
    ExpectConnectionWorks(index[k], live[k]->borrow());
  }
  // The two originals that were swapped out were never touched.
  ExpectConnectionWorks(3, saved3.borrow());
  ExpectConnectionWorks(7, saved7.borrow());
}

TEST_F(BatchTest, AnInvalidStateFailsAloneBeforeAnySocketExists) {
  std::vector<absl::StatusOr<ConnectionState>> states =
      CheckpointAndCloseMany(absl::MakeSpan(clients_), TwoThreads());
  std::vector<ConnectionState> ok;
  for (absl::StatusOr<ConnectionState>& s : states) {
    ASSERT_TRUE(s.ok()) << s.status();
    ok.push_back(*std::move(s));
  }
  ok[5].inq_len += 1;  // No longer matches its receive queue.
  const int fds_before = soccr::loopback::CountOpenFds();
  std::vector<absl::StatusOr<RestoredSocket>> restored =
      RestoreMany(ok, TwoThreads());
  ASSERT_EQ(restored.size(), kConnections);
  EXPECT_EQ(restored[5].status().code(), absl::StatusCode::kInvalidArgument)
      << restored[5].status();
  EXPECT_EQ(soccr::loopback::CountOpenFds(),
            fds_before + static_cast<int>(kConnections) - 1);
  for (size_t i = 0; i < kConnections; ++i) {
    if (i == 5) continue;
    ASSERT_TRUE(restored[i].ok()) << i << ": " << restored[i].status();
    // Paused: the restored socket holds the same state.
    ASSERT_OK_AND_ASSIGN(again, Checkpoint(restored[i]->paused()));
    EXPECT_EQ(again.inq_seq, ok[i].inq_seq);
    EXPECT_EQ(again.outq_seq, ok[i].outq_seq);
    EXPECT_EQ(again.recv_queue, ok[i].recv_queue);
    ASSERT_OK_AND_ASSIGN(fd, std::move(*restored[i]).Resume());
    ExpectConnectionWorks(i, fd.borrow());
  }
}

TEST_F(BatchTest, AKernelFailureIsReportedPerConnectionAndLeaksNothing) {
  std::vector<absl::StatusOr<ConnectionState>> states =
      CheckpointAndCloseMany(absl::MakeSpan(clients_), TwoThreads());
  std::vector<ConnectionState> ok;
  for (absl::StatusOr<ConnectionState>& s : states) {
    ASSERT_TRUE(s.ok()) << s.status();
    ok.push_back(*std::move(s));
  }
  sys::FaultInjectingSys failing;
  failing.FailOp(sys::Op::kConnect, EPERM);
  const int fds_before = soccr::loopback::CountOpenFds();
  std::vector<absl::StatusOr<OwnedFd>> live =
      RestoreAndResumeMany(ok, TwoThreads(), failing);
  ASSERT_EQ(live.size(), kConnections);
  for (size_t i = 0; i < kConnections; ++i) {
    EXPECT_EQ(live[i].status().code(), absl::StatusCode::kPermissionDenied)
        << live[i].status();
    EXPECT_NE(live[i].status().message().find("connect"), std::string::npos)
        << live[i].status();
  }
  EXPECT_EQ(soccr::loopback::CountOpenFds(), fds_before);

  // The states are intact: the same batch restores once the fault is gone.
  std::vector<absl::StatusOr<OwnedFd>> retry =
      RestoreAndResumeMany(ok, TwoThreads());
  for (size_t i = 0; i < kConnections; ++i) {
    ASSERT_TRUE(retry[i].ok()) << i << ": " << retry[i].status();
    ExpectConnectionWorks(i, retry[i]->borrow());
  }
}

TEST(BatchEmptyTest, NoConnectionsNoWork) {
  EXPECT_TRUE(CheckpointAndCloseMany({}).empty());
  EXPECT_TRUE(CheckpointMany({}).empty());
  EXPECT_TRUE(RestoreMany({}).empty());
  EXPECT_TRUE(RestoreAndResumeMany({}).empty());
}

TEST(BatchThreadsTest, ThreadCountFollowsOptionsAndWork) {
  BatchOptions o;
  o.threads = 4;
  o.min_per_thread = 10;
  EXPECT_EQ(BatchThreads(100, o), 4);
  EXPECT_EQ(BatchThreads(25, o), 2);
  EXPECT_EQ(BatchThreads(5, o), 1);
  EXPECT_EQ(BatchThreads(0, o), 1);
  o.threads = 0;  // One per usable CPU.
  EXPECT_GE(BatchThreads(1000000, o), 1);
}

}  // namespace
}  // namespace soccr
