// Connections a restore cannot carry are refused at checkpoint, never
// silently broken (issue 11): TCP-MD5 and TCP-AO keys and upper-layer
// protocols (kTLS) are restored by nothing in the repair interface, so a
// copy would be dead on arrival. Each is tried on this kernel where it has
// it; where it lacks one, the test says so and skips, and a Sys that
// reports the feature checks the refusal path all the same.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/batch.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/sys/intercepting_sys.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef TCP_AO_ADD_KEY
#define TCP_AO_ADD_KEY 38
#endif
#ifndef TCP_AO_INFO
#define TCP_AO_INFO 40
#endif

namespace soccr {
namespace {

using ::soccr::loopback::ConnectedPair;
using ::soccr::loopback::Family;
using ::testing::HasSubstr;

class RefusedFeaturesTest : public soccr::testing::NetnsTest {};

// A TCP-MD5 key for `peer` on `fd` (struct tcp_md5sig).
int SetMd5Key(int fd, const SocketAddress& peer) {
  struct tcp_md5sig sig = {};
  memcpy(&sig.tcpm_addr, peer.sockaddr(), peer.length());
  static const char kKey[] = "soccr-test-key";
  sig.tcpm_keylen = sizeof(kKey) - 1;
  memcpy(sig.tcpm_key, kKey, sig.tcpm_keylen);
  return ::setsockopt(fd, SOL_TCP, TCP_MD5SIG, &sig, sizeof(sig)) == 0 ? 0
                                                                       : errno;
}

// A connection whose every segment is signed with TCP-MD5: the client binds
// first so that both keys name their peer before the handshake.
struct Md5Pair {
  OwnedFd client, server;
};
absl::StatusOr<Md5Pair> ConnectedWithMd5(Family family) {
  const bool v4 = family == Family::kV4;
  const int domain = v4 ? AF_INET : AF_INET6;
  const SocketAddress server_addr =
      v4 ? SocketAddress::Loopback4(40001) : SocketAddress::Loopback6(40001);
  const SocketAddress client_addr =
      v4 ? SocketAddress::Loopback4(40002) : SocketAddress::Loopback6(40002);
  OwnedFd listener(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  OwnedFd client(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener || !client) return absl::ErrnoToStatus(errno, "socket");
  if (int err = SetMd5Key(listener.get(), client_addr)) {
    return absl::ErrnoToStatus(err, "setsockopt(TCP_MD5SIG) on the listener");
  }
  if (int err = SetMd5Key(client.get(), server_addr)) {
    return absl::ErrnoToStatus(err, "setsockopt(TCP_MD5SIG) on the client");
  }
  if (::bind(listener.get(), server_addr.sockaddr(), server_addr.length()) !=
          0 ||
      ::listen(listener.get(), 1) != 0 ||
      ::bind(client.get(), client_addr.sockaddr(), client_addr.length()) != 0 ||
      ::connect(client.get(), server_addr.sockaddr(), server_addr.length()) !=
          0) {
    return absl::ErrnoToStatus(errno, "bind/listen/connect");
  }
  OwnedFd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!server) return absl::ErrnoToStatus(errno, "accept");
  return Md5Pair{std::move(client), std::move(server)};
}

TEST_F(RefusedFeaturesTest, TcpMd5IsRefusedAndTheOriginalCarriesOn) {
  OwnedFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (int err = SetMd5Key(probe.get(), SocketAddress::Loopback4(1))) {
    GTEST_SKIP() << "this kernel has no TCP-MD5: setsockopt(TCP_MD5SIG): "
                 << strerror(err);
  }
  for (Family family : {Family::kV4, Family::kV6}) {
    SCOPED_TRACE(soccr::loopback::FamilyName(family));
    absl::StatusOr<Md5Pair> pair = ConnectedWithMd5(family);
    ASSERT_OK(pair.status());
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair->client.borrow()));
    absl::StatusOr<ConnectionState> state = Checkpoint(paused);
    EXPECT_EQ(state.status().code(), absl::StatusCode::kFailedPrecondition)
        << state.status();
    EXPECT_THAT(state.status().message(), HasSubstr("TCP-MD5 (RFC 2385)"));
    EXPECT_THAT(state.status().message(), HasSubstr("checkpoint "));
    // A failed checkpoint leaves the original usable.
    ASSERT_OK(std::move(paused).Resume());
    ASSERT_OK(soccr::loopback::WriteAll(pair->client.borrow(), "signed"));
    ASSERT_OK_AND_ASSIGN(
        got, soccr::loopback::ReadExactly(pair->server.borrow(), 6));
    EXPECT_EQ(got, "signed");
  }
}

