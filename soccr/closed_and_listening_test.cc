// Checkpoint and restore of sockets without a live two-way connection:
// CLOSE after a reset or after both FINs (with data still unread), SYN_SENT,
// LISTEN, sockets never connected, and the states soccr refuses (a
// listener with connections waiting, MPTCP), over IPv4, IPv6 and
// IPv4-mapped IPv6.
//
// A closed connection is compared with a reference connection brought into
// the same state the same way and never checkpointed: both must answer the
// same reads, writes and SO_ERROR.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/testing/checkpoint_util.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/socket_info.h"
#include "soccr/testing/status_macros.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

namespace soccr {
namespace {

using ::soccr::loopback::ExpectEof;
using ::soccr::loopback::Family;
using ::soccr::loopback::Pattern;
using ::soccr::loopback::ReadExactly;
using ::soccr::loopback::TcpPair;
using ::soccr::loopback::TcpStateNumber;
using ::soccr::loopback::WaitInq;
using ::soccr::loopback::WaitTcpState;
using ::soccr::loopback::WriteAll;
using ::soccr::testing::CheckpointAndClose;
using ::soccr::testing::ExpectSameState;
using ::soccr::testing::GetIntOpt;
using ::soccr::testing::TcpInfo;
using ::testing::HasSubstr;

int N(TcpState s) { return static_cast<int>(s); }

SocketAddress LocalAddress(BorrowedFd fd) {
  struct sockaddr_storage ss = {};
  socklen_t len = sizeof(ss);
  ::getsockname(fd.get(), reinterpret_cast<struct sockaddr*>(&ss), &len);
  absl::StatusOr<SocketAddress> a =
      SocketAddress::FromSockaddr(reinterpret_cast<struct sockaddr*>(&ss), len);
  return a.ok() ? *a : SocketAddress();
}

// What an application sees of a closed connection, step by step.
std::string SendOutcome(BorrowedFd fd) {
  errno = 0;
  const ssize_t n = ::send(fd.get(), "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  return n < 0 ? absl::StrCat("send: ", strerror(errno))
               : absl::StrCat("send: ", n);
}
std::string RecvOutcome(BorrowedFd fd) {
  char c;
  errno = 0;
  const ssize_t n = ::recv(fd.get(), &c, 1, MSG_DONTWAIT);
  return n < 0 ? absl::StrCat("recv: ", strerror(errno))
               : absl::StrCat("recv: ", n);
}
std::string ErrorOutcome(BorrowedFd fd) {
  return absl::StrCat("SO_ERROR: ", GetIntOpt(fd, SOL_SOCKET, SO_ERROR));
}
std::string DataOutcome(BorrowedFd fd, const std::string& expected) {
  absl::StatusOr<std::string> got = ReadExactly(fd, expected.size());
  if (!got.ok()) return std::string(got.status().message());
  return *got == expected ? "data: ok" : "data: differs";
}

// A listener on loopback (for kMapped, on [::] taking IPv4 too), and the
// address to connect to.
struct Listener {
  OwnedFd fd;
  SocketAddress connect_to;
};

absl::StatusOr<Listener> Listen(Family family, int backlog) {
  const int domain = family == Family::kV4 ? AF_INET : AF_INET6;
  Listener l;
  l.fd.reset(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!l.fd) return absl::ErrnoToStatus(errno, "socket");
  const int one = 1, zero = 0;
  ::setsockopt(l.fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  SocketAddress bind_to = SocketAddress::Loopback4(0);
  if (family == Family::kV6) bind_to = SocketAddress::Loopback6(0);
  if (family == Family::kMapped) {
    ::setsockopt(l.fd.get(), SOL_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    static constexpr uint8_t kAny[16] = {};
    bind_to = SocketAddress::V6(kAny, 0);
  }
  if (::bind(l.fd.get(), bind_to.sockaddr(), bind_to.length()) != 0) {
    return absl::ErrnoToStatus(errno, "bind");
  }
  if (::listen(l.fd.get(), backlog) != 0) {
    return absl::ErrnoToStatus(errno, "listen");
  }
  const uint16_t port = LocalAddress(l.fd.borrow()).port();
  l.connect_to = family == Family::kV4   ? SocketAddress::Loopback4(port)
                 : family == Family::kV6 ? SocketAddress::Loopback6(port)
                                         : SocketAddress::LoopbackMapped(port);
  return l;
}

absl::StatusOr<OwnedFd> AcceptWithin(BorrowedFd listener,
                                     absl::Duration timeout) {
  struct pollfd p = {listener.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) !=
      1) {
    return absl::DeadlineExceededError("nothing to accept");
  }
  OwnedFd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd) return absl::ErrnoToStatus(errno, "accept");
  return fd;
}

// Data both ways over a fresh pair, then both end-of-files.
void ExpectConversation(BorrowedFd a, BorrowedFd b) {
  const std::string ab = Pattern(200000, 40), ba = Pattern(150000, 41);
  ASSERT_OK(WriteAll(a, ab));
  ASSERT_OK_AND_ASSIGN(got_ab, ReadExactly(b, ab.size()));
  EXPECT_TRUE(got_ab == ab);
  ASSERT_OK(WriteAll(b, ba));
  ASSERT_OK_AND_ASSIGN(got_ba, ReadExactly(a, ba.size()));
  EXPECT_TRUE(got_ba == ba);
  ASSERT_EQ(::shutdown(a.get(), SHUT_WR), 0);
  ASSERT_OK(ExpectEof(b));
  ASSERT_EQ(::shutdown(b.get(), SHUT_WR), 0);
  ASSERT_OK(ExpectEof(a));
}

class ClosedAndListeningTest : public soccr::testing::NetnsTest,
                               public ::testing::WithParamInterface<Family> {
 protected:
  // Checkpoints `fd` (a closed connection), closes it, restores it twice:
  // once to compare a checkpoint of the restored socket (which clears its
  // pending error), once for the caller.
  absl::StatusOr<OwnedFd> CheckpointRestoreClosed(OwnedFd fd,
                                                  ConnectionState* state) {
    absl::StatusOr<ConnectionState> s = CheckpointAndClose(std::move(fd));
    if (!s.ok()) return s.status();
    *state = *s;
    {
      absl::StatusOr<RestoredSocket> r = Restore(*s);
      if (!r.ok()) return r.status();
      absl::StatusOr<ConnectionState> again = Checkpoint(r->paused());
      if (!again.ok()) return again.status();
      ExpectSameState(*s, *again);
    }
    absl::StatusOr<RestoredSocket> r = Restore(*s);
    if (!r.ok()) return r.status();
    return std::move(*r).Resume();
  }
};

INSTANTIATE_TEST_SUITE_P(Families, ClosedAndListeningTest,
                         ::testing::Values(Family::kV4, Family::kV6,
                                           Family::kMapped),
                         [](const ::testing::TestParamInfo<Family>& info) {
                           return soccr::loopback::FamilyName(info.param);
                         });

// Brings `pair.client` to CLOSE by a reset, with `unread` not read yet;
// `close_wait_first`: the server's FIN arrives before the reset.
void ResetWithUnreadData(TcpPair& pair, const std::string& unread,
                         bool close_wait_first) {
  ASSERT_OK(WriteAll(pair.server.borrow(), unread));
  ASSERT_OK(WaitInq(pair.client.borrow(), unread.size()));
  if (close_wait_first) {
    ASSERT_EQ(::shutdown(pair.server.get(), SHUT_WR), 0);
    ASSERT_OK(WaitTcpState(pair.client.borrow(), N(TcpState::kCloseWait)));
  }
  const struct linger abort = {1, 0};
  ASSERT_EQ(::setsockopt(pair.server.get(), SOL_SOCKET, SO_LINGER, &abort,
                         sizeof(abort)),
            0);
  pair.server.reset();  // sends a reset
  ASSERT_OK(WaitTcpState(pair.client.borrow(), N(TcpState::kClose)));
}

// Both FINs, ours first: the connection went on to TIME_WAIT, which the
// descriptor shows as CLOSE (and which holds the addresses meanwhile).
void CloseActively(TcpPair& pair, const std::string& unread) {
  ASSERT_EQ(::shutdown(pair.client.get(), SHUT_WR), 0);
  ASSERT_OK(ExpectEof(pair.server.borrow()));
  ASSERT_OK(WriteAll(pair.server.borrow(), unread));
  ASSERT_EQ(::shutdown(pair.server.get(), SHUT_WR), 0);
  ASSERT_OK(WaitTcpState(pair.client.borrow(), N(TcpState::kClose)));
  ASSERT_OK(WaitInq(pair.client.borrow(), unread.size()));
}

// Both FINs, the peer's first: LAST_ACK, then CLOSE once acknowledged.
void ClosePassively(TcpPair& pair, const std::string& unread) {
  ASSERT_OK(WriteAll(pair.server.borrow(), unread));
  ASSERT_EQ(::shutdown(pair.server.get(), SHUT_WR), 0);
  ASSERT_OK(WaitTcpState(pair.client.borrow(), N(TcpState::kCloseWait)));
  ASSERT_EQ(::shutdown(pair.client.get(), SHUT_WR), 0);
  ASSERT_OK(WaitTcpState(pair.client.borrow(), N(TcpState::kClose)));
  ASSERT_OK(WaitInq(pair.client.borrow(), unread.size()));
}

// The reset, from ESTABLISHED or from CLOSE_WAIT.
void ResetInEstablished(TcpPair& pair, const std::string& unread) {
  ResetWithUnreadData(pair, unread, false);
}
void ResetInCloseWait(TcpPair& pair, const std::string& unread) {
  ResetWithUnreadData(pair, unread, true);
}

// What an application sees of a closed connection, asked in a row's order.
enum class Probe { kSend, kRecv, kError, kData };

// A closed connection, as a row: how it closed, with `unread_len` bytes
// from the peer not read yet, and what the checkpoint and then the
// application see of it.
struct ClosedCase {
  const char* name;
  void (*close)(TcpPair& pair, const std::string& unread);
  size_t unread_len;
  int seed;
  uint32_t pending_error;
  std::vector<Probe> probes;
  std::vector<std::string> outcomes;  // one for each probe
};

std::vector<ClosedCase> ClosedCases() {
  const std::string reset = absl::StrCat("send: ", strerror(ECONNRESET));
  const std::string epipe = absl::StrCat("send: ", strerror(EPIPE));
  return {
      // A write fails with the reset first, then as after any close; the
      // data is still there, then end-of-file.
      {"reset with unread data",
       ResetInEstablished,
       40000,
       1,
       ECONNRESET,
       {Probe::kSend, Probe::kData, Probe::kRecv, Probe::kSend},
       {reset, "data: ok", "recv: 0", epipe}},
      // A reset in CLOSE_WAIT leaves EPIPE pending, not ECONNRESET.
      {"reset in CLOSE_WAIT",
       ResetInCloseWait,
       30000,
       2,
       EPIPE,
       {Probe::kError, Probe::kData, Probe::kRecv, Probe::kSend},
       {absl::StrCat("SO_ERROR: ", EPIPE), "data: ok", "recv: 0", epipe}},
      {"both FINs, ours first",
       CloseActively,
       25000,
       3,
       0,
       {Probe::kError, Probe::kSend, Probe::kData, Probe::kRecv, Probe::kRecv},
       {"SO_ERROR: 0", epipe, "data: ok", "recv: 0", "recv: 0"}},
      {"both FINs, the peer's first",
       ClosePassively,
       25000,
       4,
       0,
       {Probe::kError, Probe::kSend, Probe::kData, Probe::kRecv, Probe::kRecv},
       {"SO_ERROR: 0", epipe, "data: ok", "recv: 0", "recv: 0"}},
  };
}

std::string ProbeOutcome(Probe probe, BorrowedFd fd,
                         const std::string& unread) {
  switch (probe) {
    case Probe::kSend:
      return SendOutcome(fd);
    case Probe::kRecv:
      return RecvOutcome(fd);
    case Probe::kError:
      return ErrorOutcome(fd);
    case Probe::kData:
      return DataOutcome(fd, unread);
  }
  return "unknown probe";
}

// Each closed connection against a reference closed the same way and never
// checkpointed.
TEST_P(ClosedAndListeningTest, ClosedConnectionAnswersAsTheReference) {
  for (const ClosedCase& c : ClosedCases()) {
    SCOPED_TRACE(c.name);
    const std::string unread = Pattern(c.unread_len, c.seed);
    ASSERT_OK_AND_ASSIGN(pair, soccr::loopback::ConnectedPair(GetParam()));
    ASSERT_OK_AND_ASSIGN(ref, soccr::loopback::ConnectedPair(GetParam()));
    c.close(pair, unread);
    c.close(ref, unread);
    if (HasFatalFailure()) return;

    ConnectionState state;
    ASSERT_OK_AND_ASSIGN(
        fd, CheckpointRestoreClosed(std::move(pair.client), &state));
    EXPECT_EQ(state.state, TcpState::kClose);
    EXPECT_EQ(state.pending_error, c.pending_error);
    EXPECT_TRUE(state.recv_queue.view() == unread);
    EXPECT_EQ(state.outq_len, 0u);
    EXPECT_EQ(TcpStateNumber(fd.borrow()), N(TcpState::kClose));
    for (BorrowedFd s : {ref.client.borrow(), fd.borrow()}) {
      SCOPED_TRACE(s == fd.borrow() ? "restored" : "reference");
      std::vector<std::string> seen;
      for (Probe probe : c.probes)
        seen.push_back(ProbeOutcome(probe, s, unread));
      EXPECT_EQ(seen, c.outcomes);
    }
  }
}

// A snapshot (checkpoint, then resume the original) of a closed connection
// takes its pending error: the kernel shows an error only by clearing it
// (sock_error(): SO_ERROR, recv, send alike; sock_diag and TCP_INFO do not
// report it), and nothing can set it again on a CLOSE socket (it is in no
// lookup table, so no reset or ICMP error reaches it). The image has the
// error; the original reads as if it had been reported. This pins the
// behaviour the documentation (checkpoint.h, `soccr dump --help`) states.
TEST_P(ClosedAndListeningTest, SnapshotTakesThePendingErrorFromTheOriginal) {
  const std::string unread = Pattern(1000, 3);
  ASSERT_OK_AND_ASSIGN(pair, soccr::loopback::ConnectedPair(GetParam()));
  ResetWithUnreadData(pair, unread, false);
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
  ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
  EXPECT_EQ(state.pending_error, static_cast<uint32_t>(ECONNRESET));
  ASSERT_OK(std::move(paused).Resume());
  // The original: data, then end-of-file where ECONNRESET would have been.
  EXPECT_EQ(DataOutcome(pair.client.borrow(), unread), "data: ok");
  EXPECT_EQ(RecvOutcome(pair.client.borrow()), "recv: 0");
  // The copy reports it.
  ASSERT_OK_AND_ASSIGN(restored, Restore(state));
  ASSERT_OK_AND_ASSIGN(fd, std::move(restored).Resume());
  EXPECT_EQ(SendOutcome(fd.borrow()),
            absl::StrCat("send: ", strerror(ECONNRESET)));
}

TEST_P(ClosedAndListeningTest, SynSentResumesAndCompletes) {
  ASSERT_OK_AND_ASSIGN(l, Listen(GetParam(), 8));
  // The listener drops everything: the SYN goes unanswered.
  ASSERT_OK(soccr::loopback::DropIncoming(l.fd.borrow()));
  const int domain = GetParam() == Family::kV4 ? AF_INET : AF_INET6;
  OwnedFd client(
      ::socket(domain, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  ASSERT_TRUE(client);
  ASSERT_EQ(
      ::connect(client.get(), l.connect_to.sockaddr(), l.connect_to.length()),
      -1);
  ASSERT_EQ(errno, EINPROGRESS);
  ASSERT_EQ(TcpStateNumber(client.borrow()), N(TcpState::kSynSent));
  const SocketAddress client_addr = LocalAddress(client.borrow());

  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(client)));
  EXPECT_EQ(state.state, TcpState::kSynSent);
  EXPECT_EQ(state.local, client_addr);
  EXPECT_EQ(state.peer, l.connect_to);
  EXPECT_EQ(state.outq_len, 0u);
  EXPECT_EQ(state.inq_len, 0u);

  ASSERT_OK_AND_ASSIGN(restored, Restore(state));
  ASSERT_OK_AND_ASSIGN(again, Checkpoint(restored.paused()));
  ExpectSameState(state, again);
  ASSERT_OK_AND_ASSIGN(fd, std::move(restored).Resume());
  // Still unanswered: SYN_SENT, as before; the descriptor stays blocking.
  EXPECT_EQ(TcpStateNumber(fd.borrow()), N(TcpState::kSynSent));
  EXPECT_EQ(::fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(LocalAddress(fd.borrow()), client_addr);

  // The listener answers the next SYN; the handshake completes with the
  // original initial sequence number.
  ASSERT_OK(soccr::loopback::AcceptIncoming(l.fd.borrow()));
  ASSERT_OK_AND_ASSIGN(server, AcceptWithin(l.fd.borrow(), absl::Seconds(10)));
  ASSERT_OK(WaitTcpState(fd.borrow(), N(TcpState::kEstablished)));
  {
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(server.borrow()));
    ASSERT_OK_AND_ASSIGN(server_state, Checkpoint(paused));
    EXPECT_EQ(server_state.inq_seq, state.outq_seq)
        << "the peer saw another initial sequence number";
  }
  ExpectConversation(fd.borrow(), server.borrow());
}

TEST_P(ClosedAndListeningTest, ListenerKeepsAddressOptionsAndBacklog) {
  ASSERT_OK_AND_ASSIGN(l, Listen(GetParam(), 7));
  const int one = 1;
  ASSERT_EQ(::setsockopt(l.fd.get(), SOL_TCP, TCP_NODELAY, &one, sizeof(one)),
            0);
  const SocketAddress addr = LocalAddress(l.fd.borrow());
  const int v6only = GetParam() == Family::kV4
                         ? 0
                         : GetIntOpt(l.fd.borrow(), SOL_IPV6, IPV6_V6ONLY);

  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(l.fd)));
  EXPECT_EQ(state.state, TcpState::kListen);
  EXPECT_EQ(state.listen_backlog, 7u);
  EXPECT_TRUE(state.peer.empty());

