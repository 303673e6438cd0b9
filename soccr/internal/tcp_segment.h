// soccr/internal/tcp_segment.h: the IPv4/IPv6 + TCP packets a restore
// injects as if the peer had sent them.
//
// The repair interface cannot put a received FIN (or an ACK of our FIN, or
// a reset) back into a socket: those only happen when a packet arrives. A
// restore builds that packet here and sends it from a raw socket:
//
//   TcpSegment fin;
//   fin.from = state.peer;          // the peer's address and port
//   fin.to = state.local;           // the restored socket
//   fin.seq = state.inq_seq;        // the FIN's sequence number
//   fin.ack = snd_una;              // acknowledges nothing new
//   fin.flags = kTcpFin | kTcpAck;
//   absl::StatusOr<std::vector<uint8_t>> packet = BuildTcpSegment(fin);
//
// IPv4-mapped IPv6 addresses give an IPv4 packet: that is what such a
// connection carries on the wire.

#ifndef SOCCR_INTERNAL_TCP_SEGMENT_H_
#define SOCCR_INTERNAL_TCP_SEGMENT_H_

#include <stdint.h>

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "soccr/address.h"

namespace soccr::internal {

// TCP header flags.
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

// One TCP segment (with at most a few bytes of data).
struct TcpSegment {
  SocketAddress from;  // source address and port
  SocketAddress to;    // destination address and port
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;  // as on the wire (before window scaling)
  // TSval and TSecr of a timestamp option (RFC 7323), if any.
  struct Timestamp {
    uint32_t value = 0;
    uint32_t echo = 0;
  };
  std::optional<Timestamp> timestamp;
  // The segment's data, if any.
  std::vector<uint8_t> payload;
};

// The fields of a captured segment's TCP header that a restore reads.
struct CapturedTcpHeader {
  uint16_t source_port = 0;
  uint16_t dest_port = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;  // as on the wire
};

// Reads the TCP header of a packet a raw IPPROTO_TCP socket received:
// behind an IPv4 header for AF_INET (`with_ipv4_header`), at the start for
// AF_INET6. The packet is untrusted: InvalidArgument if it is truncated or
// not TCP; nothing past `packet` is read.
[[nodiscard]] absl::StatusOr<CapturedTcpHeader> ParseCapturedSegment(
    absl::Span<const uint8_t> packet, bool with_ipv4_header);

// The whole packet, IP header included, with correct lengths and
// checksums, ready for a raw socket with IP_HDRINCL / IPV6_HDRINCL.
// InvalidArgument if the addresses are missing or of different families
// (an IPv4-mapped address counts as IPv4).
[[nodiscard]] absl::StatusOr<std::vector<uint8_t>> BuildTcpSegment(
    const TcpSegment& segment);

// Where a raw socket sends the packet BuildTcpSegment(segment) made: the
// destination address (port 0), AF_INET for IPv4 and IPv4-mapped addresses.
SocketAddress RawDestination(const TcpSegment& segment);

// The Internet checksum (RFC 1071) of `data`, continuing a partial sum of
// earlier bytes `partial` (host order, unfolded): the one's complement of
// the one's complement sum of the 16-bit big-endian words.
uint16_t InternetChecksum(absl::Span<const uint8_t> data, uint32_t partial = 0);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_TCP_SEGMENT_H_
