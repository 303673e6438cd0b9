// How many kernel calls an idle connection costs, counted with CountingSys
// under the namespace's default sysctls, against libsoccr's (CRIU's
// soccr/soccr.c): a checkpoint is 12 calls there (TCP_REPAIR on, TCP_INFO,
// three queue ioctls, TCP_MAXSEG, TCP_TIMESTAMP, TCP_REPAIR_WINDOW, and
// TCP_REPAIR_QUEUE + TCP_QUEUE_SEQ per queue) plus getsockname and
// getpeername by the caller: 14. A restore is socket() plus 11 (TCP_REPAIR
// on, bind, TCP_REPAIR_QUEUE + TCP_QUEUE_SEQ per queue, connect,
// TCP_REPAIR_OPTIONS, TCP_TIMESTAMP, TCP_REPAIR_WINDOW, TCP_REPAIR off):
// 12.
//
// soccr saving the same state (no socket options) differs by two calls,
// each for something libsoccr gets wrong, and saves one:
// - Pause reads SO_REUSEADDR first: repair mode overwrites it (and leaving
//   repair mode clears it), so libsoccr loses it; soccr puts it back.
// - Restore sets TCP_MAXSEG before connect(): without it the kernel sizes
//   segments from the 536-byte default, and libsoccr's restored
//   connections start that way.
// - The checkpoint skips SIOCOUTQNSD when the send queue is empty.

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/sys/counting_sys.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/testing/netns.h"

namespace soccr {
namespace {

using ::soccr::sys::CountingSys;
using ::soccr::sys::FaultInjectingSys;
using ::soccr::sys::Op;

constexpr uint64_t kLibsoccrCheckpointCalls = 14;
constexpr uint64_t kLibsoccrRestoreCalls = 12;
constexpr uint64_t kPauseReuseAddrCall = 1;
constexpr uint64_t kRestoreMssCall = 1;
// TCP_MAXSEG back to 0 after connect(): the cap would outlive the restore
// (a socket disconnected and connected again would keep it).
constexpr uint64_t kClearMssCapCall = 1;
constexpr uint64_t kSkippedOutqNotSentCall = 1;
// TCP_ULP, TCP_AO_INFO and SO_COOKIE: what a restore cannot carry is
// refused (issue 11). The TCP-MD5 check then asks sock_diag over netlink,
// through the Sys: socket, send, recv (no bind: the kernel binds the
// socket on its first send; the close is the OwnedFd's, not counted).
constexpr uint64_t kRefusalChecks = 3;
constexpr uint64_t kMd5Question = 3;
// ... whose answer carries the tcp_info: no getsockopt(TCP_INFO).
constexpr uint64_t kTcpInfoFromSockDiag = 1;

class SyscallBudgetTest : public soccr::testing::NetnsTest {};

TEST_F(SyscallBudgetTest, IdleConnectionCostsWhatLibsoccrDoesPlusItsFixes) {
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(soccr::loopback::Family::kV4);
  ASSERT_TRUE(pair.ok()) << pair.status();
  CheckpointOptions libsoccr_state;
  libsoccr_state.socket_options = false;

  CountingSys checkpoint_calls;
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause(pair->client.borrow(), checkpoint_calls);
  ASSERT_TRUE(paused.ok()) << paused.status();
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused, libsoccr_state);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(checkpoint_calls.Count(Op::kPeek), 0u)
      << "empty queues are not read";
  EXPECT_EQ(checkpoint_calls.Count(Op::kGetOutqNotSent), 0u);
  EXPECT_EQ(checkpoint_calls.Count(Op::kBind), 0u)
      << "the netlink socket needs no bind()";
  EXPECT_EQ(checkpoint_calls.Count(Op::kGetTcpInfo), 0u)
      << "the state comes with the sock_diag answer";
  EXPECT_LE(checkpoint_calls.Total(),
            kLibsoccrCheckpointCalls + kPauseReuseAddrCall -
                kSkippedOutqNotSentCall + kRefusalChecks + kMd5Question -
                kTcpInfoFromSockDiag)
      << checkpoint_calls.ToString();
  std::move(*paused).LeaveInRepairMode();
  pair->client.reset();