  ASSERT_OK_AND_ASSIGN(restored, Restore(state));
  EXPECT_FALSE(restored.paused().in_repair_mode());
  ASSERT_OK_AND_ASSIGN(again, Checkpoint(restored.paused()));
  ExpectSameState(state, again);
  ASSERT_OK_AND_ASSIGN(fd, std::move(restored).Resume());
  const struct tcp_info ti = TcpInfo(fd.borrow());
  EXPECT_EQ(ti.tcpi_state, N(TcpState::kListen));
  EXPECT_EQ(ti.tcpi_sacked, 7u) << "backlog";
  EXPECT_EQ(LocalAddress(fd.borrow()), addr);
  EXPECT_EQ(GetIntOpt(fd.borrow(), SOL_SOCKET, SO_REUSEADDR), 1);
  EXPECT_EQ(GetIntOpt(fd.borrow(), SOL_TCP, TCP_NODELAY), 1);
  if (GetParam() != Family::kV4) {
    EXPECT_EQ(GetIntOpt(fd.borrow(), SOL_IPV6, IPV6_V6ONLY), v6only);
  }

  const int domain = GetParam() == Family::kV4 ? AF_INET : AF_INET6;
  OwnedFd client(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(
      ::connect(client.get(), l.connect_to.sockaddr(), l.connect_to.length()),
      0);
  ASSERT_OK_AND_ASSIGN(server, AcceptWithin(fd.borrow(), absl::Seconds(10)));
  ExpectConversation(client.borrow(), server.borrow());
}

TEST_P(ClosedAndListeningTest, ListenerWithWaitingConnectionsIsRefused) {
  ASSERT_OK_AND_ASSIGN(l, Listen(GetParam(), 4));
  const int domain = GetParam() == Family::kV4 ? AF_INET : AF_INET6;
  OwnedFd client(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(
      ::connect(client.get(), l.connect_to.sockaddr(), l.connect_to.length()),
      0);
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(l.fd.borrow()));
  absl::StatusOr<ConnectionState> state = Checkpoint(paused);
  EXPECT_EQ(state.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(state.status().message()),
              HasSubstr("1 connection(s) waiting in its accept queue"));
  ASSERT_OK(std::move(paused).Resume());
  // Untouched: the connection is still there to accept.
  ASSERT_OK_AND_ASSIGN(server, AcceptWithin(l.fd.borrow(), absl::Seconds(1)));
  ExpectConversation(client.borrow(), server.borrow());
}

TEST_P(ClosedAndListeningTest, UnconnectedSocketsKeepTheirAddress) {
  const int domain = GetParam() == Family::kV4 ? AF_INET : AF_INET6;
  // Bound, with SO_REUSEADDR (which pausing must not lose).
  OwnedFd bound(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  ASSERT_EQ(
      ::setsockopt(bound.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
      0);
  const SocketAddress any =
      GetParam() == Family::kV4   ? SocketAddress::Loopback4(0)
      : GetParam() == Family::kV6 ? SocketAddress::Loopback6(0)
                                  : SocketAddress::LoopbackMapped(0);
  ASSERT_EQ(::bind(bound.get(), any.sockaddr(), any.length()), 0);
  const SocketAddress addr = LocalAddress(bound.borrow());
  {
    // Pause and resume leave it as it was.
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(bound.borrow()));
    ASSERT_OK(std::move(paused).Resume());
    EXPECT_EQ(GetIntOpt(bound.borrow(), SOL_SOCKET, SO_REUSEADDR), 1);
  }
  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(bound)));
  EXPECT_EQ(state.state, TcpState::kClose);
  EXPECT_TRUE(state.peer.empty());
  EXPECT_EQ(state.local, addr);
  ASSERT_OK_AND_ASSIGN(restored, Restore(state));
  ASSERT_OK_AND_ASSIGN(again, Checkpoint(restored.paused()));
  ExpectSameState(state, again);
  ASSERT_OK_AND_ASSIGN(fd, std::move(restored).Resume());
  EXPECT_EQ(TcpStateNumber(fd.borrow()), N(TcpState::kClose));
  EXPECT_EQ(LocalAddress(fd.borrow()), addr);
  EXPECT_EQ(GetIntOpt(fd.borrow(), SOL_SOCKET, SO_REUSEADDR), 1);
  // It can go on to listen where it was bound.
  ASSERT_EQ(::listen(fd.get(), 1), 0);
  OwnedFd client(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(client.get(), addr.sockaddr(), addr.length()), 0);
  ASSERT_OK_AND_ASSIGN(server, AcceptWithin(fd.borrow(), absl::Seconds(1)));
  ExpectConversation(client.borrow(), server.borrow());

