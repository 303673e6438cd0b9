// The network lock against the kernel: in a private network namespace per
// test, real connections over loopback are locked, and what their peers
// send is checked not to arrive (and not to be reset) until the unlock.

#include "soccr/netlock/netlock.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::loopback::ConnectedPair;
using ::soccr::loopback::Family;
using ::soccr::loopback::InqLen;
using ::soccr::loopback::TcpPair;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class NetworkLockTest : public soccr::testing::NetnsTest {};

// The server side's key: what a migration of the server's socket locks.
ConnectionKey ServerKey(const TcpPair& p) {
  sockaddr_storage a = {}, b = {};
  socklen_t la = sizeof(a), lb = sizeof(b);
  ::getsockname(p.server.get(), reinterpret_cast<sockaddr*>(&a), &la);
  ::getpeername(p.server.get(), reinterpret_cast<sockaddr*>(&b), &lb);
  return {*SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&a), la),
          *SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&b), lb)};
}

int SoError(BorrowedFd fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  return err;
}

constexpr int kEstablished = 1;  // TCP_ESTABLISHED

// The client's bytes stay out of the server's socket while locked; no
// reset on either side; after the unlock they arrive (retransmitted).
void ExpectHeldThenDelivered(TcpPair& p, NetworkLock lock) {
  ASSERT_OK(soccr::loopback::WriteAll(p.client.borrow(), "while locked"));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(InqLen(p.server.borrow()), 0) << "a locked packet got through";
  EXPECT_GT(soccr::loopback::OutqLen(p.client.borrow()), 0);
  EXPECT_EQ(soccr::loopback::TcpStateNumber(p.client.borrow()), kEstablished);
  EXPECT_EQ(soccr::loopback::TcpStateNumber(p.server.borrow()), kEstablished);
  EXPECT_EQ(SoError(p.client.borrow()), 0);
  EXPECT_EQ(SoError(p.server.borrow()), 0);

  ASSERT_OK(std::move(lock).Unlock());
  ASSERT_OK_AND_ASSIGN(got, soccr::loopback::ReadExactly(p.server.borrow(), 12,
                                                         absl::Seconds(10)));
  EXPECT_EQ(got, "while locked");
  // And the other way, at once.
  ASSERT_OK(soccr::loopback::WriteAll(p.server.borrow(), "reply"));
  ASSERT_OK_AND_ASSIGN(reply,
                       soccr::loopback::ReadExactly(p.client.borrow(), 5));
  EXPECT_EQ(reply, "reply");
}

class NetworkLockFamilyTest : public NetworkLockTest,
                              public ::testing::WithParamInterface<Family> {};

TEST_P(NetworkLockFamilyTest, DropsThePeersPacketsUntilUnlocked) {
  ASSERT_OK_AND_ASSIGN(p, ConnectedPair(GetParam()));
  // Another connection between the same hosts, not locked, keeps flowing.
  ASSERT_OK_AND_ASSIGN(other, ConnectedPair(GetParam()));
  ASSERT_OK_AND_ASSIGN(lock, NetworkLock::LockConnections({ServerKey(p)}));
  ASSERT_OK(soccr::loopback::WriteAll(other.client.borrow(), "free"));
  ASSERT_OK_AND_ASSIGN(got,
                       soccr::loopback::ReadExactly(other.server.borrow(), 4));
  EXPECT_EQ(got, "free");
  ExpectHeldThenDelivered(p, std::move(lock));
}

