// End-to-end checkpoint and restore of live connections, in a private
// network namespace per test. Every byte is checked on both sides.

#include <errno.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/socket_info.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::loopback::ConnectedPair;
using ::soccr::loopback::Family;
using ::soccr::loopback::Pattern;
using ::soccr::loopback::ReadExactly;
using ::soccr::loopback::TcpPair;
using ::soccr::loopback::WriteAll;
using ::soccr::testing::GetIntOpt;
using ::soccr::testing::TcpInfo;
using ::testing::HasSubstr;

// Checkpoints the connection on `fd` and closes it silently.
absl::StatusOr<ConnectionState> CheckpointAndClose(
    OwnedFd fd, CheckpointOptions options = {}) {
  absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd.borrow());
  if (!paused.ok()) return paused.status();
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused, options);
  if (!state.ok()) return state.status();
  std::move(*paused).LeaveInRepairMode();
  fd.reset();  // In repair mode: nothing reaches the peer.
  return state;
}

absl::StatusOr<OwnedFd> RestoreAndResume(const ConnectionState& state) {
  absl::StatusOr<RestoredSocket> restored = Restore(state);
  if (!restored.ok()) return restored.status();
  return std::move(*restored).Resume();
}

// Sends `data` from `from` to `to`, reading as it goes (so that any amount
// fits through), and checks every byte.
void ExpectDelivered(BorrowedFd from, BorrowedFd to, const std::string& data) {
  std::string got;
  size_t sent = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (got.size() < data.size()) {
    ASSERT_LT(absl::Now(), deadline)
        << got.size() << " of " << data.size() << " bytes delivered";
    if (sent < data.size()) {
      ASSERT_OK_AND_ASSIGN(n, soccr::loopback::WriteSome(
                                  from, absl::string_view(data).substr(sent)));
      sent += n;
    }
    ASSERT_OK_AND_ASSIGN(chunk, soccr::loopback::ReadAvailable(to, 1 << 20));
    if (chunk.empty()) absl::SleepFor(absl::Microseconds(100));
    got += chunk;
  }
  EXPECT_TRUE(got == data) << "bytes differ";
}

// Both directions: `n` new bytes each way, checked.
void ExpectTrafficBothWays(BorrowedFd a, BorrowedFd b, size_t n,
                           uint64_t seed) {
  ExpectDelivered(a, b, Pattern(n, seed));
  ExpectDelivered(b, a, Pattern(n, seed + 1));
}

class CheckpointRestoreTest : public soccr::testing::NetnsTest,
                              public ::testing::WithParamInterface<Family> {};

INSTANTIATE_TEST_SUITE_P(Families, CheckpointRestoreTest,
                         ::testing::Values(Family::kV4, Family::kV6,
                                           Family::kMapped),
                         [](const ::testing::TestParamInfo<Family>& info) {
                           return soccr::loopback::FamilyName(info.param);
                         });

TEST_P(CheckpointRestoreTest, EmptyQueues) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam()));
  ExpectTrafficBothWays(pair.client.borrow(), pair.server.borrow(), 1000, 1);
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.server.borrow()));
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.client.borrow()));
  const struct tcp_info before = TcpInfo(pair.client.borrow());

  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  EXPECT_EQ(state.state, TcpState::kEstablished);
  EXPECT_EQ(state.inq_len, 0u);
  EXPECT_EQ(state.outq_len, 0u);
  EXPECT_TRUE(state.window.has_value());
  EXPECT_EQ(state.local.is_v4_mapped(), GetParam() == Family::kMapped);

  ASSERT_OK_AND_ASSIGN(client, RestoreAndResume(state));
  const struct tcp_info after = TcpInfo(client.borrow());
  EXPECT_EQ(after.tcpi_state, before.tcpi_state);
  EXPECT_EQ(after.tcpi_options & 7, before.tcpi_options & 7);
  EXPECT_EQ(after.tcpi_snd_wscale, before.tcpi_snd_wscale);
  EXPECT_EQ(after.tcpi_rcv_wscale, before.tcpi_rcv_wscale);
  ExpectTrafficBothWays(client.borrow(), pair.server.borrow(), 100000, 2);
}

