// A checkpoint takes socket option values from the sock_diag answer it asks
// for anyway (IP_TOS, IPV6_TCLASS, SO_MARK, TCP_CONGESTION, SO_SNDBUF,
// SO_RCVBUF, and IP_FREEBIND, IP_TRANSPARENT or their IPv6 twins) instead of
// reading each with getsockopt(). The kernel is the
// oracle: what the checkpoint saved must be what getsockopt() reads on the same
// socket, option by option, for every family, with the values at their defaults
// and set by the application (after connect, as applications do), and no
// getsockopt() of them may have been made. A restore then puts the same
// values on its socket.

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/sock_diag.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/testing/netns.h"

namespace soccr {
namespace {

using ::soccr::loopback::Family;
using ::soccr::sys::FaultInjectingSys;
using ::soccr::sys::Op;

struct OptionId {
  int level;
  int name;
  const char* label;
};

constexpr OptionId kFromSockDiag[] = {
    {SOL_IP, IP_TOS, "IP_TOS"},
    {SOL_IPV6, IPV6_TCLASS, "IPV6_TCLASS"},
    {SOL_SOCKET, SO_MARK, "SO_MARK"},
    {SOL_TCP, TCP_CONGESTION, "TCP_CONGESTION"},
    {SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"},
    {SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"},
    {SOL_IP, IP_FREEBIND, "IP_FREEBIND"},
    {SOL_IP, IP_TRANSPARENT, "IP_TRANSPARENT"},
    {SOL_IPV6, IPV6_FREEBIND, "IPV6_FREEBIND"},
    {SOL_IPV6, IPV6_TRANSPARENT, "IPV6_TRANSPARENT"},
};

// How the application left the socket.
enum class Setup { kDefaults, kSetAfterConnect };

struct Case {
  Family family;
  Setup setup;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return loopback::FamilyName(info.param.family) +
         (info.param.setup == Setup::kDefaults ? "_defaults" : "_set");
}

void SetInt(int fd, int level, int name, int value) {
  ASSERT_EQ(setsockopt(fd, level, name, &value, sizeof(value)), 0)
      << level << "/" << name << ": " << strerror(errno);
}

const SocketOption* Find(const std::vector<SocketOption>& options, int level,
                         int name) {
  for (const SocketOption& o : options) {
    if (o.level == level && o.name == name) return &o;
  }
  return nullptr;
}

int GetInt(int fd, int level, int name) {
  int v = -12345;
  socklen_t len = sizeof(v);
  EXPECT_EQ(getsockopt(fd, level, name, &v, &len), 0)
      << level << "/" << name << ": " << strerror(errno);
  return v;
}

// The inet bit a case sets: freebind for IPv4 and mapped sockets (through
// IP_FREEBIND and IPV6_FREEBIND), transparent for IPv6 ones.
int SetBitOption(Family family) {
  switch (family) {
    case Family::kV4:
      return IP_FREEBIND;
    case Family::kV6:
      return IPV6_TRANSPARENT;
    default:
      return IPV6_FREEBIND;
  }
}

class OptionsFromSockDiagTest : public soccr::testing::NetnsTest,
                                public ::testing::WithParamInterface<Case> {};

TEST_P(OptionsFromSockDiagTest, SavedValuesAreWhatGetsockoptReads) {
  const Case c = GetParam();
  absl::StatusOr<loopback::TcpPair> pair = loopback::ConnectedPair(c.family);
  ASSERT_TRUE(pair.ok()) << pair.status();
  const int fd = pair->client.get();
  const bool v6 = c.family != Family::kV4;
  if (c.setup == Setup::kSetAfterConnect) {
    if (v6) {
      SetInt(fd, SOL_IPV6, IPV6_TCLASS, 0x28);
    } else {
      SetInt(fd, SOL_IP, IP_TOS, IPTOS_LOWDELAY);
    }
    // One of the two bits (the answer carries both in one byte: a mix-up
    // shows), IP_TRANSPARENT with this namespace's CAP_NET_ADMIN.
    SetInt(fd, v6 ? SOL_IPV6 : SOL_IP, SetBitOption(c.family), 1);
    SetInt(fd, SOL_SOCKET, SO_MARK, 0x2a);
    SetInt(fd, SOL_SOCKET, SO_SNDBUF, 96 << 10);
    SetInt(fd, SOL_SOCKET, SO_RCVBUF, 160 << 10);
    const char reno[] = "reno";
    ASSERT_EQ(setsockopt(fd, SOL_TCP, TCP_CONGESTION, reno, strlen(reno)), 0)
        << strerror(errno);
  }

  FaultInjectingSys sys;
  absl::StatusOr<ConnectionState> state;
  {
    absl::StatusOr<PausedSocket> paused =
        PausedSocket::Pause(pair->client.borrow(), sys);
    ASSERT_TRUE(paused.ok()) << paused.status();
    state = Checkpoint(*paused);
    ASSERT_TRUE(state.ok()) << state.status();
    // Closed below without a word to the peer, for the restore to take
    // its place.
    std::move(*paused).LeaveInRepairMode();
  }
  for (const FaultInjectingSys::Call& call : sys.calls()) {
    if (call.op != Op::kGetSockOpt) continue;
    for (const OptionId& id : kFromSockDiag) {
      EXPECT_FALSE(call.level == id.level && call.name == id.name)
          << id.label << " was read with getsockopt(); the sock_diag answer "
          << "carries it";
    }
  }

  // The oracle: getsockopt() on the same socket (still in repair mode,
  // which changes none of these).
  ASSERT_TRUE(state->buffers.has_value());
  EXPECT_EQ(state->buffers->sndbuf,
            static_cast<uint32_t>(GetInt(fd, SOL_SOCKET, SO_SNDBUF)));
  EXPECT_EQ(state->buffers->rcvbuf,
            static_cast<uint32_t>(GetInt(fd, SOL_SOCKET, SO_RCVBUF)));
  // ReadSocketOptions reads the whole table with getsockopt() (no
  // sock_diag question): every option the answer supplied must be saved
  // exactly as that read leaves it (left out at its default).
  absl::StatusOr<std::vector<SocketOption>> read =
      ReadSocketOptions(pair->client.borrow());
  ASSERT_TRUE(read.ok()) << read.status();
  for (const OptionId& id : kFromSockDiag) {
    if (id.level == SOL_SOCKET &&
        (id.name == SO_SNDBUF || id.name == SO_RCVBUF)) {
      continue;  // the buffers, above
    }
    const SocketOption* saved = Find(state->socket_options, id.level, id.name);
    const SocketOption* oracle = Find(*read, id.level, id.name);
    ASSERT_EQ(saved != nullptr, oracle != nullptr) << id.label;
    if (saved != nullptr) {
      EXPECT_EQ(SocketOptionToString(*saved), SocketOptionToString(*oracle))
          << id.label;
      EXPECT_EQ(saved->value, oracle->value) << id.label;
    }
  }
  if (c.setup == Setup::kSetAfterConnect) {
    // The values set are really there (not all left out as defaults).
    EXPECT_NE(Find(state->socket_options, SOL_SOCKET, SO_MARK), nullptr);
    EXPECT_NE(Find(state->socket_options, SOL_TCP, TCP_CONGESTION), nullptr);
    EXPECT_NE(Find(state->socket_options, v6 ? SOL_IPV6 : SOL_IP,
                   v6 ? IPV6_TCLASS : IP_TOS),
              nullptr);
    EXPECT_NE(Find(state->socket_options, v6 ? SOL_IPV6 : SOL_IP,
                   SetBitOption(c.family)),
              nullptr);
    EXPECT_TRUE(state->buffers->sndbuf_locked);
    EXPECT_TRUE(state->buffers->rcvbuf_locked);
  }

  // And a restore of it puts the same values on the new socket.
  pair->client.reset();
  absl::StatusOr<RestoredSocket> restored = Restore(*state);
  ASSERT_TRUE(restored.ok()) << restored.status();
  absl::StatusOr<OwnedFd> live = std::move(*restored).Resume();
  ASSERT_TRUE(live.ok()) << live.status();
  absl::StatusOr<std::vector<SocketOption>> after =
      ReadSocketOptions(live->borrow());
  ASSERT_TRUE(after.ok()) << after.status();
  for (const OptionId& id : kFromSockDiag) {
    const SocketOption* before = Find(*read, id.level, id.name);
    const SocketOption* now = Find(*after, id.level, id.name);
    ASSERT_EQ(before != nullptr, now != nullptr) << id.label;
    if (before != nullptr) {
      EXPECT_EQ(before->value, now->value) << id.label;
    }
  }
}

// The option values are asked for only by a checkpoint that saves them:
// without `with_options` the answer carries none (the kernel is spared
// filling them), with it each one.
TEST_P(OptionsFromSockDiagTest, OptionValuesOnlyWhenAskedFor) {
  absl::StatusOr<loopback::TcpPair> pair =
      loopback::ConnectedPair(GetParam().family);
  ASSERT_TRUE(pair.ok()) << pair.status();
  const BorrowedFd fd = pair->client.borrow();
  const sys::Result<SocketAddress> local = sys::LinuxSys().GetSockName(fd);
  ASSERT_TRUE(local.ok()) << strerror(local.err);
  const sys::Result<SocketAddress> peer = sys::LinuxSys().GetPeerName(fd);
  ASSERT_TRUE(peer.ok()) << strerror(peer.err);
  internal::ErrorContext ctx("test", fd);
  for (const bool with_options : {false, true}) {
    absl::StatusOr<internal::SockDiagAnswer> a =
        internal::AskSockDiag(sys::LinuxSys(), fd, local.value, peer.value, ctx,
                              std::nullopt, true, with_options);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(a->found);
    EXPECT_TRUE(a->info.has_value());
    EXPECT_EQ(a->sndbuf.has_value(), with_options);
    EXPECT_EQ(a->rcvbuf.has_value(), with_options);
    EXPECT_EQ(a->congestion.has_value(), with_options);
    EXPECT_EQ(a->tos.has_value(), with_options);
    if (GetParam().family != Family::kV4) {
      EXPECT_EQ(a->tclass.has_value(), with_options);
    }
    // Shown to CAP_NET_ADMIN whether asked for or not.
    EXPECT_TRUE(a->mark.has_value());
    // Sent unasked (Linux 5.10 on).
    EXPECT_TRUE(a->freebind.has_value());
    EXPECT_TRUE(a->transparent.has_value());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Families, OptionsFromSockDiagTest,
    ::testing::Values(Case{Family::kV4, Setup::kDefaults},
                      Case{Family::kV4, Setup::kSetAfterConnect},
                      Case{Family::kV6, Setup::kDefaults},
                      Case{Family::kV6, Setup::kSetAfterConnect},
                      Case{Family::kMapped, Setup::kDefaults},
                      Case{Family::kMapped, Setup::kSetAfterConnect}),
    CaseName);

}  // namespace
}  // namespace soccr
