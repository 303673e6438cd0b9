#include "soccr/image/raw_image.h"

#include <stdlib.h>

namespace soccr::image_testing {
namespace {

namespace fmt = image_format;

const uint8_t* U(absl::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}
uint8_t* U(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

uint32_t Count(absl::string_view image) {
  return fmt::Load32(U(image) + fmt::kOffConnectionCount);
}
size_t IndexEntry(absl::string_view image, size_t record) {
  return fmt::Load32(U(image) + fmt::kOffHeaderLength) +
         fmt::kIndexEntryLength * record;
}

}  // namespace

size_t RecordOffset(absl::string_view image, size_t record) {
  return fmt::Load64(U(image) + IndexEntry(image, record));
}

size_t SectionEntry(absl::string_view image, size_t record, uint32_t tag) {
  const size_t rec = RecordOffset(image, record);
  const uint32_t n = fmt::Load32(U(image) + rec + 4);
  for (uint32_t i = 0; i < n; ++i) {
    const size_t e =
        rec + fmt::kRecordHeaderLength + fmt::kSectionEntryLength * i;
    if (fmt::Load32(U(image) + e) == tag) return e;
  }
  abort();  // The test asked for a section the image does not have.
}

size_t SectionPayload(absl::string_view image, size_t record, uint32_t tag) {
  return RecordOffset(image, record) +
         fmt::Load64(U(image) + SectionEntry(image, record, tag) + 8);
}

std::vector<RawRecord> SplitImage(absl::string_view image) {
  std::vector<RawRecord> records(Count(image));
  for (size_t r = 0; r < records.size(); ++r) {
    const size_t rec = RecordOffset(image, r);
    const uint32_t n = fmt::Load32(U(image) + rec + 4);
    for (uint32_t i = 0; i < n; ++i) {
      const uint8_t* e = U(image) + rec + fmt::kRecordHeaderLength +
                         fmt::kSectionEntryLength * i;
      RawSection s;
      s.tag = fmt::Load32(e);
      s.flags = fmt::Load32(e + 4);
      s.payload = std::string(
          image.substr(rec + fmt::Load64(e + 8), fmt::Load64(e + 16)));
      records[r].sections.push_back(std::move(s));
    }
  }
  return records;
}

std::string BuildImage(const std::vector<RawRecord>& records,
                       uint16_t minor_version) {
  std::string image;
  fmt::ByteWriter w(&image);
  w.Bytes(absl::string_view(fmt::kMagic, 8));
  w.U16(fmt::kMajorVersion);
  w.U16(minor_version);
  w.U32(0);
  w.U32(fmt::kHeaderLength);
  w.U32(static_cast<uint32_t>(records.size()));
  w.U64(0);
  w.U64(0);
  const size_t index = image.size();
  w.Zeros(fmt::kIndexEntryLength * records.size());
  for (size_t r = 0; r < records.size(); ++r) {
    const size_t rec = image.size();
    const std::vector<RawSection>& sections = records[r].sections;
    w.Bytes(absl::string_view(fmt::kRecordMagic, 4));
    w.U32(static_cast<uint32_t>(sections.size()));
    uint64_t off =
        fmt::kRecordHeaderLength + fmt::kSectionEntryLength * sections.size();
    for (const RawSection& s : sections) {
      w.U32(s.tag);
      w.U32(s.flags);
      w.U64(off);
      w.U64(s.payload.size());
      off = fmt::AlignUp(off + s.payload.size());
    }
    for (const RawSection& s : sections) {
      w.Bytes(s.payload);
      w.Pad();
    }
    fmt::Store64(U(image) + index + fmt::kIndexEntryLength * r, rec);
    fmt::Store64(U(image) + index + fmt::kIndexEntryLength * r + 8,
                 image.size() - rec);
  }
  fmt::Store64(U(image) + fmt::kOffFileLength, image.size());
  FixChecksums(image);
  return image;
}

void FixChecksums(std::string& image) {
  if (image.size() < fmt::kMinHeaderLength) return;
  const uint64_t header_length = fmt::Load32(U(image) + fmt::kOffHeaderLength);
  const uint64_t count = Count(image);
  const uint64_t index_end = header_length + fmt::kIndexEntryLength * count;
  if (index_end > image.size()) return;
  for (uint64_t r = 0; r < count; ++r) {
    uint8_t* e = U(image) + header_length + fmt::kIndexEntryLength * r;
    const uint64_t off = fmt::Load64(e);
    const uint64_t len = fmt::Load64(e + 8);
    if (off > image.size() || len > image.size() - off) continue;
    fmt::Store64(e + 16, XXH3_64bits(image.data() + off, len));
  }
  fmt::Store64(U(image) + fmt::kOffChecksum, 0);
  fmt::Store64(U(image) + fmt::kOffChecksum,
               XXH3_64bits(image.data(), index_end));
}

}  // namespace soccr::image_testing
