// soccr/image/section_decoder.h: decodes the sections of one connection
// record into a ConnectionState (internal to //soccr/image; the sections
// are specified in docs/image-format.md). Checks each section's length and
// fields; the record's layout is record_layout.h's.
//
//   image_internal::RecordDecoder decoder(where, owner);
//   SOCCR_RETURN_IF_ERROR(decoder.Section(tag, flags, payload, state));
//   // ... every section, in order
//   SOCCR_RETURN_IF_ERROR(decoder.Finish());

#ifndef SOCCR_IMAGE_SECTION_DECODER_H_
#define SOCCR_IMAGE_SECTION_DECODER_H_

#include <stdint.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "soccr/connection_state.h"
#include "soccr/image/format.h"
#include "soccr/image/read_error.h"

namespace soccr::image_internal {

// Decodes the fixed-size sections. `where` prefixes error messages. With
// an `owner`, queue bytes are referred to in place and share it; without,
// they are copied.
class RecordDecoder {
 public:
  RecordDecoder(std::string where, const std::shared_ptr<const void>& owner)
      : where_(std::move(where)), owner_(owner) {}

  absl::Status Section(uint32_t tag, uint32_t flags, Bytes payload,
                       ConnectionState& s);
  absl::Status Finish() const;
  const std::string& where() const { return where_; }
  // The socket options skipped because this reader does not know them.
  std::vector<SocketOption>& skipped() { return skipped_; }

 private:
  absl::Status WantLength(uint32_t tag, Bytes payload, size_t want) const {
    if (payload.size() == want) return absl::OkStatus();
    return Corrupt(where_,
                   absl::StrCat("section ", image_format::TagName(tag), " is ",
                                payload.size(), " bytes, want ", want));
  }
  absl::Status Tcp(Bytes p, ConnectionState& s) const;
  absl::Status Address(Bytes p, absl::string_view which,
                       SocketAddress& out) const;
  absl::Status Buffers(Bytes p, ConnectionState& s) const;
  absl::Status SocketOptions(Bytes p, ConnectionState& s);
  QueueBytes Queue(Bytes p) const {
    return owner_ != nullptr ? QueueBytes::View(p, owner_)
                             : QueueBytes::Copy(p);
  }

  std::string where_;
  const std::shared_ptr<const void>& owner_;
  std::vector<uint32_t> seen_;
  std::vector<SocketOption> skipped_;
};

}  // namespace soccr::image_internal

#endif  // SOCCR_IMAGE_SECTION_DECODER_H_