// A descriptor of a socket that lives in another network namespace (taken
// from a process there, as `soccr dump --pid` takes it) is checked in its
// own namespace: the caller's sock_diag tables do not hold it, and asking
// there would find nothing and let the keys through.
TEST_F(RefusedFeaturesTest, TcpMd5IsRefusedForASocketOfAnotherNamespace) {
  OwnedFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (int err = SetMd5Key(probe.get(), SocketAddress::Loopback4(1))) {
    GTEST_SKIP() << "this kernel has no TCP-MD5: setsockopt(TCP_MD5SIG): "
                 << strerror(err);
  }
  OwnedFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(home) << strerror(errno);
  ASSERT_OK(soccr::loopback::EnterPrivateNetns());
  absl::StatusOr<Md5Pair> signed_pair = ConnectedWithMd5(Family::kV4);
  absl::StatusOr<soccr::loopback::TcpPair> plain = ConnectedPair(Family::kV4);
  ASSERT_EQ(::setns(home.get(), CLONE_NEWNET), 0) << strerror(errno);
  ASSERT_OK(signed_pair.status());
  ASSERT_OK(plain.status());

  const absl::Status carriable = CheckCarriable(signed_pair->client.borrow());
  EXPECT_EQ(carriable.code(), absl::StatusCode::kFailedPrecondition)
      << carriable;
  EXPECT_THAT(carriable.message(), HasSubstr("TCP-MD5 (RFC 2385)"));
  {
    ASSERT_OK_AND_ASSIGN(paused,
                         PausedSocket::Pause(signed_pair->client.borrow()));
    absl::StatusOr<ConnectionState> state = Checkpoint(paused);
    EXPECT_EQ(state.status().code(), absl::StatusCode::kFailedPrecondition)
        << state.status();
    EXPECT_THAT(state.status().message(), HasSubstr("TCP-MD5 (RFC 2385)"));
    ASSERT_OK(std::move(paused).Resume());
  }
  // An unsigned connection over there checkpoints as one here would.
  ASSERT_OK(soccr::loopback::WriteAll(plain->server.borrow(), "abc"));
  ASSERT_OK(soccr::loopback::WaitInq(plain->client.borrow(), 3));
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(plain->client.borrow()));
  ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
  EXPECT_EQ(state.state, TcpState::kEstablished);
  EXPECT_EQ(state.recv_queue, QueueBytes::Copy(absl::string_view("abc")));
  ASSERT_OK(std::move(paused).Resume());
  ASSERT_OK(soccr::loopback::WriteAll(signed_pair->client.borrow(), "signed"));
  ASSERT_OK_AND_ASSIGN(
      got, soccr::loopback::ReadExactly(signed_pair->server.borrow(), 6));
  EXPECT_EQ(got, "signed");

  // A caller that may not enter the socket's namespace (setns refused)
  // cannot have the keys checked: the check says so rather than passing,
  // and a checkpoint told the caller checked goes on without the answer.
  soccr::sys::FaultInjectingSys no_setns;
  no_setns.FailOp(soccr::sys::Op::kEnterNetns, EPERM);
  const absl::Status unchecked =
      CheckCarriable(signed_pair->client.borrow(), no_setns);
  EXPECT_EQ(unchecked.code(), absl::StatusCode::kPermissionDenied) << unchecked;
  EXPECT_THAT(unchecked.message(),
              HasSubstr("another network namespace, and sock_diag answers for "
                        "it only from inside that one (entering it needs "
                        "CAP_SYS_ADMIN over it): setns(CLONE_NEWNET): "
                        "Operation not permitted"));
  ASSERT_OK_AND_ASSIGN(trusted_pause,
                       PausedSocket::Pause(plain->client.borrow(), no_setns));
  CheckpointOptions trusted;
  trusted.check_carriable = false;
  ASSERT_OK_AND_ASSIGN(trusted_state, Checkpoint(trusted_pause, trusted));
  EXPECT_EQ(trusted_state.recv_queue,
            QueueBytes::Copy(absl::string_view("abc")));
  ASSERT_OK(std::move(trusted_pause).Resume());
}

