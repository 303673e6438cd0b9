#include "fuzz/round_trip.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "fuzz/fuzz_check.h"
#include "soccr/image/image.h"

namespace soccr::fuzzing {
namespace {

absl::Span<const uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool Within(const QueueBytes& q, absl::Span<const uint8_t> bytes) {
  return q.empty() ||
         (q.data() >= bytes.data() && q.data() + q.size() <= bytes.end());
}

}  // namespace

void CheckImageError(const absl::Status& status) {
  SOCCR_FUZZ_CHECK(status.code() == absl::StatusCode::kDataLoss ||
                   status.code() == absl::StatusCode::kUnimplemented ||
                   status.code() == absl::StatusCode::kInvalidArgument)
      << status;
  SOCCR_FUZZ_CHECK(absl::StartsWith(status.message(), "read image: "))
      << status;
}

void CheckRoundTrip(const std::vector<ConnectionState>& states) {
  absl::StatusOr<std::string> image = SerializeImage(states);
  SOCCR_FUZZ_CHECK(image.ok()) << image.status();

  // Copied.
  absl::StatusOr<std::vector<ConnectionState>> copied =
      ParseImage(Span(*image));
  SOCCR_FUZZ_CHECK(copied.ok()) << copied.status();
  SOCCR_FUZZ_CHECK(*copied == states) << "parse(serialize(x)) != x";

  // In place.
  auto owner = std::make_shared<const std::string>(*image);
  absl::StatusOr<ImageReader> reader = ImageReader::Open(Span(*owner), owner);
  SOCCR_FUZZ_CHECK(reader.ok()) << reader.status();
  SOCCR_FUZZ_CHECK(reader->size() == states.size());
  for (size_t i = 0; i < states.size(); ++i) {
    absl::StatusOr<ConnectionState> s = reader->Read(i);
    SOCCR_FUZZ_CHECK(s.ok()) << s.status();
    SOCCR_FUZZ_CHECK(*s == states[i]) << "in-place parse differs at " << i;
    SOCCR_FUZZ_CHECK(Within(s->recv_queue, Span(*owner)) &&
                     Within(s->send_queue, Span(*owner)))
        << "a queue was copied";
  }

  // Stable: what was parsed serializes to the very same bytes.
  absl::StatusOr<std::string> again = SerializeImage(*copied);
  SOCCR_FUZZ_CHECK(again.ok()) << again.status();
  SOCCR_FUZZ_CHECK(*again == *image) << "serialize(parse(bytes)) moved";
}

}  // namespace soccr::fuzzing