TEST_P(CheckpointRestoreTest, DataInBothQueues) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam()));
  // 100 KB from the server sit unread in the client's receive queue.
  const std::string to_client = Pattern(100000, 10);
  ASSERT_OK(WriteAll(pair.server.borrow(), to_client));
  ASSERT_OK(soccr::loopback::WaitInq(pair.client.borrow(), to_client.size()));
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.server.borrow()));
  // The server reads nothing, so the client's writes fill the server's
  // receive queue and then stay in the client's send queue, unsent.
  const std::string to_server = Pattern(8 << 20, 11);
  ASSERT_OK_AND_ASSIGN(
      written, soccr::loopback::WriteSome(pair.client.borrow(), to_server));
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.client.borrow()));
  const int client_outq = soccr::loopback::OutqLen(pair.client.borrow());
  ASSERT_GT(client_outq, 0) << "nothing stayed in the send queue";
  const int server_inq = soccr::loopback::InqLen(pair.server.borrow());
  ASSERT_EQ(static_cast<size_t>(server_inq + client_outq), written);

  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  EXPECT_EQ(state.inq_len, to_client.size());
  EXPECT_TRUE(state.recv_queue.view() == to_client);
  EXPECT_EQ(state.outq_len, static_cast<uint32_t>(client_outq));
  EXPECT_EQ(state.unsent_len, state.outq_len);
  EXPECT_TRUE(state.send_queue.view() ==
              absl::string_view(to_server).substr(server_inq, client_outq));

  ASSERT_OK_AND_ASSIGN(restored, Restore(state));
  // Before the resume, the unsent bytes are held back: the kernel has none.
  EXPECT_EQ(soccr::loopback::OutqLen(restored.fd()), 0);
  EXPECT_EQ(soccr::loopback::InqLen(restored.fd()),
            static_cast<int>(to_client.size()));
  ASSERT_OK_AND_ASSIGN(client, std::move(restored).Resume());
  // The buffers the restore raised for the queues are unlocked again: the
  // original's autotuned.
#ifndef SO_BUF_LOCK
  constexpr int SO_BUF_LOCK = 72;
#endif
  EXPECT_EQ(GetIntOpt(client.borrow(), SOL_SOCKET, SO_BUF_LOCK), 0);

  ASSERT_OK_AND_ASSIGN(server_got, ReadExactly(pair.server.borrow(), written));
  EXPECT_TRUE(server_got == to_server.substr(0, written))
      << "server bytes differ";
  ASSERT_OK_AND_ASSIGN(client_got,
                       ReadExactly(client.borrow(), to_client.size()));
  EXPECT_TRUE(client_got == to_client) << "client bytes differ";
  ExpectTrafficBothWays(client.borrow(), pair.server.borrow(), 300000, 12);
}