TEST_P(NetworkLockFamilyTest, LetsMarkedPacketsThrough) {
  ASSERT_OK_AND_ASSIGN(p, ConnectedPair(GetParam()));
  const int mark = static_cast<int>(kLockBypassMark);
  ASSERT_EQ(
      ::setsockopt(p.client.get(), SOL_SOCKET, SO_MARK, &mark, sizeof(mark)),
      0);
  ASSERT_OK_AND_ASSIGN(lock, NetworkLock::LockConnections({ServerKey(p)}));
  // The client's segments carry the mark: they reach the server's queue.
  ASSERT_OK(soccr::loopback::WriteAll(p.client.borrow(), "marked"));
  ASSERT_OK(soccr::loopback::WaitInq(p.server.borrow(), 6, absl::Seconds(5)));
  // The server's are not marked: they stay locked (its data does not
  // arrive).
  ASSERT_OK(soccr::loopback::WriteAll(p.server.borrow(), "unmarked"));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(InqLen(p.client.borrow()), 0);
  ASSERT_OK(std::move(lock).Unlock());
  ASSERT_OK(soccr::loopback::WaitInq(p.client.borrow(), 8, absl::Seconds(10)));
}

// A staged lock drops nothing; activated, it is a lock like any other.
TEST_P(NetworkLockFamilyTest, AStagedLockBitesOnlyOnceActivated) {
  ASSERT_OK_AND_ASSIGN(p, ConnectedPair(GetParam()));
  ASSERT_OK_AND_ASSIGN(lock, NetworkLock::StageConnections({ServerKey(p)}));
  EXPECT_FALSE(lock.active());
  ASSERT_OK_AND_ASSIGN(all, NetworkLock::List());
  ASSERT_THAT(all, SizeIs(1));
  EXPECT_EQ(all[0].connections, 1u);
  ASSERT_OK(soccr::loopback::WriteAll(p.client.borrow(), "staged"));
  ASSERT_OK_AND_ASSIGN(got, soccr::loopback::ReadExactly(p.server.borrow(), 6));
  EXPECT_EQ(got, "staged");
  ASSERT_OK(lock.Activate());
  EXPECT_TRUE(lock.active());
  EXPECT_EQ(lock.Activate().code(), absl::StatusCode::kFailedPrecondition);
  ExpectHeldThenDelivered(p, std::move(lock));
  ASSERT_OK_AND_ASSIGN(none, NetworkLock::List());
  EXPECT_THAT(none, IsEmpty());
}

