#include "soccr/address.h"

#include <arpa/inet.h>
#include <string.h>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace soccr {
namespace {

bool ParsePort(absl::string_view text, uint16_t* port) {
  uint32_t value = 0;
  if (text.empty() || !absl::SimpleAtoi(text, &value) || value > 65535) {
    return false;
  }
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

SocketAddress SocketAddress::V4(uint32_t host_order_addr, uint16_t port) {
  SocketAddress a;
  auto* sin = reinterpret_cast<struct sockaddr_in*>(&a.storage_);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  sin->sin_addr.s_addr = htonl(host_order_addr);
  return a;
}

SocketAddress SocketAddress::V6(absl::Span<const uint8_t> addr, uint16_t port,
                                uint32_t flowinfo, uint32_t scope_id) {
  SocketAddress a;
  auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(&a.storage_);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  sin6->sin6_flowinfo = flowinfo;
  sin6->sin6_scope_id = scope_id;
  memcpy(&sin6->sin6_addr, addr.data(),
         addr.size() < 16 ? addr.size() : size_t{16});
  return a;
}

SocketAddress SocketAddress::Loopback4(uint16_t port) {
  return V4(INADDR_LOOPBACK, port);
}

SocketAddress SocketAddress::Loopback6(uint16_t port) {
  static constexpr uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                            0, 0, 0, 0, 0, 0, 0, 1};
  return V6(kLoopback, port);
}

SocketAddress SocketAddress::LoopbackMapped(uint16_t port) {
  static constexpr uint8_t kMapped[16] = {0, 0, 0,    0,    0,   0, 0, 0,
                                          0, 0, 0xff, 0xff, 127, 0, 0, 1};
  return V6(kMapped, port);
}

absl::StatusOr<SocketAddress> SocketAddress::Parse(absl::string_view text) {
  SocketAddress a;
  uint16_t port = 0;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':' || !ParsePort(text.substr(close + 2), &port)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad IPv6 address \"", text, "\": want [addr]:port"));
    }
    const std::string host(text.substr(1, close - 1));
    auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(&a.storage_);
    if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad IPv6 address \"", host, "\""));
    }
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    return a;
  }
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos ||
      !ParsePort(text.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad IPv4 address \"", text, "\": want a.b.c.d:port"));
  }
  const std::string host(text.substr(0, colon));
  auto* sin = reinterpret_cast<struct sockaddr_in*>(&a.storage_);
  if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad IPv4 address \"", host, "\""));
  }
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  return a;
}

absl::StatusOr<SocketAddress> SocketAddress::FromSockaddr(
    const struct sockaddr* sa, socklen_t len) {
  if (sa == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t))) {
    return absl::InvalidArgumentError("socket address is missing");
  }
  SocketAddress a;
  switch (sa->sa_family) {
    case AF_INET:
      if (len < static_cast<socklen_t>(sizeof(struct sockaddr_in))) {
        return absl::InvalidArgumentError(
            absl::StrCat("AF_INET socket address of ", len, " bytes, want ",
                         sizeof(struct sockaddr_in)));
      }
      memcpy(&a.storage_, sa, sizeof(struct sockaddr_in));
      return a;
    case AF_INET6:
      if (len < static_cast<socklen_t>(sizeof(struct sockaddr_in6))) {
        return absl::InvalidArgumentError(
            absl::StrCat("AF_INET6 socket address of ", len, " bytes, want ",
                         sizeof(struct sockaddr_in6)));
      }
      memcpy(&a.storage_, sa, sizeof(struct sockaddr_in6));
      return a;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("socket address family ", sa->sa_family,
                       " is neither AF_INET nor AF_INET6"));
  }
}

bool SocketAddress::is_v4_mapped() const {
  return family() == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&v6().sin6_addr);
}

uint16_t SocketAddress::port() const {
  switch (family()) {
    case AF_INET:
      return ntohs(v4().sin_port);
    case AF_INET6:
      return ntohs(v6().sin6_port);
    default:
      return 0;
  }
}

void SocketAddress::set_port(uint16_t port) {
  if (family() == AF_INET) {
    reinterpret_cast<struct sockaddr_in*>(&storage_)->sin_port = htons(port);
  } else if (family() == AF_INET6) {
    reinterpret_cast<struct sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  }
}

socklen_t SocketAddress::length() const {
  switch (family()) {
    case AF_INET:
      return sizeof(struct sockaddr_in);
    case AF_INET6:
      return sizeof(struct sockaddr_in6);
    default:
      return 0;
  }
}

std::string SocketAddress::ToString() const {
  char host[INET6_ADDRSTRLEN] = {};
  switch (family()) {
    case AF_INET:
      inet_ntop(AF_INET, &v4().sin_addr, host, sizeof(host));
      return absl::StrCat(host, ":", port());
    case AF_INET6:
      inet_ntop(AF_INET6, &v6().sin6_addr, host, sizeof(host));
      if (v6().sin6_scope_id != 0) {
        return absl::StrCat("[", host, "%", v6().sin6_scope_id, "]:", port());
      }
      return absl::StrCat("[", host, "]:", port());
    default:
      return "(none)";
  }
}

bool operator==(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family()) return false;
  switch (a.family()) {
    case AF_INET:
      return a.v4().sin_port == b.v4().sin_port &&
             a.v4().sin_addr.s_addr == b.v4().sin_addr.s_addr;
    case AF_INET6:
      return a.v6().sin6_port == b.v6().sin6_port &&
             a.v6().sin6_flowinfo == b.v6().sin6_flowinfo &&
             a.v6().sin6_scope_id == b.v6().sin6_scope_id &&
             memcmp(&a.v6().sin6_addr, &b.v6().sin6_addr, 16) == 0;
    default:
      return true;
  }
}

}  // namespace soccr