  CountingSys restore_calls;
  absl::StatusOr<RestoredSocket> restored = Restore(*state, restore_calls);
  ASSERT_TRUE(restored.ok()) << restored.status();
  absl::StatusOr<OwnedFd> live = std::move(*restored).Resume();
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_EQ(restore_calls.Count(Op::kSocket), 1u);
  EXPECT_EQ(restore_calls.Count(Op::kSend), 0u)
      << "empty queues are not written";
  EXPECT_LE(restore_calls.Total(),
            kLibsoccrRestoreCalls + kRestoreMssCall + kClearMssCapCall)
      << restore_calls.ToString();
}

// Resumes `paused` and checks that `fd` has SO_REUSEADDR (set before the
// pause) again: leaving repair mode clears it, the resume sets it back.
void ExpectResumedWithReuseAddr(PausedSocket paused, BorrowedFd fd) {
  ASSERT_TRUE(std::move(paused).Resume().ok());
  int reuse = 0;
  socklen_t len = sizeof(reuse);
  ASSERT_EQ(getsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &reuse, &len), 0);
  EXPECT_EQ(reuse, 1);
}

// A migration reads the socket options before its downtime
// (ReadSocketOptions); the checkpoint inside it then reads only the buffer
// locks (SO_BUF_LOCK: the sizes come with the sock_diag answer the
// checkpoint takes anyway), and saves the same state.
TEST_F(SyscallBudgetTest, OptionsReadAheadLeaveTheCheckpointOnlyTheBuffers) {
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(soccr::loopback::Family::kV4);
  ASSERT_TRUE(pair.ok()) << pair.status();
  const BorrowedFd fd = pair->client.borrow();
  const int one = 1;
  ASSERT_EQ(setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
            0);
  ASSERT_EQ(setsockopt(fd.get(), SOL_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
  ASSERT_EQ(setsockopt(fd.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)),
            0);

  absl::StatusOr<std::vector<SocketOption>> ahead = ReadSocketOptions(fd);
  ASSERT_TRUE(ahead.ok()) << ahead.status();

  CheckpointOptions plain;
  plain.socket_options = false;
  CountingSys plain_calls;
  uint64_t plain_total = 0;
  {
    absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd, plain_calls);
    ASSERT_TRUE(paused.ok()) << paused.status();
    absl::StatusOr<ConnectionState> without = Checkpoint(*paused, plain);
    ASSERT_TRUE(without.ok()) << without.status();
    plain_total = plain_calls.Total();  // before the resume's calls
  }
  absl::StatusOr<ConnectionState> full;
  {
    absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd);
    ASSERT_TRUE(paused.ok()) << paused.status();
    full = Checkpoint(*paused);
    ASSERT_TRUE(full.ok()) << full.status();
  }
  CheckpointOptions read_ahead;
  read_ahead.socket_options_read_ahead = &*ahead;
  CountingSys calls;
  absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd, calls);
  ASSERT_TRUE(paused.ok()) << paused.status();
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused, read_ahead);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(calls.Total(), plain_total + 1) << calls.ToString();
  EXPECT_EQ(state->buffers, full->buffers);
  EXPECT_EQ(state->socket_options, full->socket_options);
  EXPECT_EQ(state->buffers, full->buffers);
  const std::string nodelay(reinterpret_cast<const char*>(&one), sizeof(one));
  EXPECT_NE(
      std::find(state->socket_options.begin(), state->socket_options.end(),
                SocketOption{SOL_TCP, TCP_NODELAY, nodelay}),
      state->socket_options.end());
  ExpectResumedWithReuseAddr(std::move(*paused), fd);
}

