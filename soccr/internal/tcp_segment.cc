#include "soccr/internal/tcp_segment.h"

#include <netinet/in.h>
#include <string.h>

#include "absl/status/status.h"

namespace soccr::internal {
namespace {

constexpr size_t kIpv4HeaderLen = 20;
constexpr size_t kIpv6HeaderLen = 40;
constexpr size_t kTcpHeaderLen = 20;
// NOP, NOP, kind 8, length 10, TSval, TSecr: the layout every stack sends.
constexpr size_t kTimestampOptionLen = 12;
constexpr uint8_t kTtl = 64;

// The one's complement sum of `data` as 16-bit big-endian words, folded to
// 16 bits, added to `partial`.
uint32_t Sum(absl::Span<const uint8_t> data, uint64_t partial) {
  uint64_t sum = partial;
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += (uint32_t{data[i]} << 8) | data[i + 1];
  }
  if (i < data.size()) sum += uint32_t{data[i]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint32_t>(sum);
}

void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// IPv4 packets carry plain IPv4 and IPv4-mapped IPv6 addresses.
bool IsV4(const SocketAddress& a) {
  return a.family() == AF_INET || a.is_v4_mapped();
}

// The 4 address bytes of a v4 or v4-mapped address, network order.
void CopyV4(const SocketAddress& a, uint8_t* out) {
  if (a.family() == AF_INET) {
    memcpy(out, &a.v4().sin_addr, 4);
  } else {
    memcpy(out, a.v6().sin6_addr.s6_addr + 12, 4);
  }
}

}  // namespace

uint16_t InternetChecksum(absl::Span<const uint8_t> data, uint32_t partial) {
  return static_cast<uint16_t>(~Sum(data, partial) & 0xffff);
}

SocketAddress RawDestination(const TcpSegment& segment) {
  if (IsV4(segment.to)) {
    uint8_t addr[4];
    CopyV4(segment.to, addr);
    uint32_t host = 0;
    for (uint8_t b : addr) host = (host << 8) | b;
    return SocketAddress::V4(host, 0);
  }
  const struct sockaddr_in6& v6 = segment.to.v6();
  return SocketAddress::V6(absl::MakeConstSpan(v6.sin6_addr.s6_addr, 16), 0, 0,
                           v6.sin6_scope_id);
}

absl::StatusOr<std::vector<uint8_t>> BuildTcpSegment(
    const TcpSegment& segment) {
  const SocketAddress& from = segment.from;
  const SocketAddress& to = segment.to;
  if (from.empty() || to.empty()) {
    return absl::InvalidArgumentError("segment: an address is missing");
  }
  const bool v4 = IsV4(from);
  if (v4 != IsV4(to)) {
    return absl::InvalidArgumentError(
        "segment: the addresses are of different families");
  }
  const size_t ip_len = v4 ? kIpv4HeaderLen : kIpv6HeaderLen;
  const size_t header_len =
      kTcpHeaderLen + (segment.timestamp.has_value() ? kTimestampOptionLen : 0);
  // The IPv4 total length and the IPv6 payload length are 16 bits.
  if (segment.payload.size() > 0xffff - ip_len - header_len) {
    return absl::InvalidArgumentError("segment: payload too long");
  }
  const size_t tcp_len = header_len + segment.payload.size();
  std::vector<uint8_t> packet(ip_len + tcp_len, 0);
  uint8_t* ip = packet.data();
  uint8_t* tcp = ip + ip_len;

  // The pseudo-header the TCP checksum covers: addresses, protocol, length.
  std::vector<uint8_t> pseudo;
  if (v4) {
    ip[0] = 0x45;  // version 4, 5 words of header
    Put16(ip + 2, static_cast<uint16_t>(ip_len + tcp_len));
    Put16(ip + 6, 0x4000);  // don't fragment
    ip[8] = kTtl;
    ip[9] = IPPROTO_TCP;
    CopyV4(from, ip + 12);
    CopyV4(to, ip + 16);
    Put16(ip + 10, InternetChecksum(absl::MakeConstSpan(ip, ip_len)));
    pseudo.assign(12, 0);
    memcpy(pseudo.data(), ip + 12, 8);
    pseudo[9] = IPPROTO_TCP;
    Put16(pseudo.data() + 10, static_cast<uint16_t>(tcp_len));
  } else {
    ip[0] = 0x60;  // version 6, traffic class and flow label 0
    Put16(ip + 4, static_cast<uint16_t>(tcp_len));
    ip[6] = IPPROTO_TCP;
    ip[7] = kTtl;
    memcpy(ip + 8, from.v6().sin6_addr.s6_addr, 16);
    memcpy(ip + 24, to.v6().sin6_addr.s6_addr, 16);
    pseudo.assign(40, 0);
    memcpy(pseudo.data(), ip + 8, 32);
    Put32(pseudo.data() + 32, static_cast<uint32_t>(tcp_len));
    pseudo[39] = IPPROTO_TCP;
  }

  Put16(tcp, from.port());
  Put16(tcp + 2, to.port());
  Put32(tcp + 4, segment.seq);
  Put32(tcp + 8, segment.ack);
  tcp[12] = static_cast<uint8_t>((header_len / 4) << 4);
  tcp[13] = segment.flags;
  Put16(tcp + 14, segment.window);
  if (segment.timestamp.has_value()) {
    uint8_t* opt = tcp + kTcpHeaderLen;
    opt[0] = 1;  // NOP
    opt[1] = 1;  // NOP
    opt[2] = 8;  // timestamps
    opt[3] = 10;
    Put32(opt + 4, segment.timestamp->value);
    Put32(opt + 8, segment.timestamp->echo);
  }
  if (!segment.payload.empty()) {
    memcpy(tcp + header_len, segment.payload.data(), segment.payload.size());
  }
  const uint32_t partial = Sum(pseudo, 0);
  Put16(tcp + 16, InternetChecksum(absl::MakeConstSpan(tcp, tcp_len), partial));
  return packet;
}

absl::StatusOr<CapturedTcpHeader> ParseCapturedSegment(
    absl::Span<const uint8_t> packet, bool with_ipv4_header) {
  size_t off = 0;
  if (with_ipv4_header) {
    // What a raw AF_INET socket returns: the IPv4 header first.
    if (packet.size() < kIpv4HeaderLen || (packet[0] >> 4) != 4) {
      return absl::InvalidArgumentError("captured packet: not IPv4");
    }
    off = static_cast<size_t>(packet[0] & 0x0f) * 4;
    if (off < kIpv4HeaderLen || packet[9] != IPPROTO_TCP) {
      return absl::InvalidArgumentError(
          "captured packet: bad IPv4 header or not TCP");
    }
  }
  // A raw AF_INET6 socket returns the TCP header first.
  if (packet.size() < off + kTcpHeaderLen) {
    return absl::InvalidArgumentError("captured packet: truncated TCP header");
  }
  const uint8_t* t = packet.data() + off;
  auto get16 = [](const uint8_t* p) {
    return static_cast<uint16_t>((uint16_t{p[0]} << 8) | p[1]);
  };
  auto get32 = [](const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
           (uint32_t{p[2]} << 8) | p[3];
  };
  const size_t header_len = static_cast<size_t>(t[12] >> 4) * 4;
  if (header_len < kTcpHeaderLen || packet.size() < off + header_len) {
    return absl::InvalidArgumentError("captured packet: bad TCP data offset");
  }
  CapturedTcpHeader h;
  h.source_port = get16(t);
  h.dest_port = get16(t + 2);
  h.seq = get32(t + 4);
  h.ack = get32(t + 8);
  h.flags = t[13];
  h.window = get16(t + 14);
  return h;
}

}  // namespace soccr::internal
