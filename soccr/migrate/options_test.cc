// soccr::Send and soccr::Receive carry every socket option of the option
// table (soccr/socket_options.h): after a move between two lab hosts
// (network namespaces on a bridge, documentation addresses), each restored
// connection reads, option by option, what the original read before the
// move, whether its options were set by the application or left to the
// kernel's defaults (which a receiver does not set again when a fresh
// socket has them already), and its linger setting is its own again once
// the move is done.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/migrate/migrate.h"
#include "soccr/socket_options.h"
#include "soccr/testing/lab.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::testing::Host;
using ::soccr::testing::HostScope;
using ::soccr::testing::Lab;

// Every option of the table that applies to `family`, as the kernel
// reports it on `fd` (ENOPROTOOPT: absent on this kernel).
std::vector<std::pair<std::string, std::string>> Options(int fd, int family) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const SockOptSpec& spec : SocketOptionTable()) {
    if (!SocketOptionApplies(spec, family)) continue;
    std::string value(spec.max_size, '\0');
    socklen_t len = value.size();
    if (::getsockopt(fd, spec.level, spec.name, value.data(), &len) != 0) {
      out.push_back({std::string(spec.label), absl::StrCat("errno ", errno)});
      continue;
    }
    value.resize(len);
    if (spec.kind == SockOptKind::kString) {
      value.resize(strnlen(value.data(), value.size()));
    }
    out.push_back(
        {std::string(spec.label),
         SocketOptionToString({spec.level, spec.name, std::move(value)})});
  }
  return out;
}

void SetInt(int fd, int level, int name, int v) {
  ASSERT_EQ(::setsockopt(fd, level, name, &v, sizeof(v)), 0)
      << name << ": " << strerror(errno);
}

class OptionsTest : public soccr::testing::NetnsTest,
                    public ::testing::WithParamInterface<bool> {};

TEST_P(OptionsTest, EveryOptionReadsAsBeforeTheMove) {
  const bool v6 = GetParam();
  const int family = v6 ? AF_INET6 : AF_INET;
  ASSERT_OK_AND_ASSIGN(lab, Lab::Create());
  const std::string moved = v6 ? "2001:db8::100/64" : "192.0.2.100/24";
  ASSERT_OK_AND_ASSIGN(
      src, lab.AddHost("src", {v6 ? "2001:db8::1/64" : "192.0.2.1/24",
                               v6 ? moved + " preferred_lft 0" : moved}));
  ASSERT_OK_AND_ASSIGN(
      dst, lab.AddHost("dst", {v6 ? "2001:db8::2/64" : "192.0.2.2/24"}));
  ASSERT_OK_AND_ASSIGN(
      peer, lab.AddHost("peer", {v6 ? "2001:db8::10/64" : "192.0.2.10/24"}));
  ASSERT_OK_AND_ASSIGN(service, SocketAddress::Parse(v6 ? "[2001:db8::100]:8000"
                                                        : "192.0.2.100:8000"));
  ASSERT_OK_AND_ASSIGN(take, InterfaceAddress::Parse(moved));
  const std::string listen = v6 ? "[2001:db8::2]:7000" : "192.0.2.2:7000";

  // Three connections: one left as the kernel made it, two with options
  // of their own (the second with the values the first has by default, set
  // explicitly).
  OwnedFd listener;
  {
    HostScope in(*src);
    ASSERT_TRUE(in.ok());
    listener.reset(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(listener.get(), service.sockaddr(), service.length()), 0)
        << strerror(errno);
    ASSERT_EQ(::listen(listener.get(), 16), 0);
  }
  std::vector<OwnedFd> peers, app;
  {
    HostScope in(*peer);
    ASSERT_TRUE(in.ok());
    for (int i = 0; i < 3; ++i) {
      OwnedFd s(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
      ASSERT_EQ(::connect(s.get(), service.sockaddr(), service.length()), 0)
          << strerror(errno);
      peers.push_back(std::move(s));
      app.emplace_back(
          ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      ASSERT_TRUE(app.back());
    }
  }
  const int own = app[1].get();
  SetInt(own, SOL_TCP, TCP_KEEPIDLE, 77);
  SetInt(own, SOL_TCP, TCP_KEEPCNT, 3);
  SetInt(own, SOL_TCP, TCP_NODELAY, 1);
  SetInt(own, SOL_SOCKET, SO_KEEPALIVE, 1);
  SetInt(own, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, 17);
  const struct linger linger5 = {1, 5};
  ASSERT_EQ(::setsockopt(own, SOL_SOCKET, SO_LINGER, &linger5, sizeof(linger5)),
            0);
  int keepidle = 0;
  socklen_t len = sizeof(keepidle);
  ASSERT_EQ(::getsockopt(app[0].get(), SOL_TCP, TCP_KEEPIDLE, &keepidle, &len),
            0);
  SetInt(app[2].get(), SOL_TCP, TCP_KEEPIDLE, keepidle);
  std::vector<std::vector<std::pair<std::string, std::string>>> before;
  for (const OwnedFd& a : app) before.push_back(Options(a.get(), family));

  std::optional<absl::StatusOr<ReceiveResult>> received;
  std::thread receiver([&] {
    HostScope in(*dst);
    ReceiveOptions r;
    r.listen = listen;
    r.take_address = take;
    r.dev = "eth0";
    r.timeout = absl::Seconds(30);
    received.emplace(Receive(r));
  });
  absl::StatusOr<SendReport> sent;
  {
    HostScope in(*src);
    SendOptions s;
    s.pid = ::getpid();
    for (const OwnedFd& a : app) s.fds.push_back(a.get());
    s.to = listen;
    s.release_address = take;
    s.dev = "eth0";
    s.timeout = absl::Seconds(30);
    sent = Send(s);
  }
  receiver.join();
  ASSERT_OK(sent.status());
  ASSERT_OK(received->status());
  ASSERT_EQ((*received)->connections.size(), app.size());
  for (size_t i = 0; i < app.size(); ++i) {
    EXPECT_EQ(Options((*received)->connections[i].get(), family), before[i])
        << "connection " << i;
  }
  // And they work: a byte each way.
  for (size_t i = 0; i < app.size(); ++i) {
    const int moved_fd = (*received)->connections[i].get();
    ASSERT_EQ(::send(moved_fd, "x", 1, MSG_NOSIGNAL), 1);
    char c = 0;
    ASSERT_EQ(::recv(peers[i].get(), &c, 1, 0), 1);
    ASSERT_EQ(::send(peers[i].get(), "y", 1, MSG_NOSIGNAL), 1);
    ASSERT_EQ(::recv(moved_fd, &c, 1, 0), 1);
    EXPECT_EQ(c, 'y');
  }
}

INSTANTIATE_TEST_SUITE_P(Families, OptionsTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "v6" : "v4";
                         });

}  // namespace
}  // namespace soccr