// Everything a stopped owner's socket lets a migration read before its
// downtime (ReadAhead: options, addresses, SO_REUSEADDR, buffer locks):
// the pause then only enters repair mode, the checkpoint reads neither
// address nor SO_BUF_LOCK, and the state is the one a full checkpoint
// saves.
TEST_F(SyscallBudgetTest, ReadAheadLeavesThePauseOneCallAndNoAddresses) {
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(soccr::loopback::Family::kV4);
  ASSERT_TRUE(pair.ok()) << pair.status();
  const BorrowedFd fd = pair->client.borrow();
  const int one = 1;
  ASSERT_EQ(setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
            0);
  const int sndbuf = 65536;
  ASSERT_EQ(
      setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);

  absl::StatusOr<ReadAheadState> ahead = ReadAhead(fd);
  ASSERT_TRUE(ahead.ok()) << ahead.status();
  EXPECT_EQ(ahead->reuse_addr, 1);

  absl::StatusOr<ConnectionState> full;
  CountingSys full_calls;
  {
    absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd, full_calls);
    ASSERT_TRUE(paused.ok()) << paused.status();
    full = Checkpoint(*paused);
    ASSERT_TRUE(full.ok()) << full.status();
  }
  // As a migration checkpoints: CheckCarriable() ran before (its
  // getpeername() and sock_diag question are not in the count).
  CheckpointOptions options_ahead;
  options_ahead.check_carriable = false;
  options_ahead.socket_options_read_ahead = &ahead->socket_options;
  CountingSys options_calls;
  uint64_t options_total = 0;
  {
    absl::StatusOr<PausedSocket> paused =
        PausedSocket::Pause(fd, options_calls);
    ASSERT_TRUE(paused.ok()) << paused.status();
    ASSERT_TRUE(Checkpoint(*paused, options_ahead).ok());
    options_total = options_calls.Total();  // before the resume's calls
  }
  {
    // With the carriable checks too (their sock_diag question takes the
    // local address read ahead).
    CheckpointOptions checked;
    checked.read_ahead = &*ahead;
    absl::StatusOr<PausedSocket> paused =
        PausedSocket::Pause(fd, ahead->reuse_addr);
    ASSERT_TRUE(paused.ok()) << paused.status();
    absl::StatusOr<ConnectionState> state = Checkpoint(*paused, checked);
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->local, full->local);
    EXPECT_EQ(state->peer, full->peer);
  }
  CheckpointOptions all_ahead;
  all_ahead.check_carriable = false;
  all_ahead.read_ahead = &*ahead;
  CountingSys calls;
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause(fd, ahead->reuse_addr, calls);
  ASSERT_TRUE(paused.ok()) << paused.status();
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused, all_ahead);
  ASSERT_TRUE(state.ok()) << state.status();
  // SO_REUSEADDR in the pause, getsockname, getpeername, SO_BUF_LOCK and
  // sock_diag's SO_COOKIE.
  EXPECT_EQ(calls.Total(), options_total - 5) << calls.ToString();
  EXPECT_EQ(calls.Count(Op::kGetSockName), 0u);
  EXPECT_EQ(calls.Count(Op::kGetPeerName), 0u);
  // (The sequence numbers, window and timestamp are the same too, but the
  // timestamp clock runs between the two checkpoints.)
  EXPECT_EQ(state->local, full->local);
  EXPECT_EQ(state->peer, full->peer);
  EXPECT_EQ(state->socket_options, full->socket_options);
  EXPECT_EQ(state->buffers, full->buffers);
  EXPECT_EQ(state->options, full->options);
  EXPECT_EQ(state->outq_seq, full->outq_seq);
  EXPECT_EQ(state->inq_seq, full->inq_seq);
  EXPECT_TRUE(state->buffers->sndbuf_locked);
  ExpectResumedWithReuseAddr(std::move(*paused), fd);
}

// Addresses read ahead of a connection that a reset closes before its
// checkpoint are not taken: the kernel may have freed its port (a closed
// socket is unhashed), so the checkpoint reads what the kernel has then,
// as one without anything read ahead does.
TEST_F(SyscallBudgetTest, ReadAheadOfAConnectionResetSinceIsReadAgain) {
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(soccr::loopback::Family::kV4);
  ASSERT_TRUE(pair.ok()) << pair.status();
  const BorrowedFd fd = pair->client.borrow();
  absl::StatusOr<ReadAheadState> ahead = ReadAhead(fd);
  ASSERT_TRUE(ahead.ok()) << ahead.status();
  const struct linger abort_close = {1, 0};
  ASSERT_EQ(setsockopt(pair->server.get(), SOL_SOCKET, SO_LINGER, &abort_close,
                       sizeof(abort_close)),
            0);
  pair->server.reset();  // a reset to the client
  absl::SleepFor(absl::Milliseconds(50));

  absl::StatusOr<ConnectionState> plain;
  {
    absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd);
    ASSERT_TRUE(paused.ok()) << paused.status();
    plain = Checkpoint(*paused);
  }
  CheckpointOptions all_ahead;
  all_ahead.read_ahead = &*ahead;
  CountingSys calls;
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause(fd, ahead->reuse_addr, calls);
  ASSERT_TRUE(paused.ok()) << paused.status();
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused, all_ahead);
  EXPECT_EQ(calls.Count(Op::kGetSockName), 1u) << calls.ToString();
  ASSERT_EQ(state.ok(), plain.ok()) << state.status() << plain.status();
  if (state.ok()) {
    EXPECT_EQ(state->state, TcpState::kClose);
    EXPECT_EQ(state->local, plain->local);
    EXPECT_EQ(state->peer, plain->peer);
  } else {
    EXPECT_EQ(state.status(), plain.status());
  }
}

