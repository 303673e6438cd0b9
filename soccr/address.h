// soccr/address.h: an IPv4 or IPv6 socket address as a value.
//
//   SocketAddress a = SocketAddress::V4(0x7f000001, 8080);  // 127.0.0.1:8080
//   SocketAddress b = SocketAddress::Loopback6(4242);        // [::1]:4242
//   absl::StatusOr<SocketAddress> c =
//       SocketAddress::Parse("[::ffff:10.0.0.1]:80");
//   ::connect(fd, a.sockaddr(), a.length());
//
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) stay AF_INET6: that is the
// family of the socket that used them, and a restore must recreate it so.

#ifndef SOCCR_ADDRESS_H_
#define SOCCR_ADDRESS_H_

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace soccr {

// SocketAddress holds an AF_INET or AF_INET6 address with its port (and, for
// IPv6, flow info and scope id). A default-constructed one is empty
// (AF_UNSPEC). Comparable and cheap to copy.
class SocketAddress {
 public:
  SocketAddress() = default;

  // 127.0.0.1 / ::1 / ::ffff:127.0.0.1 with `port`.
  static SocketAddress Loopback4(uint16_t port);
  static SocketAddress Loopback6(uint16_t port);
  static SocketAddress LoopbackMapped(uint16_t port);
  // `host_order_addr` is the IPv4 address in host byte order.
  static SocketAddress V4(uint32_t host_order_addr, uint16_t port);
  // `addr` holds the 16 address bytes in network order.
  static SocketAddress V6(absl::Span<const uint8_t> addr, uint16_t port,
                          uint32_t flowinfo = 0, uint32_t scope_id = 0);

  // Parses "a.b.c.d:port" or "[v6]:port". InvalidArgument on anything else.
  [[nodiscard]] static absl::StatusOr<SocketAddress> Parse(
      absl::string_view text);

  // Copies a kernel sockaddr. InvalidArgument if `len` is too short for its
  // family or the family is neither AF_INET nor AF_INET6.
  [[nodiscard]] static absl::StatusOr<SocketAddress> FromSockaddr(
      const struct sockaddr* sa, socklen_t len);

  // AF_INET, AF_INET6 or AF_UNSPEC (empty).
  sa_family_t family() const { return storage_.ss_family; }
  bool empty() const { return family() == AF_UNSPEC; }
  // An AF_INET6 address of the form ::ffff:a.b.c.d.
  bool is_v4_mapped() const;
  uint16_t port() const;
  void set_port(uint16_t port);

  // For passing to the kernel.
  const struct sockaddr* sockaddr() const {
    return reinterpret_cast<const struct sockaddr*>(&storage_);
  }
  socklen_t length() const;
  const struct sockaddr_in& v4() const {
    return *reinterpret_cast<const struct sockaddr_in*>(&storage_);
  }
  const struct sockaddr_in6& v6() const {
    return *reinterpret_cast<const struct sockaddr_in6*>(&storage_);
  }

  // "10.0.0.1:80", "[::1]:4242", "[::ffff:10.0.0.1]:80", "(none)".
  std::string ToString() const;

  friend bool operator==(const SocketAddress& a, const SocketAddress& b);
  friend bool operator!=(const SocketAddress& a, const SocketAddress& b) {
    return !(a == b);
  }

 private:
  struct sockaddr_storage storage_ = {};
};

}  // namespace soccr

#endif  // SOCCR_ADDRESS_H_