// A caller that sizes the send buffer between the restore and the resume,
// far below the unsent data (CRIU sets the sizes it saved there): the data
// still goes out, and the size and its lock stay the caller's.
TEST_P(CheckpointRestoreTest, CallerShrinksSendBufferBeforeResume) {
#ifndef SO_BUF_LOCK
  constexpr int SO_BUF_LOCK = 72;
#endif
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam()));
  const std::string to_server = Pattern(8 << 20, 13);
  ASSERT_OK_AND_ASSIGN(
      written, soccr::loopback::WriteSome(pair.client.borrow(), to_server));
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.client.borrow()));
  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  ASSERT_GT(state.unsent_len, 256u << 10);

  ASSERT_OK_AND_ASSIGN(restored, Restore(state));
  const int one = 1;
  ASSERT_EQ(::setsockopt(restored.fd().get(), SOL_SOCKET, SO_SNDBUF, &one,
                         sizeof(one)),
            0);
  const int callers = GetIntOpt(restored.fd(), SOL_SOCKET, SO_SNDBUF);
  ASSERT_LT(static_cast<uint32_t>(callers), state.unsent_len);
  ASSERT_OK_AND_ASSIGN(client, std::move(restored).Resume());
  EXPECT_EQ(GetIntOpt(client.borrow(), SOL_SOCKET, SO_SNDBUF), callers);
  EXPECT_EQ(GetIntOpt(client.borrow(), SOL_SOCKET, SO_BUF_LOCK) & 1, 1);

  ASSERT_OK_AND_ASSIGN(server_got, ReadExactly(pair.server.borrow(), written));
  EXPECT_TRUE(server_got == to_server.substr(0, written))
      << "server bytes differ";
  ExpectTrafficBothWays(client.borrow(), pair.server.borrow(), 300000, 14);
  EXPECT_EQ(GetIntOpt(client.borrow(), SOL_SOCKET, SO_SNDBUF), callers);
}

TEST_P(CheckpointRestoreTest, SentButUnacknowledgedData) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam()));
  // The server drops every packet: what the client sends stays in flight.
  ASSERT_OK(soccr::loopback::DropIncoming(pair.server.borrow()));
  const std::string data = Pattern(20000, 20);
  ASSERT_OK(WriteAll(pair.client.borrow(), data));
  absl::SleepFor(absl::Milliseconds(50));
  const int in_flight = soccr::loopback::OutqLen(pair.client.borrow()) -
                        soccr::loopback::UnsentLen(pair.client.borrow());
  ASSERT_GT(in_flight, 0);

  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  EXPECT_EQ(state.outq_len, data.size());
  EXPECT_EQ(state.outq_len - state.unsent_len,
            static_cast<uint32_t>(in_flight));
  EXPECT_TRUE(state.send_queue.view() == data);

  ASSERT_OK_AND_ASSIGN(client, RestoreAndResume(state));
  ASSERT_OK(soccr::loopback::AcceptIncoming(pair.server.borrow()));
  // The restored socket retransmits what was in flight.
  ASSERT_OK_AND_ASSIGN(got, ReadExactly(pair.server.borrow(), data.size()));
  EXPECT_TRUE(got == data);
  ExpectTrafficBothWays(client.borrow(), pair.server.borrow(), 5000, 21);
}

TEST_P(CheckpointRestoreTest, RestoresWindowAndOptionsExactly) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam()));
  ExpectTrafficBothWays(pair.client.borrow(), pair.server.borrow(), 200000, 30);
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.server.borrow()));
  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  ASSERT_TRUE(state.window.has_value());

  ASSERT_OK_AND_ASSIGN(restored, Restore(state));
  ASSERT_OK_AND_ASSIGN(again, Checkpoint(restored.paused()));
  EXPECT_EQ(again.window, state.window);
  EXPECT_EQ(again.options, state.options);
  EXPECT_EQ(again.inq_seq, state.inq_seq);
  EXPECT_EQ(again.outq_seq, state.outq_seq);
  EXPECT_EQ(again.local, state.local);
  EXPECT_EQ(again.peer, state.peer);
  // The timestamp clock carries on from where it was: not back (in the
  // sequence-space sense, the kernel's own comparison of timestamps) ...
  EXPECT_GE(static_cast<int32_t>(again.timestamp - state.timestamp), 0);
  // ... and not far ahead.
  EXPECT_LT(again.timestamp - state.timestamp, 60000u);
  ASSERT_OK_AND_ASSIGN(client, std::move(restored).Resume());
  ExpectTrafficBothWays(client.borrow(), pair.server.borrow(), 1000, 31);
}