// A destination whose address comes after the restore (a migration's):
// bind() finds it not local and the restore retries with IP_FREEBIND and
// IP_TRANSPARENT, four more calls. AllowNonlocalBind on a fresh socket
// made ahead leaves the restore one bind(), and the socket ends the same.
TEST_F(SyscallBudgetTest, NonlocalBindAllowedAheadLeavesTheRestoreOneBind) {
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(soccr::loopback::Family::kV4);
  ASSERT_TRUE(pair.ok()) << pair.status();
  absl::StatusOr<ConnectionState> state;
  {
    absl::StatusOr<PausedSocket> paused =
        PausedSocket::Pause(pair->client.borrow());
    ASSERT_TRUE(paused.ok()) << paused.status();
    state = Checkpoint(*paused);
    ASSERT_TRUE(state.ok()) << state.status();
    std::move(*paused).LeaveInRepairMode();
  }
  pair->client.reset();
  // 192.0.2.10 (documentation range): on no interface of this namespace.
  state->local = SocketAddress::V4(0xC000020A, state->local.port());

  auto flags = [](BorrowedFd fd) {
    int transparent = -1, freebind = -1;
    socklen_t len = sizeof(int);
    EXPECT_EQ(getsockopt(fd.get(), SOL_IP, IP_TRANSPARENT, &transparent, &len),
              0);
    len = sizeof(int);
    EXPECT_EQ(getsockopt(fd.get(), SOL_IP, IP_FREEBIND, &freebind, &len), 0);
    return std::make_pair(transparent, freebind);
  };
  CountingSys plain_calls;
  std::pair<int, int> plain_flags;
  {
    absl::StatusOr<RestoredSocket> r = Restore(*state, plain_calls);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(plain_calls.Count(Op::kBind), 2u) << plain_calls.ToString();
    plain_flags = flags(r->fd());
  }  // closed in repair mode: nothing sent
  absl::StatusOr<FreshSocket> fresh = MakeFreshSocket(AF_INET);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_TRUE(AllowNonlocalBind(*fresh).ok());
  CountingSys calls;
  absl::StatusOr<RestoredSocket> r = Restore(*std::move(fresh), *state, calls);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(calls.Count(Op::kBind), 1u) << calls.ToString();
  EXPECT_EQ(calls.Total() + 4 + 2, plain_calls.Total())
      << "socket() and TCP_REPAIR were made ahead; " << calls.ToString()
      << " against " << plain_calls.ToString();
  EXPECT_EQ(flags(r->fd()), plain_flags);
  EXPECT_EQ(plain_flags, std::make_pair(1, 0));
}