// A checkpoint that asks through a caller's kept netlink socket
// (SockDiagSession) judges the keys as one that opens its own: here, and
// for a socket of another namespace, which the kept socket is not in.
TEST_F(RefusedFeaturesTest, TcpMd5IsRefusedThroughASession) {
  OwnedFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (int err = SetMd5Key(probe.get(), SocketAddress::Loopback4(1))) {
    GTEST_SKIP() << "this kernel has no TCP-MD5: setsockopt(TCP_MD5SIG): "
                 << strerror(err);
  }
  SockDiagSession session;
  CheckpointOptions options;
  options.sock_diag = &session;
  ASSERT_OK_AND_ASSIGN(plain_here, ConnectedPair(Family::kV4));
  {
    ASSERT_OK_AND_ASSIGN(paused,
                         PausedSocket::Pause(plain_here.client.borrow()));
    ASSERT_OK(Checkpoint(paused, options).status());
    ASSERT_OK(std::move(paused).Resume());
  }
  ASSERT_TRUE(session.is_open());
  auto expect_refused = [&](BorrowedFd fd) {
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(fd));
    absl::StatusOr<ConnectionState> state = Checkpoint(paused, options);
    EXPECT_EQ(state.status().code(), absl::StatusCode::kFailedPrecondition)
        << state.status();
    EXPECT_THAT(state.status().message(), HasSubstr("TCP-MD5 (RFC 2385)"));
    ASSERT_OK(std::move(paused).Resume());
  };
  for (Family family : {Family::kV4, Family::kV6}) {
    SCOPED_TRACE(soccr::loopback::FamilyName(family));
    absl::StatusOr<Md5Pair> pair = ConnectedWithMd5(family);
    ASSERT_OK(pair.status());
    expect_refused(pair->client.borrow());
  }

  OwnedFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(home) << strerror(errno);
  ASSERT_OK(soccr::loopback::EnterPrivateNetns());
  absl::StatusOr<Md5Pair> signed_there = ConnectedWithMd5(Family::kV4);
  absl::StatusOr<soccr::loopback::TcpPair> plain_there =
      ConnectedPair(Family::kV4);
  ASSERT_EQ(::setns(home.get(), CLONE_NEWNET), 0) << strerror(errno);
  ASSERT_OK(signed_there.status());
  ASSERT_OK(plain_there.status());
  expect_refused(signed_there->client.borrow());
  ASSERT_OK(soccr::loopback::WriteAll(plain_there->server.borrow(), "abc"));
  ASSERT_OK(soccr::loopback::WaitInq(plain_there->client.borrow(), 3));
  ASSERT_OK_AND_ASSIGN(paused,
                       PausedSocket::Pause(plain_there->client.borrow()));
  ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused, options));
  EXPECT_EQ(state.recv_queue, QueueBytes::Copy(absl::string_view("abc")));
  ASSERT_OK(std::move(paused).Resume());
  EXPECT_TRUE(session.is_open());
}