TEST_P(CheckpointRestoreTest, SocketOptionsCarryOver) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam()));
  const BorrowedFd c = pair.client.borrow();
  const int one = 1, idle = 77, lowat = 12345, sndbuf = 100000;
  ASSERT_EQ(::setsockopt(c.get(), SOL_TCP, TCP_NODELAY, &one, 4), 0);
  ASSERT_EQ(::setsockopt(c.get(), SOL_SOCKET, SO_KEEPALIVE, &one, 4), 0);
  ASSERT_EQ(::setsockopt(c.get(), SOL_TCP, TCP_KEEPIDLE, &idle, 4), 0);
  ASSERT_EQ(::setsockopt(c.get(), SOL_TCP, TCP_NOTSENT_LOWAT, &lowat, 4), 0);
  ASSERT_EQ(::setsockopt(c.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, 4), 0);
  const int sndbuf_before = GetIntOpt(c, SOL_SOCKET, SO_SNDBUF);

  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  ASSERT_TRUE(state.buffers.has_value());
  EXPECT_TRUE(state.buffers->sndbuf_locked);
  EXPECT_FALSE(state.buffers->rcvbuf_locked);
  ASSERT_OK_AND_ASSIGN(client, RestoreAndResume(state));
  const BorrowedFd r = client.borrow();
  EXPECT_EQ(GetIntOpt(r, SOL_TCP, TCP_NODELAY), 1);
  EXPECT_EQ(GetIntOpt(r, SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(GetIntOpt(r, SOL_TCP, TCP_KEEPIDLE), 77);
  EXPECT_EQ(GetIntOpt(r, SOL_TCP, TCP_NOTSENT_LOWAT), 12345);
  EXPECT_EQ(GetIntOpt(r, SOL_SOCKET, SO_SNDBUF), sndbuf_before);
  // bind() to a specific non-mapped IPv6 address turns IPV6_V6ONLY on by
  // itself; a mapped connection must keep it off.
  if (GetParam() == Family::kMapped) {
    EXPECT_EQ(GetIntOpt(r, SOL_IPV6, IPV6_V6ONLY), 0);
  }
  ExpectTrafficBothWays(client.borrow(), pair.server.borrow(), 1000, 40);
}

// 64 MiB in each queue, with default buffers on the restoring side except
// what the namespace's tcp_rmem/tcp_wmem give every new socket.
TEST_P(CheckpointRestoreTest, SixtyFourMebibytesEachWay) {
  constexpr size_t kSize = 64 << 20;
  ASSERT_OK(soccr::loopback::RaiseTcpBuffers(160 << 20, 256 << 20));
  // A small server receive buffer keeps the client's data in its send queue.
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam(), 0, 64 << 10));
  const std::string to_client = Pattern(kSize, 50);
  const std::string to_server = Pattern(kSize + (16 << 20), 51);
  // Fill the client's receive queue with 64 MiB.
  ASSERT_OK(WriteAll(pair.server.borrow(), to_client, absl::Seconds(60)));
  ASSERT_OK(soccr::loopback::WaitInq(pair.client.borrow(), kSize));
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.server.borrow()));
  // Fill the server's receive queue, and 64 MiB or more of the client's send
  // queue behind it.
  ASSERT_OK_AND_ASSIGN(
      written, soccr::loopback::WriteSome(pair.client.borrow(), to_server));
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.client.borrow()));
  const int client_outq = soccr::loopback::OutqLen(pair.client.borrow());
  ASSERT_GE(client_outq, static_cast<int>(kSize));

  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  EXPECT_EQ(state.inq_len, kSize);
  EXPECT_EQ(state.outq_len, static_cast<uint32_t>(client_outq));
  ASSERT_OK_AND_ASSIGN(client, RestoreAndResume(state));

  // The server reads what the client wrote, the client what the server did.
  ASSERT_OK_AND_ASSIGN(server_got, ReadExactly(pair.server.borrow(), written,
                                               absl::Seconds(60)));
  EXPECT_TRUE(server_got == to_server.substr(0, written))
      << "server bytes differ";
  ASSERT_OK_AND_ASSIGN(client_got,
                       ReadExactly(client.borrow(), kSize, absl::Seconds(60)));
  EXPECT_TRUE(client_got == to_client) << "client bytes differ";
}

