#include "soccr/address.h"

#include <arpa/inet.h>

#include "gtest/gtest.h"

namespace soccr {
namespace {

TEST(SocketAddressTest, ParsesAndPrintsIpv4) {
  absl::StatusOr<SocketAddress> a = SocketAddress::Parse("10.0.0.1:80");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->port(), 80);
  EXPECT_EQ(a->ToString(), "10.0.0.1:80");
  EXPECT_EQ(*a, SocketAddress::V4(0x0a000001, 80));
}

TEST(SocketAddressTest, ParsesAndPrintsIpv6AndMapped) {
  absl::StatusOr<SocketAddress> a = SocketAddress::Parse("[::1]:4242");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_FALSE(a->is_v4_mapped());
  EXPECT_EQ(a->ToString(), "[::1]:4242");
  EXPECT_EQ(*a, SocketAddress::Loopback6(4242));

  absl::StatusOr<SocketAddress> m =
      SocketAddress::Parse("[::ffff:127.0.0.1]:7");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->is_v4_mapped());
  EXPECT_EQ(*m, SocketAddress::LoopbackMapped(7));
  EXPECT_EQ(m->ToString(), "[::ffff:127.0.0.1]:7");
}

TEST(SocketAddressTest, RejectsGarbage) {
  for (const char* bad : {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "[::1]",
                          "[::1]:x", "[zz]:1", "300.1.1.1:1", "[::1:80"}) {
    EXPECT_EQ(SocketAddress::Parse(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(SocketAddressTest, FromSockaddrChecksLengthAndFamily) {
  struct sockaddr_in sin = {};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(9);
  EXPECT_TRUE(SocketAddress::FromSockaddr(
                  reinterpret_cast<struct sockaddr*>(&sin), sizeof(sin))
                  .ok());
  EXPECT_EQ(SocketAddress::FromSockaddr(
                reinterpret_cast<struct sockaddr*>(&sin), sizeof(sin) - 1)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  sin.sin_family = AF_UNIX;
  EXPECT_EQ(SocketAddress::FromSockaddr(
                reinterpret_cast<struct sockaddr*>(&sin), sizeof(sin))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SocketAddress::FromSockaddr(nullptr, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SocketAddressTest, EmptyAddress) {
  SocketAddress a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.length(), 0u);
  EXPECT_EQ(a.ToString(), "(none)");
}

}  // namespace
}  // namespace soccr
