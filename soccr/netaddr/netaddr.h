// soccr/netaddr/netaddr.h: moving an IP address between hosts, the last
// step of a live migration: the source releases the connections' address,
// the destination takes it and tells its neighbours.
//
//   absl::StatusOr<soccr::InterfaceAddress> a =
//       soccr::InterfaceAddress::Parse("192.0.2.100/24");
//   absl::Status s = soccr::ReleaseAddress(*a, "eth0");   // on the source
//   s = soccr::TakeAddress(*a, "eth0");                   // on the destination
//
// Addresses are added and removed through rtnetlink (RTM_NEWADDR,
// RTM_DELADDR, with libmnl), never by running `ip`. Taking an address also
// announces it: a gratuitous ARP (an ARP request whose sender and target
// are the address, RFC 5227's announcement) for IPv4, an unsolicited
// neighbour advertisement with the Override flag to all nodes (RFC 4861
// 7.2.6) for IPv6. Neighbours that had the address cached with the
// source's link-layer address update it at once (Linux does so even with
// arp_accept=0, which only stops new entries). IPv6 addresses are added
// without duplicate address detection (IFA_F_NODAD): the address is known
// to be free (the source has just released it) and must be usable at once,
// not tentative for a second.
//
// All of it acts on the current network namespace and needs CAP_NET_ADMIN
// over it (and CAP_NET_RAW for the announcement). Errors: InvalidArgument
// for a malformed address; NotFound for an unknown device, or (removal)
// an address the device does not have; AlreadyExists when adding one it
// has; PermissionDenied without the capabilities; otherwise the kernel's
// errno, with the call.

#ifndef SOCCR_NETADDR_NETADDR_H_
#define SOCCR_NETADDR_NETADDR_H_

#include <stdint.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "soccr/address.h"

namespace soccr {

// An address with its prefix length, as on an interface: 192.0.2.100/24.
struct InterfaceAddress {
  SocketAddress ip;  // AF_INET or AF_INET6 (not mapped); port 0
  uint8_t prefix_len = 0;

  // "192.0.2.100/24", "2001:db8::100/64"; without "/N", a host prefix
  // (/32, /128). InvalidArgument otherwise.
  [[nodiscard]] static absl::StatusOr<InterfaceAddress> Parse(
      absl::string_view text);
  // As Parse() reads it.
  std::string ToString() const;
};

// Adds `address` to device `dev` (RTM_NEWADDR, NLM_F_EXCL).
[[nodiscard]] absl::Status AddAddress(const InterfaceAddress& address,
                                      absl::string_view dev);

// Removes `address` from `dev` (RTM_DELADDR). Sockets bound to it keep
// existing, but can no longer send.
[[nodiscard]] absl::Status RemoveAddress(const InterfaceAddress& address,
                                         absl::string_view dev);

// Tells the neighbours on `dev`'s link that `address` is now at `dev`'s
// link-layer address: a gratuitous ARP or an unsolicited neighbour
// advertisement, `count` times. Returns once they are sent; the ARP's
// packet socket is closed on a short-lived thread of its own, since its
// close waits for an RCU grace period.
[[nodiscard]] absl::Status AnnounceAddress(const InterfaceAddress& address,
                                           absl::string_view dev,
                                           int count = 1);

// AddAddress, then AnnounceAddress. If the announcement fails the address
// is removed again.
[[nodiscard]] absl::Status TakeAddress(const InterfaceAddress& address,
                                       absl::string_view dev);

// RemoveAddress.
[[nodiscard]] absl::Status ReleaseAddress(const InterfaceAddress& address,
                                          absl::string_view dev);

}  // namespace soccr

#endif  // SOCCR_NETADDR_NETADDR_H_