TEST_P(CheckpointRestoreTest, RestoresInAnotherProcess) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam()));
  const std::string to_client = Pattern(50000, 60);
  ASSERT_OK(WriteAll(pair.server.borrow(), to_client));
  ASSERT_OK(soccr::loopback::WaitInq(pair.client.borrow(), to_client.size()));
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.server.borrow()));
  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The restoring process: nothing but the state value crosses over.
    pair.server.reset();
    absl::StatusOr<OwnedFd> fd = RestoreAndResume(state);
    if (!fd.ok()) _exit(10);
    absl::StatusOr<std::string> got =
        ReadExactly(fd->borrow(), to_client.size());
    if (!got.ok() || *got != to_client) _exit(11);
    if (!WriteAll(fd->borrow(), Pattern(70000, 61)).ok()) _exit(12);
    if (!soccr::loopback::ExpectEof(fd->borrow()).ok()) _exit(13);
    _exit(0);
  }
  ASSERT_OK_AND_ASSIGN(got, ReadExactly(pair.server.borrow(), 70000));
  EXPECT_TRUE(got == Pattern(70000, 61));
  ASSERT_EQ(::shutdown(pair.server.get(), SHUT_WR), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// The restored socket sends full-sized segments at once: TCP_MAXSEG before
// connect() gives the kernel the MSS when it sizes segments.
class MssTest : public soccr::testing::NetnsTest,
                public ::testing::WithParamInterface<int> {};

INSTANTIATE_TEST_SUITE_P(Mtus, MssTest, ::testing::Values(1500, 9000, 65536));

TEST_P(MssTest, RestoredMssMatchesOriginal) {
  const int mtu = GetParam();
  if (mtu != 65536) ASSERT_OK(soccr::loopback::SetLoopbackMtu(mtu));
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
  ExpectTrafficBothWays(pair.client.borrow(), pair.server.borrow(), 4 << 20,
                        70);
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.server.borrow()));
  const uint32_t original = TcpInfo(pair.client.borrow()).tcpi_snd_mss;
  const uint32_t original_advmss = TcpInfo(pair.client.borrow()).tcpi_advmss;
  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  ASSERT_TRUE(state.options.timestamps);
  ASSERT_OK_AND_ASSIGN(client, RestoreAndResume(state));
  const uint32_t restored = TcpInfo(client.borrow()).tcpi_snd_mss;
  // The MSS the socket advertises is fixed by connect() and never changes
  // after it: the route's (MTU less the IP and TCP headers) capped by the
  // TCP_MAXSEG set before it, which accepts at most 32767. A handshake
  // takes the 12 bytes of the timestamp option off it; a repair-mode
  // connect() does not. So the restored socket advertises 12 bytes more
  // than the original (1460 against 1448 at MTU 1500), and 32767 where the
  // original had 65483. It bounds only receive-side estimates (rcv_mss,
  // the receive buffer's autotuning): 1 GiB each way went as fast over the
  // restored socket as over a fresh one (docs/tcp-states.md).
  EXPECT_EQ(TcpInfo(client.borrow()).tcpi_advmss,
            std::min<uint32_t>(original_advmss + 12, 32767))
      << "mtu " << mtu;
  // TCP_MAXSEG accepts at most 32767, less the 12 bytes of the timestamp
  // option; on a 65536-byte loopback the original runs at 65483.
  const uint32_t limit = 32767 - 12;
  EXPECT_EQ(restored, std::min(original, limit))
      << "mtu " << mtu << ": original " << original;
  // Beyond that limit the kernel brings it back when it next recomputes the
  // MSS (tcp_sync_mss) from the path MTU and the restored MSS option: when
  // the peer offers a window beyond the largest it had (tcp_ack_update_
  // window), as here once it reads. Until then a 65536-byte loopback sends
  // 32755-byte segments, which costs nothing there: loopback passes a
  // whole GSO packet on unsegmented (docs/tcp-states.md).
  ExpectTrafficBothWays(client.borrow(), pair.server.borrow(), 16384, 71);
  EXPECT_EQ(TcpInfo(client.borrow()).tcpi_snd_mss, original) << "mtu " << mtu;
  EXPECT_EQ(TcpInfo(client.borrow()).tcpi_advmss,
            std::min<uint32_t>(original_advmss + 12, 32767))
      << "mtu " << mtu;
}