// CheckCarriable() gives the same refusal without pausing anything, and a
// checkpoint told the caller checked (check_carriable false) skips it.
TEST_F(RefusedFeaturesTest, CheckCarriableAheadOfTheCheckpoint) {
  OwnedFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (int err = SetMd5Key(probe.get(), SocketAddress::Loopback4(1))) {
    GTEST_SKIP() << "this kernel has no TCP-MD5: setsockopt(TCP_MD5SIG): "
                 << strerror(err);
  }
  ASSERT_OK_AND_ASSIGN(plain, ConnectedPair(Family::kV4));
  EXPECT_OK(CheckCarriable(plain.client.borrow()));
  for (Family family : {Family::kV4, Family::kV6}) {
    SCOPED_TRACE(soccr::loopback::FamilyName(family));
    absl::StatusOr<Md5Pair> pair = ConnectedWithMd5(family);
    ASSERT_OK(pair.status());
    const absl::Status s = CheckCarriable(pair->client.borrow());
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(s.message(), HasSubstr("TCP-MD5 (RFC 2385)"));
    EXPECT_THAT(s.message(), HasSubstr("checkpoint "));
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair->client.borrow()));
    CheckpointOptions trusted;
    trusted.check_carriable = false;
    EXPECT_OK(Checkpoint(paused, trusted).status());
    ASSERT_OK(std::move(paused).Resume());
  }
}

// In a batch each thread asks sock_diag through one netlink socket it
// keeps for the call: the signed connections among plain ones are still
// refused, one by one, each with its own answer, and nothing is left open.
TEST_F(RefusedFeaturesTest, TcpMd5IsRefusedInABatch) {
  OwnedFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (int err = SetMd5Key(probe.get(), SocketAddress::Loopback4(1))) {
    GTEST_SKIP() << "this kernel has no TCP-MD5: setsockopt(TCP_MD5SIG): "
                 << strerror(err);
  }
  std::vector<soccr::loopback::TcpPair> plain;
  std::vector<Md5Pair> signed_pairs;
  std::vector<BorrowedFd> fds;
  std::vector<bool> is_signed;
  for (int i = 0; i < 96; ++i) {
    // ConnectedWithMd5's fixed ports: one signed pair per family.
    if (i == 3 || i == 50) {
      ASSERT_OK_AND_ASSIGN(
          p, ConnectedWithMd5(i == 3 ? Family::kV4 : Family::kV6));
      signed_pairs.push_back(std::move(p));
      fds.push_back(signed_pairs.back().client.borrow());
      is_signed.push_back(true);
    } else {
      ASSERT_OK_AND_ASSIGN(p, ConnectedPair(Family::kV4));
      plain.push_back(std::move(p));
      fds.push_back(plain.back().client.borrow());
      is_signed.push_back(false);
    }
  }
  const int open_before = soccr::loopback::CountOpenFds();
  BatchOptions two;
  two.threads = 2;
  two.min_per_thread = 1;
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "CheckpointMany" : "ForEachConnection");
    std::vector<absl::Status> got(fds.size());
    if (round == 0) {
      std::vector<absl::StatusOr<PausedCheckpoint>> r =
          CheckpointMany(fds, two);
      for (size_t i = 0; i < r.size(); ++i) got[i] = r[i].status();
    } else {
      ForEachConnection(fds.size(), two,
                        [&](size_t i) { got[i] = CheckCarriable(fds[i]); });
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      SCOPED_TRACE(i);
      if (is_signed[i]) {
        EXPECT_EQ(got[i].code(), absl::StatusCode::kFailedPrecondition)
            << got[i];
        EXPECT_THAT(got[i].message(), HasSubstr("TCP-MD5 (RFC 2385)"));
      } else {
        EXPECT_OK(got[i]);
      }
    }
    EXPECT_EQ(soccr::loopback::CountOpenFds(), open_before)
        << "the batch's netlink sockets are closed with it";
  }
}

// A listener with a key: the connections it accepts would be signed.
TEST_F(RefusedFeaturesTest, TcpMd5OnAListenerIsRefused) {
  OwnedFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  const SocketAddress addr = SocketAddress::Loopback4(40003);
  if (int err = SetMd5Key(listener.get(), SocketAddress::Loopback4(0))) {
    GTEST_SKIP() << "this kernel has no TCP-MD5: setsockopt(TCP_MD5SIG): "
                 << strerror(err);
  }
  ASSERT_EQ(::bind(listener.get(), addr.sockaddr(), addr.length()), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(listener.borrow()));
  absl::StatusOr<ConnectionState> state = Checkpoint(paused);
  EXPECT_EQ(state.status().code(), absl::StatusCode::kFailedPrecondition)
      << state.status();
  EXPECT_THAT(state.status().message(), HasSubstr("TCP-MD5"));
}

