#include "soccr/image/format.h"

#include "absl/strings/str_format.h"

namespace soccr::image_format {

std::string TagName(uint32_t tag) {
  std::string name;
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>(tag >> (8 * i));
    if (c < 0x21 || c > 0x7e) return absl::StrFormat("0x%08x", tag);
    name.push_back(c);
  }
  return name;
}

}  // namespace soccr::image_format
