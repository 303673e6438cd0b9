// soccr/image/record_layout.h: the layout of one connection record: its
// magic, its table of sections, and that the sections tile the record in
// order with zero padding (internal to //soccr/image; docs/image-format.md
// specifies it). What a section holds is section_decoder.h's.
//
//   SOCCR_RETURN_IF_ERROR(image_internal::ForEachSection(
//       record, where, [&](uint32_t tag, uint32_t flags, Bytes payload) {
//         return decoder.Section(tag, flags, payload, state);
//       }));

#ifndef SOCCR_IMAGE_RECORD_LAYOUT_H_
#define SOCCR_IMAGE_RECORD_LAYOUT_H_

#include <stdint.h>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "soccr/image/read_error.h"

namespace soccr::image_internal {

// Checks the layout of `record` (all its bytes, checksum already checked)
// and calls `section` with each section's tag, flags and payload, in
// order, as soon as the layout up to it is known good; the first error, of
// the layout or from `section`, stops it. `where` prefixes error messages.
// Reads nothing outside `record`.
[[nodiscard]] absl::Status ForEachSection(
    Bytes record, absl::string_view where,
    absl::FunctionRef<absl::Status(uint32_t tag, uint32_t flags, Bytes payload)>
        section);

}  // namespace soccr::image_internal

#endif  // SOCCR_IMAGE_RECORD_LAYOUT_H_
