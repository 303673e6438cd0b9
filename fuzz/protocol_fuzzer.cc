// Fuzzes the migration protocol's parser (soccr/migrate/protocol.h) with
// the bytes a hostile peer could send: the header check, then the payload.
// Property: whatever decodes encodes back to exactly the bytes it came
// from, so the parser accepts one form of each message and nothing else.

#include <stddef.h>
#include <stdint.h>

#include <string>

#include "fuzz/fuzz_check.h"
#include "soccr/migrate/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace m = soccr::migrate;
  if (size < m::kHeaderLength) return 0;
  absl::StatusOr<std::pair<m::MessageType, uint32_t>> h =
      m::DecodeHeader(absl::MakeConstSpan(data, m::kHeaderLength));
  if (!h.ok()) return 0;
  const size_t available = size - m::kHeaderLength;
  if (h->second > available) return 0;  // a stream would wait for more
  absl::StatusOr<m::Message> msg = m::DecodePayload(
      h->first, absl::MakeConstSpan(data + m::kHeaderLength, h->second));
  if (!msg.ok()) return 0;
  const std::string again = m::EncodeMessage(*msg);
  const std::string original(reinterpret_cast<const char*>(data),
                             m::kHeaderLength + h->second);
  SOCCR_FUZZ_CHECK(again == original)
      << "decoded " << m::MessageTypeName(msg->type)
      << " does not encode back to its bytes";
  return 0;
}