// struct tcp_info's tcpi_snd_wnd (Linux 5.4; the struct only grows, and
// glibc's <netinet/tcp.h> stops before it): the window the peer offers,
// descaled.
uint32_t PeerWindowSeenBy(BorrowedFd fd) {
  uint8_t info[512] = {};
  socklen_t len = sizeof(info);
  constexpr size_t kSndWndOffset = 228;
  if (::getsockopt(fd.get(), SOL_TCP, TCP_INFO, info, &len) != 0 ||
      len < kSndWndOffset + sizeof(uint32_t)) {
    return 0;
  }
  uint32_t w = 0;
  memcpy(&w, info + kSndWndOffset, sizeof(w));
  return w;
}

// A connection made without window scaling (its peer offered none),
// restored where window scaling is on, as a fresh namespace has it: the
// restored socket must offer its windows unscaled, as the original did. The
// kernel's connect() would otherwise pick a receive scale from this
// namespace's sysctls and buffers that TCP_REPAIR_OPTIONS leaves in place,
// and the peer would be offered a fraction of every window (1/1024 at a
// scale of 10).
class UnscaledWindowTest : public soccr::testing::NetnsTest,
                           public ::testing::WithParamInterface<Family> {};

INSTANTIATE_TEST_SUITE_P(Families, UnscaledWindowTest,
                         ::testing::Values(Family::kV4, Family::kV6,
                                           Family::kMapped));

TEST_P(UnscaledWindowTest, RestoredWhereScalingIsOnOffersTheSameWindow) {
  ASSERT_OK(soccr::loopback::SetSysctl("net/ipv4/tcp_window_scaling", "0"));
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam()));
  ASSERT_OK(soccr::loopback::SetSysctl("net/ipv4/tcp_window_scaling", "1"));
  // Enough both ways that the windows grow to what an unscaled field holds.
  ExpectTrafficBothWays(pair.client.borrow(), pair.server.borrow(), 1 << 20,
                        74);
  // The window field is 16 bits: the peer sees more than 32767 only from a
  // socket whose scale is 0 (a scale of 1 or more halves it at least).
  const uint32_t before = PeerWindowSeenBy(pair.server.borrow());
  ASSERT_GT(before, 32767u);
  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  ASSERT_FALSE(state.options.window_scaling);
  ASSERT_OK_AND_ASSIGN(client, RestoreAndResume(state));
  // Each way, so that the client's next segment carries its window.
  ExpectTrafficBothWays(client.borrow(), pair.server.borrow(), 256 << 10, 75);
  EXPECT_GT(PeerWindowSeenBy(pair.server.borrow()), 32767u)
      << "before the move: " << before;
  ASSERT_OK_AND_ASSIGN(again, CheckpointAndClose(std::move(client)));
  EXPECT_FALSE(again.options.window_scaling);
}

