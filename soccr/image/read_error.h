// soccr/image/read_error.h: how the image reader says what is wrong
// (internal to //soccr/image).
//
//   return image_internal::Corrupt(where, "the record does not start ...");

#ifndef SOCCR_IMAGE_READ_ERROR_H_
#define SOCCR_IMAGE_READ_ERROR_H_

#include <stdint.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace soccr::image_internal {

using Bytes = absl::Span<const uint8_t>;

// DataLoss: the image is corrupt. `where` prefixes `what`.
inline absl::Status Corrupt(absl::string_view where, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(where, what));
}

// A checksum as error messages show it.
inline std::string Hex(uint64_t v) { return absl::StrFormat("0x%016x", v); }

inline bool AllZero(Bytes b) {
  for (uint8_t c : b) {
    if (c != 0) return false;
  }
  return true;
}

}  // namespace soccr::image_internal

#endif  // SOCCR_IMAGE_READ_ERROR_H_