TEST_F(RefusedFeaturesTest, KtlsIsRefused) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
  if (::setsockopt(pair.client.get(), SOL_TCP, TCP_ULP, "tls", 3) != 0) {
    GTEST_SKIP() << "kTLS is not available here: setsockopt(TCP_ULP, \"tls\"): "
                 << strerror(errno)
                 << " (the tls module is neither built in nor loaded, and a "
                    "user namespace cannot load it); the refusal is checked "
                    "with a Sys that reports it (UpperLayerProtocolIsRefused)";
  }
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
  absl::StatusOr<ConnectionState> state = Checkpoint(paused);
  EXPECT_EQ(state.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(state.status().message(), HasSubstr("\"tls\" (TCP_ULP: kTLS)"));
}

TEST_F(RefusedFeaturesTest, TcpAoIsRefused) {
  OwnedFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  uint8_t info[48] = {};
  socklen_t len = sizeof(info);
  if (::getsockopt(probe.get(), SOL_TCP, TCP_AO_INFO, info, &len) != 0 &&
      errno == ENOPROTOOPT) {
    GTEST_SKIP() << "this kernel has no TCP-AO (getsockopt(TCP_AO_INFO): "
                 << strerror(ENOPROTOOPT)
                 << ", CONFIG_TCP_AO off); the refusal is checked with a Sys "
                    "that reports keys (TcpAoKeysAreRefused)";
  }
  // A kernel with TCP-AO: soccr does not add keys in this test (the
  // refusal path is the one TcpAoKeysAreRefused takes).
  GTEST_SKIP() << "TCP-AO is present; adding keys is not covered here";
}

// Reports `ulp` for TCP_ULP, or TCP-AO keys for TCP_AO_INFO, and makes
// every other call for real.
class ReportingSys final : public sys::InterceptingSys {
 public:
  ReportingSys(std::string ulp, bool ao)
      : InterceptingSys(sys::LinuxSys()), ulp_(std::move(ulp)), ao_(ao) {}
  sys::Result<socklen_t> GetSockOpt(BorrowedFd fd, int level, int name,
                                    absl::Span<uint8_t> buf) const override {
    if (level == SOL_TCP && name == TCP_ULP && !ulp_.empty()) {
      memcpy(buf.data(), ulp_.data(), std::min(ulp_.size(), buf.size()));
      return {static_cast<socklen_t>(ulp_.size()), 0};
    }
    if (level == SOL_TCP && name == TCP_AO_INFO && ao_) {
      return {static_cast<socklen_t>(buf.size()), 0};
    }
    return InterceptingSys::GetSockOpt(fd, level, name, buf);
  }

 protected:
  int Intercept(sys::Op, int, int) const override { return 0; }

 private:
  std::string ulp_;
  bool ao_;
};

TEST_F(RefusedFeaturesTest, UpperLayerProtocolIsRefused) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
  const ReportingSys sys("tls", false);
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow(), sys));
  absl::StatusOr<ConnectionState> state = Checkpoint(paused);
  EXPECT_EQ(state.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(state.status().message(), HasSubstr("\"tls\" (TCP_ULP: kTLS)"));
  ASSERT_OK(std::move(paused).Resume());
}

TEST_F(RefusedFeaturesTest, TcpAoKeysAreRefused) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV6));
  const ReportingSys sys("", true);
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow(), sys));
  absl::StatusOr<ConnectionState> state = Checkpoint(paused);
  EXPECT_EQ(state.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(state.status().message(), HasSubstr("TCP-AO (RFC 5925)"));
  ASSERT_OK(std::move(paused).Resume());
}

}  // namespace
}  // namespace soccr
