// soccr/image/raw_image.h: takes images apart and puts them back together
// byte by byte, for tests and fuzz seeds that need images a correct writer
// would never produce (an extra section, a wrong length, a bad offset)
// with valid checksums, so that the reader's other checks are reached.
//
//   namespace fmt = soccr::image_format;
//   std::string img = *soccr::SerializeImage({state});
//   std::vector<RawRecord> records = SplitImage(img);
//   records[0].sections.push_back({fmt::Tag("XTRA"), 0, "optional stuff"});
//   img = BuildImage(records);  // valid checksums
//   const size_t entry = SectionEntry(img, 0, fmt::kTagRecvQueue);
//   fmt::Store64(reinterpret_cast<uint8_t*>(&img[entry + 16]), 1 << 30);
//   FixChecksums(img);  // still valid
//
// Inputs are assumed well formed enough to take apart; this is test code.

#ifndef SOCCR_IMAGE_RAW_IMAGE_H_
#define SOCCR_IMAGE_RAW_IMAGE_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "soccr/image/format.h"

namespace soccr::image_testing {

struct RawSection {
  uint32_t tag = 0;
  uint32_t flags = image_format::kSectionRequired;
  std::string payload;
};

struct RawRecord {
  std::vector<RawSection> sections;
};

// The records of `image`, their sections in table order.
std::vector<RawRecord> SplitImage(absl::string_view image);

// An image of `records` laid out as the writer lays them out, with the
// header fields and checksums filled in.
std::string BuildImage(const std::vector<RawRecord>& records,
                       uint16_t minor_version = image_format::kMinorVersion);

// Recomputes every record checksum the index has room for, and the header
// checksum, after a test edited bytes in place. Records that fall outside
// the image are skipped.
void FixChecksums(std::string& image);

// Absolute offsets in `image`: the start of record `record`, the section
// table entry of its section `tag`, and that section's payload.
size_t RecordOffset(absl::string_view image, size_t record);
size_t SectionEntry(absl::string_view image, size_t record, uint32_t tag);
size_t SectionPayload(absl::string_view image, size_t record, uint32_t tag);

}  // namespace soccr::image_testing

#endif  // SOCCR_IMAGE_RAW_IMAGE_H_