// A peer that offers a small window: the kernel keeps segments to half of
// it, and so must the restored socket, or it cannot send a full segment and
// crawls at the pace of zero-window probes.
TEST_P(MssTest, SmallPeerWindowKeepsSegmentsWithinHalfOfIt) {
  const int mtu = GetParam();
  if (mtu != 65536) ASSERT_OK(soccr::loopback::SetLoopbackMtu(mtu));
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4, 0, 8 << 10));
  // The server reads nothing yet: the client's stream waits, unsent.
  const std::string data = Pattern(4 << 20, 72);
  ASSERT_OK_AND_ASSIGN(n,
                       soccr::loopback::WriteSome(pair.client.borrow(), data));
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(pair.client.borrow()));
  const uint32_t original = TcpInfo(pair.client.borrow()).tcpi_snd_mss;
  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  ASSERT_TRUE(state.window.has_value());
  ASSERT_GT(state.unsent_len, 0u);
  ASSERT_OK_AND_ASSIGN(client, RestoreAndResume(state));
  const uint32_t restored = TcpInfo(client.borrow()).tcpi_snd_mss;
  EXPECT_LE(restored, state.window->max_window / 2);
  EXPECT_EQ(restored, original) << "mtu " << mtu;
  // All of it arrives, and the stream goes on.
  ExpectDelivered(client.borrow(), pair.server.borrow(), "");
  ASSERT_OK_AND_ASSIGN(got, ReadExactly(pair.server.borrow(), n));
  EXPECT_TRUE(got == data.substr(0, n));
  ExpectDelivered(client.borrow(), pair.server.borrow(), Pattern(1 << 20, 73));
}

// Many checkpoint/restore cycles of one live stream, at random points.
TEST_P(CheckpointRestoreTest, TwoHundredCyclesOfALiveStream) {
  // Buffers start at their maximum, so a restored socket (which cannot use
  // SO_RCVBUFFORCE in a user namespace) gets as much as the original had.
  ASSERT_OK(soccr::loopback::RaiseTcpBuffers(16 << 20, 16 << 20));
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam()));
  std::mt19937_64 rng(1234 + static_cast<int>(GetParam()));
  OwnedFd client = std::move(pair.client);
  const BorrowedFd server = pair.server.borrow();
  std::string sent_up, got_up, sent_down, got_down;
  uint64_t up_off = 0, down_off = 0;
  for (int cycle = 0; cycle < 200; ++cycle) {
    // A random mix of writes and partial reads in both directions, so the
    // checkpoint catches data in both queues, sent and unsent.
    const int steps = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < steps; ++i) {
      const size_t up = rng() % 200000, down = rng() % 200000;
      const std::string u = Pattern(up, 80, up_off);
      ASSERT_OK_AND_ASSIGN(nu, soccr::loopback::WriteSome(client.borrow(), u));
      sent_up += u.substr(0, nu);
      up_off += nu;
      const std::string d = Pattern(down, 81, down_off);
      ASSERT_OK_AND_ASSIGN(nd, soccr::loopback::WriteSome(server, d));
      sent_down += d.substr(0, nd);
      down_off += nd;
      ASSERT_OK_AND_ASSIGN(
          ru, soccr::loopback::ReadAvailable(server, rng() % 300000));
      got_up += ru;
      ASSERT_OK_AND_ASSIGN(
          rd, soccr::loopback::ReadAvailable(client.borrow(), rng() % 300000));
      got_down += rd;
    }
    // The server must not have packets in flight toward a closed port.
    ASSERT_OK(soccr::loopback::WaitNothingInFlight(server));
    ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(client)));
    ASSERT_OK_AND_ASSIGN(restored, RestoreAndResume(state));
    client = std::move(restored);
  }
  // Drain everything and compare.
  ASSERT_OK_AND_ASSIGN(rest_up,
                       ReadExactly(server, sent_up.size() - got_up.size()));
  got_up += rest_up;
  ASSERT_OK_AND_ASSIGN(
      rest_down,
      ReadExactly(client.borrow(), sent_down.size() - got_down.size()));
  got_down += rest_down;
  EXPECT_EQ(got_up.size(), sent_up.size());
  EXPECT_TRUE(got_up == sent_up) << "client->server stream differs";
  EXPECT_EQ(got_down.size(), sent_down.size());
  EXPECT_TRUE(got_down == sent_down) << "server->client stream differs";
  EXPECT_EQ(soccr::loopback::InqLen(server), 0);
}

