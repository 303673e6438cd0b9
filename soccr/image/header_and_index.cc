// Opening an image: checks of its header and of the index of its records,
// before any record is read. Every length and offset is checked against
// the bytes really present before it is used.

#include <string.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "soccr/image/format.h"
#include "soccr/image/image.h"
#include "soccr/image/read_error.h"

namespace soccr {
namespace {

namespace fmt = image_format;

using image_internal::Bytes;
using image_internal::Corrupt;
using image_internal::Hex;

}  // namespace

absl::StatusOr<uint64_t> ImageReader::CheckPrefix(
    Bytes prefix, uint64_t file_size, const ImageReadOptions& options) {
  constexpr absl::string_view kWhere = "read image: ";
  const uint8_t* b = prefix.data();
  // What `prefix` holds of the file (all of it, once it is read whole).
  const uint64_t have = std::min<uint64_t>(prefix.size(), file_size);
  // The header first (or the whole file, if it is shorter).
  const uint64_t header_bytes =
      std::min<uint64_t>(fmt::kMinHeaderLength, file_size);
  if (have < header_bytes) return header_bytes;
  if (have < sizeof(fmt::kMagic) ||
      memcmp(b, fmt::kMagic, sizeof(fmt::kMagic)) != 0) {
    return Corrupt(kWhere,
                   absl::StrCat("not a soccr image: it does not start with "
                                "the magic bytes 89 53 4f 43 43 52 0d 0a (",
                                file_size, " bytes in all)"));
  }
  if (file_size < fmt::kMinHeaderLength) {
    return Corrupt(kWhere, absl::StrCat("truncated: ", file_size,
                                        " bytes, the header alone needs ",
                                        fmt::kMinHeaderLength));
  }
  const uint16_t major = fmt::Load16(b + fmt::kOffVersionMajor);
  const uint16_t minor = fmt::Load16(b + fmt::kOffVersionMinor);
  // Before anything else: a later major version may lay out the rest (and
  // the checksum) differently.
  if (major != fmt::kMajorVersion) {
    return absl::UnimplementedError(
        absl::StrCat(kWhere, "image format version ", major, ".", minor,
                     " is not supported: this reader reads versions ",
                     fmt::kMajorVersion, ".x"));
  }
  const uint32_t header_length = fmt::Load32(b + fmt::kOffHeaderLength);
  if (header_length < fmt::kMinHeaderLength ||
      header_length % fmt::kAlignment != 0) {
    return Corrupt(kWhere, absl::StrCat("header length ", header_length,
                                        " is not a multiple of 8 of at least ",
                                        fmt::kMinHeaderLength));
  }
  const uint32_t count = fmt::Load32(b + fmt::kOffConnectionCount);
  const uint64_t index_end =
      uint64_t{header_length} + uint64_t{fmt::kIndexEntryLength} * count;
  if (index_end > file_size) {
    return Corrupt(kWhere,
                   absl::StrCat("truncated: the header and the index "
                                "of ",
                                count, " connections end at byte ", index_end,
                                ", the file has ", file_size));
  }
  const uint64_t file_length = fmt::Load64(b + fmt::kOffFileLength);
  auto check_length = [&]() -> absl::Status {
    if (file_length > file_size) {
      return Corrupt(kWhere,
                     absl::StrCat("truncated: the image is ", file_length,
                                  " bytes, only ", file_size, " are there"));
    }
    if (file_length < file_size) {
      return Corrupt(kWhere,
                     absl::StrCat(file_size - file_length,
                                  " bytes follow the end of the image (",
                                  file_length, " bytes)"));
    }
    return absl::OkStatus();
  };
  if (have < index_end) {
    // Not all there yet: what the header says of the image's length
    // already settles a file that is no image of its size (the checksum
    // follows once the index is read).
    if (absl::Status st = check_length(); !st.ok()) return st;
    return index_end;
  }
  if (options.verify_checksums) {
    fmt::Hasher hash;
    hash.Update(b, fmt::kOffChecksum);
    constexpr uint8_t kZeroChecksum[8] = {};
    hash.Update(kZeroChecksum, sizeof(kZeroChecksum));
    hash.Update(b + fmt::kOffChecksum + 8, index_end - fmt::kOffChecksum - 8);
    const uint64_t stored = fmt::Load64(b + fmt::kOffChecksum);
    if (hash.Digest() != stored) {
      return Corrupt(
          kWhere, absl::StrCat("header checksum mismatch: stored ", Hex(stored),
                               ", computed ", Hex(hash.Digest())));
    }
  }
  const uint32_t flags = fmt::Load32(b + fmt::kOffFlags);
  if ((flags & fmt::kRequiredFlagsMask) != 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "%simage flags 0x%04x are not known to this reader (format %d.%d)",
        kWhere, flags & fmt::kRequiredFlagsMask, fmt::kMajorVersion,
        fmt::kMinorVersion));
  }
  if (absl::Status st = check_length(); !st.ok()) return st;
  // The records tile the rest of the file, in index order.
  auto entry = [&](uint32_t i) {
    return b + header_length + fmt::kIndexEntryLength * i;
  };
  for (uint32_t i = 1; i < count; ++i) {
    const uint64_t before = fmt::Load64(entry(i - 1));
    const uint64_t offset = fmt::Load64(entry(i));
    if (offset < before) {
      return Corrupt(kWhere, absl::StrCat("records out of order: connection ",
                                          i, " (offset ", offset,
                                          ") is listed after connection ",
                                          i - 1, " (offset ", before, ")"));
    }
  }
  uint64_t expected = index_end;
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* e = entry(i);
    const uint64_t offset = fmt::Load64(e);
    const uint64_t length = fmt::Load64(e + 8);
    const std::string where =
        absl::StrCat(kWhere, "connection ", i, " of ", count, ": ");
    if (offset < expected) {
      return Corrupt(where, absl::StrCat("record at offset ", offset,
                                         " overlaps what comes before it, "
                                         "which ends at ",
                                         expected));
    }
    if (offset > expected) {
      return Corrupt(where,
                     absl::StrCat("record at offset ", offset, " leaves bytes ",
                                  expected, "..", offset, " unaccounted for"));
    }
    if (length > file_length - offset) {
      return Corrupt(
          where, absl::StrCat("record of ", length, " bytes at offset ", offset,
                              " extends past the end of the image "
                              "(",
                              file_length, " bytes)"));
    }
    if (length < fmt::kRecordHeaderLength || length % fmt::kAlignment != 0) {
      return Corrupt(where, absl::StrCat("record length ", length,
                                         " is not a multiple of 8 of at "
                                         "least ",
                                         fmt::kRecordHeaderLength));
    }
    expected = offset + length;
  }
  if (expected != file_length) {
    return Corrupt(kWhere, absl::StrCat("the records end at byte ", expected,
                                        ", the image at ", file_length));
  }
  return uint64_t{0};
}

absl::StatusOr<ImageReader> ImageReader::Open(Bytes bytes,
                                              std::shared_ptr<const void> owner,
                                              const ImageReadOptions& options) {
  // All the bytes are here, so the check needs no more.
  absl::StatusOr<uint64_t> more = CheckPrefix(bytes, bytes.size(), options);
  if (!more.ok()) return more.status();
  ImageReader r;
  const uint8_t* b = bytes.data();
  r.major_ = fmt::Load16(b + fmt::kOffVersionMajor);
  r.minor_ = fmt::Load16(b + fmt::kOffVersionMinor);
  r.bytes_ = bytes;
  r.owner_ = std::move(owner);
  r.options_ = options;
  r.count_ = fmt::Load32(b + fmt::kOffConnectionCount);
  r.index_offset_ = fmt::Load32(b + fmt::kOffHeaderLength);
  return r;
}

absl::StatusOr<ImageReader> ImageReader::Open(const MappedFile& file,
                                              const ImageReadOptions& options) {
  return Open(file.bytes(), file.owner(), options);
}

}  // namespace soccr
