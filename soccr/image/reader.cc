// Reading an image's connections, one record at a time: the record's
// checksum, its layout (record_layout.h), its sections (section_decoder.h),
// then PlanRestore() on the state. Every length and offset is checked
// against the bytes really present before it is used, and nothing is
// allocated by a count read from the image before the bytes it claims are
// known to be there. Opening the image (its header and index) is
// header_and_index.cc's.

#include <arpa/inet.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "soccr/image/format.h"
#include "soccr/image/image.h"
#include "soccr/image/read_error.h"
#include "soccr/image/record_layout.h"
#include "soccr/image/section_decoder.h"
#include "soccr/restore_plan.h"

namespace soccr {
namespace {

namespace fmt = image_format;

using image_internal::Bytes;
using image_internal::Corrupt;
using image_internal::Hex;
using image_internal::RecordDecoder;

// How errors about record `index` of `count` begin.
std::string RecordWhere(size_t index, size_t count, uint64_t offset) {
  return absl::StrCat("read image: connection ", index, " of ", count,
                      " (record at offset ", offset, "): ");
}

}  // namespace

absl::StatusOr<ConnectionState> ImageReader::Read(size_t index) const {
  absl::StatusOr<ImageRecord> record = ReadRecord(index);
  if (!record.ok()) return record.status();
  return std::move(record->state);
}

absl::StatusOr<ImageRecord> ImageReader::ReadRecord(size_t index) const {
  // RecordBytes checks the index and the record's checksum.
  absl::StatusOr<Bytes> rec = RecordBytes(index);
  if (!rec.ok()) return rec.status();
  const uint64_t offset = static_cast<uint64_t>(rec->data() - bytes_.data());
  RecordDecoder decoder(RecordWhere(index, count_, offset), owner_);
  const std::string& where = decoder.where();
  ConnectionState s;
  if (absl::Status st = image_internal::ForEachSection(
          *rec, where,
          [&](uint32_t tag, uint32_t flags, Bytes payload) {
            return decoder.Section(tag, flags, payload, s);
          });
      !st.ok()) {
    return st;
  }
  if (absl::Status st = decoder.Finish(); !st.ok()) return st;
  // Well formed; whether the state makes sense is PlanRestore's call (or,
  // by the options, the caller's Restore()'s).
  if (options_.check_restorable) {
    absl::StatusOr<RestorePlan> plan = PlanRestore(s);
    if (!plan.ok()) return PrefixRejection(where, plan.status());
  }
  return ImageRecord{std::move(s), std::move(decoder.skipped())};
}

absl::StatusOr<Bytes> ImageReader::RecordBytes(size_t index) const {
  if (index >= count_) {
    return absl::OutOfRangeError(
        absl::StrCat("read image: connection ", index,
                     " does not exist: the image holds ", count_));
  }
  const uint8_t* e =
      bytes_.data() + index_offset_ + fmt::kIndexEntryLength * index;
  const uint64_t offset = fmt::Load64(e);
  const uint64_t length = fmt::Load64(e + 8);
  const uint64_t checksum = fmt::Load64(e + 16);
  // Open() checked that the records tile the file: this is in bounds.
  const Bytes rec = bytes_.subspan(offset, length);
  if (options_.verify_checksums) {
    const uint64_t computed = XXH3_64bits(rec.data(), rec.size());
    if (computed != checksum) {
      return Corrupt(RecordWhere(index, count_, offset),
                     absl::StrCat("checksum mismatch: stored ", Hex(checksum),
                                  ", computed ", Hex(computed)));
    }
  }
  return rec;
}

absl::StatusOr<std::vector<ConnectionState>> ImageReader::ReadAll() const {
  std::vector<ConnectionState> states;
  for (size_t i = 0; i < count_; ++i) {
    absl::StatusOr<ConnectionState> s = Read(i);
    if (!s.ok()) return s.status();
    states.push_back(*std::move(s));
  }
  return states;
}

absl::StatusOr<std::vector<ConnectionState>> ParseImage(
    Bytes bytes, const ImageReadOptions& options) {
  absl::StatusOr<ImageReader> reader =
      ImageReader::Open(bytes, nullptr, options);
  if (!reader.ok()) return reader.status();
  return reader->ReadAll();
}

}  // namespace soccr