// Dropping a staged lock removes its table too.
TEST_F(NetworkLockTest, DroppingAStagedLockRemovesIt) {
  ASSERT_OK_AND_ASSIGN(p, ConnectedPair(Family::kV4));
  {
    ASSERT_OK_AND_ASSIGN(lock, NetworkLock::StageConnections({ServerKey(p)}));
    ASSERT_OK_AND_ASSIGN(all, NetworkLock::List());
    EXPECT_THAT(all, SizeIs(1));
  }
  ASSERT_OK_AND_ASSIGN(none, NetworkLock::List());
  EXPECT_THAT(none, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Families, NetworkLockFamilyTest,
                         ::testing::Values(Family::kV4, Family::kV6,
                                           Family::kMapped),
                         [](const ::testing::TestParamInfo<Family>& info) {
                           return soccr::loopback::FamilyName(info.param);
                         });

TEST_F(NetworkLockTest, ListsFindsAndUnlocksById) {
  ASSERT_OK_AND_ASSIGN(none, NetworkLock::List());
  EXPECT_THAT(none, IsEmpty());

  ASSERT_OK_AND_ASSIGN(p, ConnectedPair(Family::kV4));
  LockOptions options;
  options.note = "test lock";
  ASSERT_OK_AND_ASSIGN(lock, NetworkLock::LockConnections(
                                 {ServerKey(p), ServerKey(p)}, options));
  const std::string id = std::move(lock).LeaveInPlace();
  ASSERT_OK_AND_ASSIGN(all, NetworkLock::List());
  ASSERT_THAT(all, SizeIs(1));
  EXPECT_EQ(all[0].id, id);
  EXPECT_EQ(all[0].scope, LockScope::kConnections);
  EXPECT_EQ(all[0].connections, 2u);
  EXPECT_EQ(all[0].pid, ::getpid());
  EXPECT_EQ(all[0].note, "test lock");
  EXPECT_LE(absl::Now() - all[0].created, absl::Minutes(1));

  // Still locked after the handle is gone: found again, it unlocks.
  ASSERT_OK_AND_ASSIGN(again, NetworkLock::Find(id));
  ExpectHeldThenDelivered(p, std::move(again));
  ASSERT_OK_AND_ASSIGN(after, NetworkLock::List());
  EXPECT_THAT(after, IsEmpty());
  EXPECT_EQ(NetworkLock::UnlockById(id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(NetworkLock::Find(id).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(NetworkLockTest, DroppingTheHandleUnlocks) {
  ASSERT_OK_AND_ASSIGN(p, ConnectedPair(Family::kV6));
  {
    ASSERT_OK_AND_ASSIGN(lock, NetworkLock::LockConnections({ServerKey(p)}));
    ASSERT_OK_AND_ASSIGN(during, NetworkLock::List());
    EXPECT_THAT(during, SizeIs(1));
  }
  ASSERT_OK_AND_ASSIGN(all, NetworkLock::List());
  EXPECT_THAT(all, IsEmpty());
  ASSERT_OK(soccr::loopback::WriteAll(p.client.borrow(), "flows"));
  ASSERT_OK(soccr::loopback::WaitInq(p.server.borrow(), 5, absl::Seconds(2)));
}

TEST_F(NetworkLockTest, SeveralLocksAreIndependent) {
  ASSERT_OK_AND_ASSIGN(a, ConnectedPair(Family::kV4));
  ASSERT_OK_AND_ASSIGN(b, ConnectedPair(Family::kV4));
  ASSERT_OK_AND_ASSIGN(la, NetworkLock::LockConnections({ServerKey(a)}));
  ASSERT_OK_AND_ASSIGN(lb, NetworkLock::LockConnections({ServerKey(b)}));
  EXPECT_NE(la.id(), lb.id());
  ASSERT_OK(std::move(lb).Unlock());
  // `a` is still locked.
  ExpectHeldThenDelivered(a, std::move(la));
}

TEST_F(NetworkLockTest, NamespaceScopeDropsAllTcpButTheExempt) {
  ASSERT_OK_AND_ASSIGN(locked, ConnectedPair(Family::kV4));
  ASSERT_OK_AND_ASSIGN(exempt, ConnectedPair(Family::kV6));
  LockOptions options;
  options.exempt = {ServerKey(exempt)};
  ASSERT_OK_AND_ASSIGN(lock, NetworkLock::LockNamespace(options));
  EXPECT_EQ(lock.info().scope, LockScope::kNamespace);
  ASSERT_OK(soccr::loopback::WriteAll(exempt.client.borrow(), "exempt"));
  ASSERT_OK_AND_ASSIGN(got,
                       soccr::loopback::ReadExactly(exempt.server.borrow(), 6));
  EXPECT_EQ(got, "exempt");
  // A new connection cannot even be made.
  OwnedFd s(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const SocketAddress to = ServerKey(locked).local;
  ASSERT_NE(::connect(s.get(), to.sockaddr(), to.length()), 0);
  ExpectHeldThenDelivered(locked, std::move(lock));
}

TEST_F(NetworkLockTest, RejectsBadInput) {
  EXPECT_EQ(NetworkLock::LockConnections({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const ConnectionKey mixed = {SocketAddress::Loopback4(1),
                               SocketAddress::Loopback6(2)};
  absl::Status s = NetworkLock::LockConnections({mixed}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("different families"));
  const ConnectionKey mapped_and_not = {SocketAddress::LoopbackMapped(1),
                                        SocketAddress::Loopback6(2)};
  EXPECT_EQ(NetworkLock::LockConnections({mapped_and_not}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const ConnectionKey port0 = {SocketAddress::Loopback4(0),
                               SocketAddress::Loopback4(2)};
  EXPECT_EQ(NetworkLock::LockConnections({port0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NetworkLock::LockConnections({ConnectionKey{}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NetworkLock::Find("../etc").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NetworkLock::UnlockById("0123456789ABCDEF").code(),
            absl::StatusCode::kInvalidArgument);
  LockOptions long_note;
  long_note.note = std::string(65, 'x');
  EXPECT_EQ(NetworkLock::LockNamespace(long_note).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(all, NetworkLock::List());
  EXPECT_THAT(all, IsEmpty());
}

// 10,000 connections (one of them real) in one lock, of each family: the
// v6 one is larger than one netlink batch, so it also covers the staged
// build. Lock and unlock times are printed, not asserted.
class NetworkLockManyTest : public NetworkLockTest,
                            public ::testing::WithParamInterface<Family> {};

TEST_P(NetworkLockManyTest, TenThousandConnections) {
  ASSERT_OK_AND_ASSIGN(p, ConnectedPair(GetParam()));
  const ConnectionKey real = ServerKey(p);
  std::vector<ConnectionKey> keys;
  keys.reserve(10000);
  for (int i = 0; keys.size() < 9999; ++i) {
    ConnectionKey k = real;
    k.peer.set_port(static_cast<uint16_t>(20000 + i % 40000));
    k.local.set_port(static_cast<uint16_t>(1000 + i / 40000));
    if (k.peer == real.peer && k.local == real.local) continue;
    keys.push_back(k);
  }
  keys.insert(keys.begin() + 5000, real);
  const absl::Time t0 = absl::Now();
  ASSERT_OK_AND_ASSIGN(lock, NetworkLock::LockConnections(keys));
  const absl::Duration lock_time = absl::Now() - t0;
  ASSERT_OK_AND_ASSIGN(all, NetworkLock::List());
  ASSERT_THAT(all, SizeIs(1));
  EXPECT_EQ(all[0].connections, 10000u);

  ASSERT_OK(soccr::loopback::WriteAll(p.client.borrow(), "x"));
  absl::SleepFor(absl::Milliseconds(250));
  EXPECT_EQ(InqLen(p.server.borrow()), 0);
  const absl::Time t1 = absl::Now();
  ASSERT_OK(std::move(lock).Unlock());
  const absl::Duration unlock_time = absl::Now() - t1;
  printf("10000 %s connections: lock %.2f ms, unlock %.2f ms\n",
         soccr::loopback::FamilyName(GetParam()).c_str(),
         absl::ToDoubleMilliseconds(lock_time),
         absl::ToDoubleMilliseconds(unlock_time));
  ASSERT_OK(soccr::loopback::WaitInq(p.server.borrow(), 1, absl::Seconds(10)));

  // Staged, the same lock bites in one small transaction.
  const absl::Time t2 = absl::Now();
  ASSERT_OK_AND_ASSIGN(staged, NetworkLock::StageConnections(keys));
  const absl::Time t3 = absl::Now();
  ASSERT_OK(staged.Activate());
  const absl::Time t4 = absl::Now();
  ASSERT_OK(soccr::loopback::WriteAll(p.client.borrow(), "y"));
  absl::SleepFor(absl::Milliseconds(250));
  EXPECT_EQ(InqLen(p.server.borrow()), 1) << "the staged lock let y through";
  ASSERT_OK(std::move(staged).Unlock());
  printf("10000 %s connections staged: stage %.2f ms, activate %.2f ms\n",
         soccr::loopback::FamilyName(GetParam()).c_str(),
         absl::ToDoubleMilliseconds(t3 - t2),
         absl::ToDoubleMilliseconds(t4 - t3));
  ASSERT_OK(soccr::loopback::WaitInq(p.server.borrow(), 2, absl::Seconds(10)));
}

INSTANTIATE_TEST_SUITE_P(Families, NetworkLockManyTest,
                         ::testing::Values(Family::kV4, Family::kV6),
                         [](const ::testing::TestParamInfo<Family>& info) {
                           return soccr::loopback::FamilyName(info.param);
                         });

}  // namespace
}  // namespace soccr