TEST_F(SyscallBudgetTest, CountsEveryCallOfAnOperation) {
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(soccr::loopback::Family::kV4);
  ASSERT_TRUE(pair.ok()) << pair.status();
  const std::string data = soccr::loopback::Pattern(100000, 5);
  ASSERT_TRUE(soccr::loopback::WriteAll(pair->server.borrow(), data).ok());
  ASSERT_TRUE(
      soccr::loopback::WaitInq(pair->client.borrow(), data.size()).ok());

  CountingSys calls;
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause(pair->client.borrow(), calls);
  ASSERT_TRUE(paused.ok()) << paused.status();
  // SO_REUSEADDR (which repair mode overwrites), then TCP_REPAIR on.
  EXPECT_EQ(calls.Count(Op::kGetSockOpt), 1u);
  EXPECT_EQ(calls.Count(Op::kSetRepair), 1u);
  EXPECT_EQ(calls.Total(), 2u);
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(calls.Count(Op::kPeek), 1u) << "one peek reads the whole queue";
  EXPECT_EQ(calls.Count(Op::kSetRepairQueue), 2u);
  EXPECT_EQ(calls.Count(Op::kGetQueueSeq), 2u);
  EXPECT_NE(calls.ToString().find("recv(MSG_PEEK) 1"), std::string::npos)
      << calls.ToString();
  calls.Reset();
  EXPECT_EQ(calls.Total(), 0u);
  ASSERT_TRUE(std::move(*paused).Resume().ok());
  EXPECT_EQ(calls.Count(Op::kSetRepair), 1u);
}

// How many times a checkpoint reads SO_PEEK_OFF (getsockopt level
// SOL_SOCKET, name SO_PEEK_OFF) through `sys`.
size_t PeekOffsetReads(const FaultInjectingSys& sys) {
  size_t n = 0;
  for (const FaultInjectingSys::Call& c : sys.calls()) {
    if (c.op == Op::kGetSockOpt && c.level == SOL_SOCKET &&
        c.name == SO_PEEK_OFF) {
      ++n;
    }
  }
  return n;
}

// The SO_PEEK_OFF a state holds: -1 (off) when the table left it out.
int SavedPeekOffset(const std::vector<SocketOption>& options) {
  for (const SocketOption& o : options) {
    if (o.level == SOL_SOCKET && o.name == SO_PEEK_OFF &&
        o.value.size() == sizeof(int)) {
      int v = 0;
      memcpy(&v, o.value.data(), sizeof(v));
      return v;
    }
  }
  return -1;
}

// SO_PEEK_OFF is read once per checkpoint: the receive queue's walk needs
// it and the option table takes the value it read; with the options read
// ahead, not at all. The saved value is the application's own either way.
TEST_F(SyscallBudgetTest, PeekOffsetIsReadOnce) {
  for (const int app_offset : {-1, 0, 2}) {
    SCOPED_TRACE(app_offset);
    absl::StatusOr<soccr::loopback::TcpPair> pair =
        soccr::loopback::ConnectedPair(soccr::loopback::Family::kV4);
    ASSERT_TRUE(pair.ok()) << pair.status();
    const BorrowedFd fd = pair->client.borrow();
    ASSERT_TRUE(
        soccr::loopback::WriteAll(pair->server.borrow(), "queued").ok());
    ASSERT_TRUE(soccr::loopback::WaitInq(fd, 6).ok());
    if (app_offset >= 0) {
      ASSERT_EQ(setsockopt(fd.get(), SOL_SOCKET, SO_PEEK_OFF, &app_offset,
                           sizeof(app_offset)),
                0)
          << strerror(errno);
    }
    absl::StatusOr<ReadAheadState> ahead = ReadAhead(fd);
    ASSERT_TRUE(ahead.ok()) << ahead.status();
    CheckpointOptions plain;
    CheckpointOptions all_ahead;
    all_ahead.check_carriable = false;
    all_ahead.read_ahead = &*ahead;
    for (const CheckpointOptions* options : {&plain, &all_ahead}) {
      FaultInjectingSys sys;
      absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd, sys);
      ASSERT_TRUE(paused.ok()) << paused.status();
      absl::StatusOr<ConnectionState> state = Checkpoint(*paused, *options);
      ASSERT_TRUE(state.ok()) << state.status();
      EXPECT_EQ(PeekOffsetReads(sys), options == &plain ? 1u : 0u);
      EXPECT_EQ(state->recv_queue,
                QueueBytes::Copy(absl::string_view("queued")));
      EXPECT_EQ(SavedPeekOffset(state->socket_options), app_offset);
      ASSERT_TRUE(std::move(*paused).Resume().ok());
      int now = -2;
      socklen_t len = sizeof(now);
      ASSERT_EQ(getsockopt(fd.get(), SOL_SOCKET, SO_PEEK_OFF, &now, &len), 0);
      EXPECT_EQ(now, app_offset) << "the application's offset is put back";
    }
  }
}

}  // namespace
}  // namespace soccr