  // Never bound: restored unbound.
  OwnedFd fresh(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_OK_AND_ASSIGN(fresh_state, CheckpointAndClose(std::move(fresh)));
  EXPECT_EQ(fresh_state.local.port(), 0);
  ASSERT_OK_AND_ASSIGN(fresh_restored, Restore(fresh_state));
  ASSERT_OK_AND_ASSIGN(fresh_fd, std::move(fresh_restored).Resume());
  EXPECT_EQ(LocalAddress(fresh_fd.borrow()).port(), 0);
  EXPECT_EQ(LocalAddress(fresh_fd.borrow()).family(), domain);
}

TEST_P(ClosedAndListeningTest, PausingAListenerChangesNothing) {
  ASSERT_OK_AND_ASSIGN(l, Listen(GetParam(), 3));
  {
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(l.fd.borrow()));
    EXPECT_FALSE(paused.in_repair_mode());
    ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
    EXPECT_EQ(state.state, TcpState::kListen);
    // Dropped: nothing to undo.
  }
  EXPECT_EQ(GetIntOpt(l.fd.borrow(), SOL_SOCKET, SO_REUSEADDR), 1);
  const int domain = GetParam() == Family::kV4 ? AF_INET : AF_INET6;
  OwnedFd client(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(
      ::connect(client.get(), l.connect_to.sockaddr(), l.connect_to.length()),
      0);
  ASSERT_OK_AND_ASSIGN(server, AcceptWithin(l.fd.borrow(), absl::Seconds(1)));
  ExpectConversation(client.borrow(), server.borrow());
}

// An accepted connection shares its port with the listener that accepted
// it; its restore must bind that port while the listener still holds it,
// and it keeps the SO_REUSEADDR it inherited.
TEST_P(ClosedAndListeningTest, AcceptedConnectionRestoresBesideItsListener) {
  ASSERT_OK_AND_ASSIGN(l, Listen(GetParam(), 4));
  const int domain = GetParam() == Family::kV4 ? AF_INET : AF_INET6;
  OwnedFd client(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(
      ::connect(client.get(), l.connect_to.sockaddr(), l.connect_to.length()),
      0);
  ASSERT_OK_AND_ASSIGN(server, AcceptWithin(l.fd.borrow(), absl::Seconds(1)));
  ASSERT_EQ(GetIntOpt(server.borrow(), SOL_SOCKET, SO_REUSEADDR), 1);
  ASSERT_OK_AND_ASSIGN(state, CheckpointAndClose(std::move(server)));
  ASSERT_OK_AND_ASSIGN(restored, Restore(state));
  ASSERT_OK_AND_ASSIGN(again, Checkpoint(restored.paused()));
  ExpectSameState(state, again);
  ASSERT_OK_AND_ASSIGN(fd, std::move(restored).Resume());
  EXPECT_EQ(GetIntOpt(fd.borrow(), SOL_SOCKET, SO_REUSEADDR), 1);
  ExpectConversation(client.borrow(), fd.borrow());
}

class RefusedStatesTest : public soccr::testing::NetnsTest {};

TEST_F(RefusedStatesTest, MptcpSocketsAreUnimplemented) {
  OwnedFd mptcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP));
  if (!mptcp) GTEST_SKIP() << "no MPTCP in this kernel: " << strerror(errno);
  absl::StatusOr<PausedSocket> p = PausedSocket::Pause(mptcp.borrow());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("MPTCP"));
}

}  // namespace
}  // namespace soccr
