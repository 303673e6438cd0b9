#include "soccr/internal/tcp_segment.h"

#include <netinet/in.h>

#include <vector>

#include "gtest/gtest.h"

namespace soccr::internal {
namespace {

// An independent one's complement sum: big-endian 32-bit words into 64
// bits, folded at the end (RFC 1071, section 2(C)). Summing a header whose
// checksum is right gives 0xffff.
uint16_t FoldedSum(const std::vector<uint8_t>& bytes) {
  std::vector<uint8_t> b = bytes;
  while (b.size() % 4 != 0) b.push_back(0);
  uint64_t sum = 0;
  for (size_t i = 0; i < b.size(); i += 4) {
    sum += (uint64_t{b[i]} << 24) | (uint64_t{b[i + 1]} << 16) |
           (uint64_t{b[i + 2]} << 8) | b[i + 3];
  }
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint32_t Get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | p[3];
}
uint16_t Get16(const uint8_t* p) { return (uint16_t{p[0]} << 8) | p[1]; }

SocketAddress V6(uint8_t last, uint16_t port) {
  uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
  a[15] = last;
  return SocketAddress::V6(a, port);
}

TEST(InternetChecksumTest, KnownAnswers) {
  // RFC 1071, section 3: the sum of these bytes is 0xddf2.
  const uint8_t rfc1071[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(InternetChecksum(rfc1071), static_cast<uint16_t>(~0xddf2));
  // A textbook IPv4 header (192.168.0.1 -> 192.168.0.199, UDP), checksum
  // field zeroed: its checksum is 0xb861.
  const uint8_t header[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                            0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
                            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(InternetChecksum(header), 0xb861);
  // Odd length: the last byte is the high half of a word.
  const uint8_t odd[] = {0x01};
  EXPECT_EQ(InternetChecksum(odd), static_cast<uint16_t>(~0x0100));
  // A partial sum carries over.
  const uint8_t second_half[] = {0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(InternetChecksum(second_half, 0x0001 + 0xf203),
            static_cast<uint16_t>(~0xddf2));
}

TEST(BuildTcpSegmentTest, Ipv4FinWithTimestamp) {
  TcpSegment s;
  s.from = SocketAddress::V4(0x0a000002, 4242);  // 10.0.0.2
  s.to = SocketAddress::V4(0x0a000001, 80);      // 10.0.0.1
  s.seq = 0x11223344;
  s.ack = 0xaabbccdd;
  s.flags = kTcpFin | kTcpAck;
  s.window = 512;
  s.timestamp = TcpSegment::Timestamp{0, 0x01020304};
  absl::StatusOr<std::vector<uint8_t>> p = BuildTcpSegment(s);
  ASSERT_TRUE(p.ok()) << p.status();
  const std::vector<uint8_t>& b = *p;
  ASSERT_EQ(b.size(), 20u + 32u);
  EXPECT_EQ(b[0], 0x45);
  EXPECT_EQ(Get16(&b[2]), 52);
  EXPECT_EQ(b[9], IPPROTO_TCP);
  EXPECT_EQ(Get32(&b[12]), 0x0a000002u);
  EXPECT_EQ(Get32(&b[16]), 0x0a000001u);
  EXPECT_EQ(FoldedSum({b.begin(), b.begin() + 20}), 0xffff)
      << "IPv4 header checksum";

  const uint8_t* t = &b[20];
  EXPECT_EQ(Get16(t), 4242);
  EXPECT_EQ(Get16(t + 2), 80);
  EXPECT_EQ(Get32(t + 4), 0x11223344u);
  EXPECT_EQ(Get32(t + 8), 0xaabbccddu);
  EXPECT_EQ(t[12] >> 4, 8) << "data offset in words";
  EXPECT_EQ(t[13], kTcpFin | kTcpAck);
  EXPECT_EQ(Get16(t + 14), 512);
  EXPECT_EQ(Get16(t + 18), 0) << "urgent pointer";
  const uint8_t option[] = {1, 1, 8, 10, 0, 0, 0, 0, 1, 2, 3, 4};
  EXPECT_TRUE(std::equal(option, option + 12, t + 20));

  // The TCP checksum over the pseudo-header and the segment.
  std::vector<uint8_t> covered = {0x0a, 0, 0, 2,           0x0a, 0,
                                  0,    1, 0, IPPROTO_TCP, 0,    32};
  covered.insert(covered.end(), b.begin() + 20, b.end());
  EXPECT_EQ(FoldedSum(covered), 0xffff) << "TCP checksum";
}

TEST(BuildTcpSegmentTest, Ipv6Reset) {
  TcpSegment s;
  s.from = V6(2, 5000);
  s.to = V6(1, 6000);
  s.seq = 0xfffffff0;
  s.flags = kTcpRst;
  absl::StatusOr<std::vector<uint8_t>> p = BuildTcpSegment(s);
  ASSERT_TRUE(p.ok()) << p.status();
  const std::vector<uint8_t>& b = *p;
  ASSERT_EQ(b.size(), 40u + 20u);
  EXPECT_EQ(b[0] >> 4, 6);
  EXPECT_EQ(Get16(&b[4]), 20) << "payload length";
  EXPECT_EQ(b[6], IPPROTO_TCP);
  EXPECT_EQ(b[7], 64) << "hop limit";
  EXPECT_EQ(b[8], 0x20);
  EXPECT_EQ(b[23], 2);
  EXPECT_EQ(b[39], 1);
  const uint8_t* t = &b[40];
  EXPECT_EQ(Get16(t), 5000);
  EXPECT_EQ(Get16(t + 2), 6000);
  EXPECT_EQ(Get32(t + 4), 0xfffffff0u);
  EXPECT_EQ(t[12] >> 4, 5);
  EXPECT_EQ(t[13], kTcpRst);

  // RFC 8200 pseudo-header: source, destination, length (32 bits), three
  // zero bytes, next header.
  std::vector<uint8_t> covered(b.begin() + 8, b.begin() + 40);
  const uint8_t tail[] = {0, 0, 0, 20, 0, 0, 0, IPPROTO_TCP};
  covered.insert(covered.end(), tail, tail + 8);
  covered.insert(covered.end(), b.begin() + 40, b.end());
  EXPECT_EQ(FoldedSum(covered), 0xffff) << "TCP checksum";
}

TEST(BuildTcpSegmentTest, MappedAddressesGiveIpv4) {
  TcpSegment s;
  s.from = SocketAddress::LoopbackMapped(1);
  s.to = SocketAddress::LoopbackMapped(2);
  s.flags = kTcpAck;
  absl::StatusOr<std::vector<uint8_t>> p = BuildTcpSegment(s);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->size(), 40u);
  EXPECT_EQ((*p)[0], 0x45);
  EXPECT_EQ(Get32(&(*p)[12]), 0x7f000001u);
  const SocketAddress dst = RawDestination(s);
  EXPECT_EQ(dst, SocketAddress::V4(0x7f000001, 0));
  EXPECT_EQ(RawDestination(TcpSegment{V6(2, 1), V6(1, 2)}), V6(1, 0));
}

TEST(BuildTcpSegmentTest, RejectsMissingOrMixedAddresses) {
  TcpSegment s;
  s.to = SocketAddress::Loopback4(1);
  EXPECT_EQ(BuildTcpSegment(s).status().code(),
            absl::StatusCode::kInvalidArgument);
  s.from = SocketAddress::Loopback6(2);
  EXPECT_EQ(BuildTcpSegment(s).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BuildTcpSegmentTest, PayloadAfterTheHeaderAndInTheChecksum) {
  TcpSegment s;
  s.from = SocketAddress::V4(0x0a000001, 80);
  s.to = SocketAddress::V4(0x0a000002, 4242);
  s.seq = 99;
  s.ack = 7;
  s.flags = kTcpAck;
  s.payload = {0xab};
  absl::StatusOr<std::vector<uint8_t>> p = BuildTcpSegment(s);
  ASSERT_TRUE(p.ok()) << p.status();
  const std::vector<uint8_t>& b = *p;
  ASSERT_EQ(b.size(), 20u + 20u + 1u);
  EXPECT_EQ(Get16(&b[2]), 41) << "IPv4 total length counts the data";
  EXPECT_EQ(b[20 + 12] >> 4, 5) << "data offset: the header alone";
  EXPECT_EQ(b[40], 0xab);
  std::vector<uint8_t> covered = {0x0a, 0, 0, 1,           0x0a, 0,
                                  0,    2, 0, IPPROTO_TCP, 0,    21};
  covered.insert(covered.end(), b.begin() + 20, b.end());
  EXPECT_EQ(FoldedSum(covered), 0xffff) << "TCP checksum over the data";
}

TEST(ParseCapturedSegmentTest, ReadsWhatBuildWrote) {
  TcpSegment s;
  s.from = SocketAddress::V4(0x0a000001, 80);
  s.to = SocketAddress::V4(0x0a000002, 4242);
  s.seq = 0xfffffff0;
  s.ack = 0x12345678;
  s.flags = kTcpAck | kTcpPsh;
  s.window = 0xbeef;
  s.timestamp = TcpSegment::Timestamp{1, 2};
  absl::StatusOr<std::vector<uint8_t>> p = BuildTcpSegment(s);
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<CapturedTcpHeader> h =
      ParseCapturedSegment(*p, /*with_ipv4_header=*/true);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->source_port, 80);
  EXPECT_EQ(h->dest_port, 4242);
  EXPECT_EQ(h->seq, 0xfffffff0u);
  EXPECT_EQ(h->ack, 0x12345678u);
  EXPECT_EQ(h->flags, kTcpAck | kTcpPsh);
  EXPECT_EQ(h->window, 0xbeef);
  // An AF_INET6 raw socket hands over the TCP header alone.
  s.from = V6(1, 80);
  s.to = V6(2, 4242);
  p = BuildTcpSegment(s);
  ASSERT_TRUE(p.ok()) << p.status();
  h = ParseCapturedSegment(absl::MakeConstSpan(*p).subspan(40),
                           /*with_ipv4_header=*/false);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->ack, 0x12345678u);
}

TEST(ParseCapturedSegmentTest, RejectsTruncatedAndForeignPackets) {
  TcpSegment s;
  s.from = SocketAddress::V4(0x0a000001, 80);
  s.to = SocketAddress::V4(0x0a000002, 4242);
  s.flags = kTcpAck;
  absl::StatusOr<std::vector<uint8_t>> p = BuildTcpSegment(s);
  ASSERT_TRUE(p.ok()) << p.status();
  // Every truncation is refused, never read past.
  for (size_t n = 0; n < p->size(); ++n) {
    std::vector<uint8_t> cut(p->begin(), p->begin() + n);
    EXPECT_EQ(ParseCapturedSegment(cut, true).status().code(),
              absl::StatusCode::kInvalidArgument)
        << n;
  }
  std::vector<uint8_t> udp = *p;
  udp[9] = IPPROTO_UDP;
  EXPECT_EQ(ParseCapturedSegment(udp, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<uint8_t> short_ihl = *p;
  short_ihl[0] = 0x44;
  EXPECT_EQ(ParseCapturedSegment(short_ihl, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<uint8_t> long_offset = *p;
  long_offset[20 + 12] = 0xf0;  // 60 bytes of TCP header, 20 present
  EXPECT_EQ(ParseCapturedSegment(long_offset, true).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace soccr::internal