TEST_P(CheckpointRestoreTest, RestoreBindsNextToAnotherSocketOnItsPort) {
  // TCP_REPAIR_ON makes SO_REUSEADDR read back as 2 (the kernel's
  // SK_FORCE_REUSE). Saved like that and set again before bind(), it turned
  // the restore's force-reuse into plain reuse, and bind() then failed
  // wherever another socket held the same local port (as two connections
  // to different peers may): about one batch restore in ten failed so.
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(GetParam()));
  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(pair.client)));
  for (const SocketOption& o : state.socket_options) {
    EXPECT_FALSE(o.level == SOL_SOCKET && o.name == SO_REUSEADDR)
        << SocketOptionToString(o);
  }
  // Another socket takes the freed port, without SO_REUSEADDR.
  OwnedFd squatter(
      ::socket(state.local.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(squatter);
  if (GetParam() == Family::kMapped) {
    const int zero = 0;
    ASSERT_EQ(::setsockopt(squatter.get(), SOL_IPV6, IPV6_V6ONLY, &zero,
                           sizeof(zero)),
              0);
  }
  ASSERT_EQ(
      ::bind(squatter.get(), state.local.sockaddr(), state.local.length()), 0)
      << strerror(errno);
  ASSERT_OK_AND_ASSIGN(client, RestoreAndResume(state));
  ExpectTrafficBothWays(client.borrow(), pair.server.borrow(), 10000, 93);
}

class ErrorsTest : public soccr::testing::NetnsTest {};

TEST_F(ErrorsTest, PauseRejectsWhatIsNotATcpSocket) {
  OwnedFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  absl::StatusOr<PausedSocket> p = PausedSocket::Pause(udp.borrow());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("not a TCP socket"));

  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  OwnedFd r(pipefd[0]), w(pipefd[1]);
  p = PausedSocket::Pause(r.borrow());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ErrorsTest, DroppedPausedSocketResumesTheConnection) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
  {
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
    ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
  }
  EXPECT_EQ(GetIntOpt(pair.client.borrow(), SOL_TCP, TCP_REPAIR), 0);
  ExpectTrafficBothWays(pair.client.borrow(), pair.server.borrow(), 10000, 90);
}

TEST_F(ErrorsTest, InvalidStateIsRejectedBeforeAnySocketExists) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
  ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
  const int fds = soccr::loopback::CountOpenFds();
  ConnectionState bad = state;
  bad.options.snd_wscale = 200;
  bad.options.window_scaling = true;
  absl::StatusOr<RestoredSocket> r = Restore(bad);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(r.status().message()),
      HasSubstr("restore " + state.Endpoints() + ": options.snd_wscale 200"));
  EXPECT_EQ(soccr::loopback::CountOpenFds(), fds);
}

TEST_F(ErrorsTest, RestoreWithoutRoomForTheQueueFailsFastNamingTheLimit) {
  // Default tcp_rmem: new sockets start with 128 KiB, SO_RCVBUF is capped by
  // net.core.rmem_max, and SO_RCVBUFFORCE is refused in a user namespace.
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
  ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
  std::move(paused).LeaveInRepairMode();
  pair.client.reset();
  const int fds = soccr::loopback::CountOpenFds();
  ConnectionState big = state;
  const std::string data = Pattern(64 << 20, 91);
  big.recv_queue = QueueBytes::Copy(data);
  big.inq_len = data.size();
  big.inq_seq += data.size();
  big.window.reset();
  absl::StatusOr<RestoredSocket> r = Restore(big);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition)
      << r.status();
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("net.core.rmem_max"));
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("net.ipv4.tcp_rmem"));
  EXPECT_EQ(soccr::loopback::CountOpenFds(), fds);
  // The failed attempt left nothing behind: the real restore still works.
  ASSERT_OK_AND_ASSIGN(client, RestoreAndResume(state));
  ExpectTrafficBothWays(client.borrow(), pair.server.borrow(), 10000, 92);
}

}  // namespace
}  // namespace soccr
