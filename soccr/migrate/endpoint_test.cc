// The unix control connection's peer check, both ways: the receiver checks
// who connected, the sender who listens. Every process here is one user
// (the test's own user namespace maps one uid), so "another user" is a
// policy that asks for a uid this process does not have; the credentials
// themselves are the kernel's (SO_PEERCRED).

#include "soccr/migrate/endpoint.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/fd.h"
#include "soccr/testing/status_macros.h"

namespace soccr::migrate {
namespace {

using ::testing::HasSubstr;

// A short path (TEST_TMPDIR is longer than a unix socket address holds),
// in a directory removed with its sockets when the test exits.
struct SocketDir {
  SocketDir() {
    char t[] = "/tmp/soccr-endpoint.XXXXXX";
    if (::mkdtemp(t) != nullptr) path = t;
  }
  ~SocketDir() {
    for (const std::string& f : files) ::unlink(f.c_str());
    if (!path.empty()) ::rmdir(path.c_str());
  }
  std::string path;
  std::vector<std::string> files;
};

std::string SocketPath() {
  static SocketDir dir;
  std::string p = absl::StrCat(dir.path.empty() ? "/tmp" : dir.path,
                               "/control-", dir.files.size());
  dir.files.push_back(p);
  return p;
}

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

// No uid this process has, and root not allowed: what a process of
// another user looks like to the check.
PeerPolicy SomeoneElse() {
  PeerPolicy p;
  p.uid = ::getuid() + 4242;
  p.root = false;
  return p;
}

TEST(CheckCredentialsTest, OnlyThisUserOrRoot) {
  const PeerPolicy ours;
  EXPECT_OK(CheckCredentials({1, ::getuid(), 0}, ours, "sender"));
  EXPECT_OK(CheckCredentials({1, 0, 0}, ours, "sender"));
  const absl::Status other =
      CheckCredentials({77, ::getuid() + 1, 0}, ours, "sender");
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(
      other.message(),
      HasSubstr(absl::StrCat("the sender (pid 77, uid ", ::getuid() + 1, ")")));
  PeerPolicy any;
  any.any = true;
  EXPECT_OK(CheckCredentials({77, ::getuid() + 1, 0}, any, "sender"));
}

TEST(UnixPeerTest, TheReceiverAcceptsItsOwnUser) {
  ASSERT_OK_AND_ASSIGN(e, ParseEndpoint(absl::StrCat("unix:", SocketPath())));
  ASSERT_OK_AND_ASSIGN(l, Listen(e));
  ASSERT_OK_AND_ASSIGN(c, Connect(e, Soon()));
  ASSERT_OK_AND_ASSIGN(a, Accept(l.borrow(), Soon(), PeerPolicy{}));
  EXPECT_TRUE(a);
}

TEST(UnixPeerTest, TheReceiverRefusesAnotherUsersSender) {
  ASSERT_OK_AND_ASSIGN(e, ParseEndpoint(absl::StrCat("unix:", SocketPath())));
  ASSERT_OK_AND_ASSIGN(l, Listen(e));
  ASSERT_OK_AND_ASSIGN(c, Connect(e, Soon()));
  absl::StatusOr<OwnedFd> a = Accept(l.borrow(), Soon(), SomeoneElse());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(a.status().message(),
              HasSubstr(absl::StrCat("accept: the sender (pid ", ::getpid(),
                                     ", uid ", ::getuid(), ")")));
}

TEST(UnixPeerTest, TheSenderRefusesAnotherUsersReceiver) {
  ASSERT_OK_AND_ASSIGN(e, ParseEndpoint(absl::StrCat("unix:", SocketPath())));
  ASSERT_OK_AND_ASSIGN(l, Listen(e));
  absl::StatusOr<OwnedFd> c = Connect(e, Soon(), SomeoneElse());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(c.status().message(), HasSubstr("the receiver (pid "));
  EXPECT_THAT(c.status().message(), HasSubstr("connect to unix:"));
}

// TCP carries no credentials: no check, whatever the policy.
TEST(UnixPeerTest, TcpIsNotChecked) {
  ASSERT_OK_AND_ASSIGN(e, ParseEndpoint("127.0.0.1:0"));
  ASSERT_OK_AND_ASSIGN(l, Listen(e));
  sockaddr_storage a = {};
  socklen_t len = sizeof(a);
  ASSERT_EQ(::getsockname(l.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
  ASSERT_OK_AND_ASSIGN(
      bound, SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&a), len));
  Endpoint to;
  to.tcp = bound;
  ASSERT_OK_AND_ASSIGN(c, Connect(to, Soon(), SomeoneElse()));
  ASSERT_OK_AND_ASSIGN(s, Accept(l.borrow(), Soon(), SomeoneElse()));
  EXPECT_TRUE(s);
}

}  // namespace
}  // namespace soccr::migrate
