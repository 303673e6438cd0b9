// Address takeover between two hosts of a lab (network namespaces on a
// bridge): the address moves, and a neighbour that had it cached at the
// old link-layer address learns the new one from the announcement.

#include "soccr/netaddr/netaddr.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/fd.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/testing/lab.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::testing::Host;
using ::soccr::testing::HostScope;
using ::soccr::testing::Lab;
using ::soccr::testing::RunCommand;
using ::testing::HasSubstr;
using ::testing::Not;

class NetaddrTest : public soccr::testing::NetnsTest {};

// (Not from /sys: it shows the devices of the namespace it was mounted in.)
std::string Mac(const Host& h) {
  std::string out;
  (void)h.Run({"ip", "-o", "link", "show", "eth0"}, &out);
  const size_t at = out.find("link/ether ");
  return at == std::string::npos ? "?" : out.substr(at + 11, 17);
}

std::string Neigh(const Host& h, const std::string& ip) {
  std::string out;
  (void)h.Run({"ip", "neigh", "show", ip, "dev", "eth0"}, &out);
  return out;
}

std::string Addrs(const Host& h) {
  std::string out;
  (void)h.Run({"ip", "addr", "show", "dev", "eth0"}, &out);
  return out;
}

struct Family {
  const char* moved;  // the address that moves, with prefix
  const char* ip;     // the same without
  const char* a;      // host a's own address
  const char* peer;   // the peer's
};

class NetaddrFamilyTest : public NetaddrTest,
                          public ::testing::WithParamInterface<Family> {};

TEST_P(NetaddrFamilyTest, MovesTheAddressAndTellsTheNeighbours) {
  const Family f = GetParam();
  ASSERT_OK_AND_ASSIGN(lab, Lab::Create());
  ASSERT_OK_AND_ASSIGN(src, lab.AddHost("src", {f.a}));
  ASSERT_OK_AND_ASSIGN(dst, lab.AddHost("dst", {}));
  ASSERT_OK_AND_ASSIGN(peer, lab.AddHost("peer", {f.peer}));
  ASSERT_OK_AND_ASSIGN(moved, InterfaceAddress::Parse(f.moved));
  EXPECT_EQ(moved.ToString(), f.moved);

  {
    HostScope in(*src);
    ASSERT_TRUE(in.ok());
    ASSERT_OK(TakeAddress(moved, "eth0"));
  }
  EXPECT_THAT(Addrs(*src), HasSubstr(f.moved));
  // The peer learns src's link-layer address for it (the announcement
  // creates no entry with arp_accept=0, so make one by talking first).
  ASSERT_OK(peer->Run(
      {"python3", "-c",
       absl::StrCat("import socket; s = socket.socket(socket.AF_INET",
                    moved.ip.family() == AF_INET ? "" : "6",
                    "); s.settimeout(2); s.connect_ex(('", f.ip, "', 9))")}));
  EXPECT_THAT(Neigh(*peer, f.ip), HasSubstr(Mac(*src)));

  {
    HostScope in(*src);
    ASSERT_OK(ReleaseAddress(moved, "eth0"));
  }
  EXPECT_THAT(Addrs(*src), Not(HasSubstr(f.moved)));
  {
    HostScope in(*dst);
    ASSERT_OK(TakeAddress(moved, "eth0"));
  }
  EXPECT_THAT(Addrs(*dst), HasSubstr(f.moved));
  // The peer's cached entry now points at dst, without it asking.
  absl::Time deadline = absl::Now() + absl::Seconds(2);
  while (!absl::StrContains(Neigh(*peer, f.ip), Mac(*dst)) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_THAT(Neigh(*peer, f.ip), HasSubstr(Mac(*dst)));
  // And a TCP connection to the address reaches dst at once.
  OwnedFd listener;
  {
    HostScope in(*dst);
    ASSERT_OK_AND_ASSIGN(
        addr, SocketAddress::Parse(absl::StrCat(
                  moved.ip.family() == AF_INET ? "" : "[", f.ip,
                  moved.ip.family() == AF_INET ? "" : "]", ":7000")));
    listener.reset(::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(listener.get(), addr.sockaddr(), addr.length()), 0);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
  }
  ASSERT_OK(peer->Run({"python3", "-c",
                       absl::StrCat("import socket; socket.create_connection(("
                                    "'",
                                    f.ip, "', 7000), timeout=2)")}));
}

INSTANTIATE_TEST_SUITE_P(
    Families, NetaddrFamilyTest,
    ::testing::Values(Family{"192.0.2.100/24", "192.0.2.100", "192.0.2.1/24",
                             "192.0.2.10/24"},
                      Family{"2001:db8::100/64", "2001:db8::100",
                             "2001:db8::1/64", "2001:db8::10/64"}),
    [](const ::testing::TestParamInfo<Family>& info) {
      return info.index == 0 ? std::string("v4") : std::string("v6");
    });

TEST_F(NetaddrTest, Errors) {
  ASSERT_OK_AND_ASSIGN(a, InterfaceAddress::Parse("192.0.2.100/24"));
  ASSERT_OK(RunCommand(
      {"ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1"}));
  ASSERT_OK(RunCommand({"ip", "link", "set", "d0", "up"}));
  ASSERT_OK(AddAddress(a, "d0"));
  EXPECT_EQ(AddAddress(a, "d0").code(), absl::StatusCode::kAlreadyExists);
  ASSERT_OK(RemoveAddress(a, "d0"));
  absl::Status s = RemoveAddress(a, "d0");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("remove address 192.0.2.100/24 from d0"));
  EXPECT_EQ(TakeAddress(a, "nosuch0").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(AnnounceAddress(a, "lo").code(),
            absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(InterfaceAddress::Parse("192.0.2.1/33").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InterfaceAddress::Parse("::ffff:192.0.2.1/96").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InterfaceAddress::Parse("host/24").status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(host, InterfaceAddress::Parse("2001:db8::7"));
  EXPECT_EQ(host.ToString(), "2001:db8::7/128");
}

}  // namespace
}  // namespace soccr
