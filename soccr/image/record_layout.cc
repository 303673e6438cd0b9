#include "soccr/image/record_layout.h"

#include <string.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "soccr/image/format.h"

namespace soccr::image_internal {

namespace fmt = image_format;

absl::Status ForEachSection(
    Bytes rec, absl::string_view where,
    absl::FunctionRef<absl::Status(uint32_t tag, uint32_t flags, Bytes payload)>
        section) {
  if (memcmp(rec.data(), fmt::kRecordMagic, sizeof(fmt::kRecordMagic)) != 0) {
    return Corrupt(where, "the record does not start with \"CONN\"");
  }
  const uint32_t sections = fmt::Load32(&rec[4]);
  const uint64_t table_end =
      fmt::kRecordHeaderLength + uint64_t{fmt::kSectionEntryLength} * sections;
  if (table_end > rec.size()) {
    return Corrupt(where, absl::StrCat("the table of ", sections,
                                       " sections does not fit in the ",
                                       rec.size(), "-byte record"));
  }
  auto entry = [&](uint32_t i) {
    return &rec[fmt::kRecordHeaderLength + fmt::kSectionEntryLength * i];
  };
  for (uint32_t i = 1; i < sections; ++i) {
    const uint64_t before = fmt::Load64(entry(i - 1) + 8);
    const uint64_t off = fmt::Load64(entry(i) + 8);
    if (off < before) {
      return Corrupt(
          where, absl::StrCat("sections out of order: ",
                              fmt::TagName(fmt::Load32(entry(i))), " (offset ",
                              off, ") is listed after ",
                              fmt::TagName(fmt::Load32(entry(i - 1))),
                              " (offset ", before, ")"));
    }
  }
  uint64_t expected = table_end;  // a multiple of 8
  for (uint32_t i = 0; i < sections; ++i) {
    const uint8_t* t = entry(i);
    const uint32_t tag = fmt::Load32(t);
    const uint32_t flags = fmt::Load32(t + 4);
    const uint64_t off = fmt::Load64(t + 8);
    const uint64_t len = fmt::Load64(t + 16);
    const std::string name = fmt::TagName(tag);
    if ((flags & ~fmt::kKnownSectionFlags) != 0) {
      return absl::UnimplementedError(absl::StrFormat(
          "%ssection %s has flags 0x%x this reader does not know", where, name,
          flags & ~fmt::kKnownSectionFlags));
    }
    if (off < expected) {
      return Corrupt(where, absl::StrCat("section ", name, " at offset ", off,
                                         " overlaps what comes before it, "
                                         "which ends at ",
                                         expected));
    }
    if (off > expected) {
      return Corrupt(where, absl::StrCat("section ", name, " at offset ", off,
                                         " leaves bytes ", expected, "..", off,
                                         " unaccounted for"));
    }
    if (len > rec.size() - off) {
      return Corrupt(where, absl::StrCat("section ", name, " of ", len,
                                         " bytes at offset ", off,
                                         " extends past the end of the "
                                         "record (",
                                         rec.size(), " bytes)"));
    }
    const uint64_t end = fmt::AlignUp(off + len);  // <= rec.size()
    if (!AllZero(rec.subspan(off + len, end - off - len))) {
      return Corrupt(where, absl::StrCat("the padding after section ", name,
                                         " is not zero"));
    }
    if (absl::Status st = section(tag, flags, rec.subspan(off, len));
        !st.ok()) {
      return st;
    }
    expected = end;
  }
  if (expected != rec.size()) {
    return Corrupt(where,
                   absl::StrCat("the sections end at ", expected,
                                " but the record is ", rec.size(), " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace soccr::image_internal
