// soccr/image/format.h: the constants of the image format and little-endian
// byte helpers. Internal to //soccr/image; docs/image-format.md is the
// specification, and every number here appears there.
//
//   uint8_t buf[8];
//   soccr::image_format::Store64(buf, 42);
//   uint64_t v = soccr::image_format::Load64(buf);

#ifndef SOCCR_IMAGE_FORMAT_H_
#define SOCCR_IMAGE_FORMAT_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

namespace soccr::image_format {

// File header.
inline constexpr char kMagic[8] = {'\x89', 'S', 'O', 'C', 'C', 'R', '\r', '\n'};
inline constexpr uint16_t kMajorVersion = 1;
inline constexpr uint16_t kMinorVersion = 0;
inline constexpr size_t kHeaderLength = 40;  // what version 1.0 writes
inline constexpr size_t kMinHeaderLength = 40;
inline constexpr size_t kOffVersionMajor = 8;
inline constexpr size_t kOffVersionMinor = 10;
inline constexpr size_t kOffFlags = 12;
inline constexpr size_t kOffHeaderLength = 16;
inline constexpr size_t kOffConnectionCount = 20;
inline constexpr size_t kOffFileLength = 24;
inline constexpr size_t kOffChecksum = 32;
// Flag bits a reader must understand; the others it may ignore.
inline constexpr uint32_t kRequiredFlagsMask = 0x0000ffff;

// Index entry: offset, length, checksum of one connection record.
inline constexpr size_t kIndexEntryLength = 24;

// Connection record.
inline constexpr char kRecordMagic[4] = {'C', 'O', 'N', 'N'};
inline constexpr size_t kRecordHeaderLength = 8;
inline constexpr size_t kSectionEntryLength = 24;
// Section flag bits.
inline constexpr uint32_t kSectionRequired = 1;
inline constexpr uint32_t kKnownSectionFlags = kSectionRequired;

// Everything (records, sections) starts at a multiple of this.
inline constexpr size_t kAlignment = 8;

// Section tags: four ASCII bytes, stored in file order; as numbers they are
// the little-endian reading of those bytes.
constexpr uint32_t Tag(const char (&s)[5]) {
  return uint32_t{static_cast<uint8_t>(s[0])} |
         uint32_t{static_cast<uint8_t>(s[1])} << 8 |
         uint32_t{static_cast<uint8_t>(s[2])} << 16 |
         uint32_t{static_cast<uint8_t>(s[3])} << 24;
}
inline constexpr uint32_t kTagTcp = Tag("TCPS");        // state, seqs, options
inline constexpr uint32_t kTagAddresses = Tag("ADDR");  // local and peer
inline constexpr uint32_t kTagWindow = Tag("WIND");     // TCP_REPAIR_WINDOW
inline constexpr uint32_t kTagBuffers = Tag("BUFS");    // socket buffer sizes
inline constexpr uint32_t kTagSockOpts = Tag("SOPT");   // socket options
inline constexpr uint32_t kTagRecvQueue = Tag("RCVQ");  // receive queue bytes
inline constexpr uint32_t kTagSendQueue = Tag("SNDQ");  // send queue bytes
inline constexpr uint32_t kTagListen = Tag("LSTN");     // listen backlog
inline constexpr uint32_t kTagError = Tag("SERR");      // pending error

// Fixed section lengths.
inline constexpr size_t kTcpSectionLength = 32;
inline constexpr size_t kAddressLength = 32;
inline constexpr size_t kAddressesSectionLength = 2 * kAddressLength;
inline constexpr size_t kWindowSectionLength = 20;
inline constexpr size_t kBuffersSectionLength = 12;
inline constexpr size_t kSockOptHeaderLength = 12;  // level, name, length
inline constexpr size_t kListenSectionLength = 4;
inline constexpr size_t kErrorSectionLength = 4;

// TCPS option bits.
inline constexpr uint8_t kOptSack = 1;
inline constexpr uint8_t kOptTimestamps = 2;
inline constexpr uint8_t kOptWindowScaling = 4;
// BUFS lock bits.
inline constexpr uint32_t kSndbufLocked = 1;
inline constexpr uint32_t kRcvbufLocked = 2;
// ADDR family codes.
inline constexpr uint8_t kFamilyNone = 0;
inline constexpr uint8_t kFamilyV4 = 4;
inline constexpr uint8_t kFamilyV6 = 6;

// "TCPS", or "0x01020304" when the tag is not printable ASCII.
std::string TagName(uint32_t tag);

constexpr uint64_t AlignUp(uint64_t n) {
  return (n + kAlignment - 1) / kAlignment * kAlignment;
}

// Little-endian loads and stores, whatever the host's byte order.
inline uint16_t Load16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}
inline uint32_t Load32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
         uint32_t{p[3]} << 24;
}
inline uint64_t Load64(const uint8_t* p) {
  return uint64_t{Load32(p)} | uint64_t{Load32(p + 4)} << 32;
}
inline void Store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void Store32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void Store64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// XXH3-64 with seed 0 over data given in pieces: the same value as
// XXH3_64bits() over their concatenation.
class Hasher {
 public:
  Hasher() {
    XXH3_INITSTATE(&state_);
    (void)XXH3_64bits_reset(&state_);
  }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void Update(const void* data, size_t size) {
    (void)XXH3_64bits_update(&state_, data, size);
  }
  void Update(absl::Span<const uint8_t> data) {
    Update(data.data(), data.size());
  }
  uint64_t Digest() const { return XXH3_64bits_digest(&state_); }

 private:
  XXH3_state_t state_;
};

// Appends little-endian values to a byte string.
class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Append<2>(v); }
  void U32(uint32_t v) { Append<4>(v); }
  void U64(uint64_t v) { Append<8>(v); }
  void Bytes(absl::string_view b) { out_->append(b.data(), b.size()); }
  void Zeros(size_t n) { out_->append(n, '\0'); }
  // Zero bytes up to the next multiple of kAlignment.
  void Pad() { Zeros(AlignUp(out_->size()) - out_->size()); }
  size_t size() const { return out_->size(); }

 private:
  template <int kBytes>
  void Append(uint64_t v) {
    for (int i = 0; i < kBytes; ++i) {
      out_->push_back(static_cast<char>(v >> (8 * i)));
    }
  }
  std::string* out_;
};

}  // namespace soccr::image_format

#endif  // SOCCR_IMAGE_FORMAT_H_
