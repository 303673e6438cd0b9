#include "soccr/netaddr/netaddr.h"

#include "soccr/internal/status_code.h"

// <net/if.h> before any Linux uapi header: it makes them leave out their
// own copies of its definitions.
#include <net/if.h>
// clang-format off
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
// clang-format on
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "soccr/fd.h"
#include "soccr/netaddr/rtnetlink.h"
#include "soccr/status_macros.h"

namespace soccr {
namespace {

absl::Status CallError(int err, absl::string_view what) {
  return internal::ErrnoStatus(err, what);
}

absl::StatusOr<unsigned> IfIndex(absl::string_view dev) {
  const std::string name(dev);
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) {
    return absl::NotFoundError(absl::StrCat("device ", name,
                                            ": no such device in this network "
                                            "namespace (if_nametoindex)"));
  }
  return index;
}

// Closing a packet socket waits for an RCU grace period (packet_release's
// synchronize_net: 13-15 ms measured here), which would land inside a
// migration's downtime: the announcement is sent at once and the socket
// closed on a thread of its own.
void CloseLater(OwnedFd fd) {
  std::thread([fd = std::move(fd)]() mutable { fd.reset(); }).detach();
}

bool IsV4(const InterfaceAddress& a) { return a.ip.family() == AF_INET; }

const void* RawAddress(const InterfaceAddress& a) {
  return IsV4(a) ? static_cast<const void*>(&a.ip.v4().sin_addr)
                 : static_cast<const void*>(&a.ip.v6().sin6_addr);
}

std::string IpText(const SocketAddress& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ip.family() == AF_INET) {
    ::inet_ntop(AF_INET, &ip.v4().sin_addr, buf, sizeof(buf));
  } else {
    ::inet_ntop(AF_INET6, &ip.v6().sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

// One RTM_NEWADDR or RTM_DELADDR, with its acknowledgement.
absl::Status AddressRequest(uint16_t type, uint16_t flags,
                            const InterfaceAddress& a, absl::string_view dev,
                            absl::string_view what) {
  absl::StatusOr<unsigned> index = IfIndex(dev);
  if (!index.ok()) return index.status();
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = rtnetlink::PutHeader(buf, type, flags);
  auto* ifa = static_cast<ifaddrmsg*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = static_cast<uint8_t>(a.ip.family());
  ifa->ifa_prefixlen = a.prefix_len;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = *index;
  const size_t len = IsV4(a) ? 4 : 16;
  mnl_attr_put(nlh, IFA_LOCAL, len, RawAddress(a));
  mnl_attr_put(nlh, IFA_ADDRESS, len, RawAddress(a));
  if (type == RTM_NEWADDR && !IsV4(a)) {
    mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
  }
  const rtnetlink::Outcome outcome = rtnetlink::Request(nlh);
  if (outcome.err != 0 && *outcome.step == '\0') {
    // The kernel refused the request.
    const int err = outcome.err;
    if (err == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat(what, ": the device has the address already"));
    }
    if (err == EADDRNOTAVAIL && type == RTM_DELADDR) {
      return absl::NotFoundError(
          absl::StrCat(what, ": the device does not have the address"));
    }
  }
  return rtnetlink::ToStatus(outcome, what);
}

absl::StatusOr<std::string> HardwareAddress(absl::string_view dev) {
  OwnedFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return CallError(errno, "socket for SIOCGIFHWADDR");
  struct ifreq ifr = {};
  const std::string name(dev);
  // A longer name names no device (the kernel's limit): IfIndex has
  // refused it already; copy at most what fits, NUL-terminated.
  memcpy(ifr.ifr_name, name.data(),
         std::min<size_t>(name.size(), IFNAMSIZ - 1));
  if (::ioctl(s.get(), SIOCGIFHWADDR, &ifr) != 0) {
    return CallError(errno, absl::StrCat("ioctl(SIOCGIFHWADDR, ", name, ")"));
  }
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    return absl::FailedPreconditionError(absl::StrCat(
        "device ", name, " is not Ethernet-like: nothing to announce on"));
  }
  return std::string(ifr.ifr_hwaddr.sa_data, ETH_ALEN);
}

// An ARP request with sender and target both the address (a gratuitous
// ARP), broadcast.
absl::Status SendGratuitousArp(const InterfaceAddress& a, unsigned index,
                               const std::string& mac, absl::string_view what) {
  // Protocol 0: a socket that only sends.
  OwnedFd s(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return CallError(errno, absl::StrCat(what, ": socket(AF_PACKET)"));
  uint8_t pkt[28] = {};
  const uint16_t htype = htons(ARPHRD_ETHER), ptype = htons(ETH_P_IP),
                 op = htons(ARPOP_REQUEST);
  memcpy(pkt, &htype, 2);
  memcpy(pkt + 2, &ptype, 2);
  pkt[4] = ETH_ALEN;
  pkt[5] = 4;
  memcpy(pkt + 6, &op, 2);
  memcpy(pkt + 8, mac.data(), ETH_ALEN);  // sender hardware address
  memcpy(pkt + 14, RawAddress(a), 4);     // sender protocol address
  // Target hardware address: zero, as in a request.
  memcpy(pkt + 24, RawAddress(a), 4);  // target protocol address
  struct sockaddr_ll to = {};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = static_cast<int>(index);
  to.sll_halen = ETH_ALEN;
  memset(to.sll_addr, 0xff, ETH_ALEN);
  if (::sendto(s.get(), pkt, sizeof(pkt), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof(to)) < 0) {
    return CallError(errno, absl::StrCat(what, ": sendto (gratuitous ARP)"));
  }
  CloseLater(std::move(s));
  return absl::OkStatus();
}

// A neighbour advertisement for the address, unsolicited, with Override
// and the target link-layer address option, to ff02::1.
absl::Status SendUnsolicitedNa(const InterfaceAddress& a, unsigned index,
                               const std::string& mac, absl::string_view what) {
  OwnedFd s(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (!s) return CallError(errno, absl::StrCat(what, ": socket(ICMPv6)"));
  // RFC 4861 7.1.2: a receiver drops a neighbour advertisement whose hop
  // limit is not 255.
  const int hops = 255;
  const int ifindex = static_cast<int>(index);
  if (::setsockopt(s.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
                   sizeof(hops)) != 0 ||
      ::setsockopt(s.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex,
                   sizeof(ifindex)) != 0) {
    return CallError(errno, absl::StrCat(what, ": setsockopt(IPV6_MULTICAST)"));
  }
  uint8_t pkt[sizeof(nd_neighbor_advert) + 8] = {};
  auto* na = reinterpret_cast<nd_neighbor_advert*>(pkt);
  na->nd_na_type = ND_NEIGHBOR_ADVERT;
  na->nd_na_code = 0;
  na->nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
  memcpy(&na->nd_na_target, RawAddress(a), 16);
  uint8_t* opt = pkt + sizeof(nd_neighbor_advert);
  opt[0] = ND_OPT_TARGET_LINKADDR;
  opt[1] = 1;  // in units of 8 bytes
  memcpy(opt + 2, mac.data(), ETH_ALEN);
  struct sockaddr_in6 to = {};
  to.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
  to.sin6_scope_id = index;
  // The kernel computes an ICMPv6 raw socket's checksum.
  if (::sendto(s.get(), pkt, sizeof(pkt), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof(to)) < 0) {
    return CallError(errno,
                     absl::StrCat(what, ": sendto (neighbour advertisement)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<InterfaceAddress> InterfaceAddress::Parse(
    absl::string_view text) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", text, "\": ", why,
                     " (want e.g. 192.0.2.100/24 or 2001:db8::100/64)"));
  };
  const size_t slash = text.find('/');
  const std::string ip(text.substr(0, slash));
  InterfaceAddress a;
  in_addr v4;
  in6_addr v6;
  if (::inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
    a.ip = SocketAddress::V4(ntohl(v4.s_addr), 0);
    a.prefix_len = 32;
  } else if (::inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
    a.ip = SocketAddress::V6(absl::MakeConstSpan(v6.s6_addr, 16), 0);
    if (a.ip.is_v4_mapped()) return bad("an IPv4-mapped address");
    a.prefix_len = 128;
  } else {
    return bad("not an IPv4 or IPv6 address");
  }
  if (slash != absl::string_view::npos) {
    uint32_t n = 0;
    if (!absl::SimpleAtoi(text.substr(slash + 1), &n) || n > a.prefix_len) {
      return bad("bad prefix length");
    }
    a.prefix_len = static_cast<uint8_t>(n);
  }
  return a;
}

std::string InterfaceAddress::ToString() const {
  return absl::StrCat(IpText(ip), "/", prefix_len);
}

absl::Status AddAddress(const InterfaceAddress& address,
                        absl::string_view dev) {
  return AddressRequest(
      RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, address, dev,
      absl::StrCat("add address ", address.ToString(), " to ", dev));
}

absl::Status RemoveAddress(const InterfaceAddress& address,
                           absl::string_view dev) {
  return AddressRequest(
      RTM_DELADDR, 0, address, dev,
      absl::StrCat("remove address ", address.ToString(), " from ", dev));
}

absl::Status AnnounceAddress(const InterfaceAddress& address,
                             absl::string_view dev, int count) {
  const std::string what =
      absl::StrCat("announce ", address.ToString(), " on ", dev);
  absl::StatusOr<unsigned> index = IfIndex(dev);
  if (!index.ok()) return index.status();
  absl::StatusOr<std::string> mac = HardwareAddress(dev);
  if (!mac.ok()) return mac.status();
  for (int i = 0; i < count; ++i) {
    absl::Status s = IsV4(address)
                         ? SendGratuitousArp(address, *index, *mac, what)
                         : SendUnsolicitedNa(address, *index, *mac, what);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status TakeAddress(const InterfaceAddress& address,
                         absl::string_view dev) {
  SOCCR_RETURN_IF_ERROR(AddAddress(address, dev));
  absl::Status s = AnnounceAddress(address, dev);
  if (!s.ok()) (void)RemoveAddress(address, dev);
  return s;
}

absl::Status ReleaseAddress(const InterfaceAddress& address,
                            absl::string_view dev) {
  return RemoveAddress(address, dev);
}

}  // namespace soccr
