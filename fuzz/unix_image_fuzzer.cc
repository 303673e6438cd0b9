// Fuzzes the reader of unix socket records (soccr/unix/image.h) with
// arbitrary bytes.
//
// Properties: every error is DataLoss, Unimplemented, InvalidArgument (or
// OutOfRange for no such record: never asked here) and names the image;
// with checksums skipped (so that mutations get past them) every record
// the reader accepts passes ValidateUnixSocketState, survives
// parse(serialize(x)) == x, and serialize(parse(bytes)) is stable; when
// the checksums hold, the checked read agrees with the unchecked one.

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "fuzz/fuzz_check.h"
#include "soccr/image/image.h"
#include "soccr/unix/image.h"

namespace soccr::fuzzing {
namespace {

void CheckError(const absl::Status& s) {
  SOCCR_FUZZ_CHECK(s.code() == absl::StatusCode::kDataLoss ||
                   s.code() == absl::StatusCode::kUnimplemented ||
                   s.code() == absl::StatusCode::kInvalidArgument)
      << s;
  SOCCR_FUZZ_CHECK(absl::StartsWith(s.message(), "read image: ")) << s;
}

bool Same(const UnixSocketState& x, const UnixSocketState& y) {
  if (x.type != y.type || x.state != y.state || x.local != y.local ||
      x.peer != y.peer || x.inode != y.inode || x.peer_inode != y.peer_inode ||
      x.shutdown_receive != y.shutdown_receive ||
      x.shutdown_send != y.shutdown_send ||
      x.pass_credentials != y.pass_credentials ||
      x.pass_security != y.pass_security || x.send_buffer != y.send_buffer ||
      x.receive_buffer != y.receive_buffer || x.peek_offset != y.peek_offset ||
      x.backlog != y.backlog || x.queue.size() != y.queue.size()) {
    return false;
  }
  for (size_t i = 0; i < x.queue.size(); ++i) {
    const UnixMessage& a = x.queue[i];
    const UnixMessage& b = y.queue[i];
    if (a.data != b.data ||
        a.credentials.has_value() != b.credentials.has_value() ||
        (a.credentials && !(*a.credentials == *b.credentials))) {
      return false;
    }
  }
  return true;
}

absl::Span<const uint8_t> Span(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()),
                                   s.size());
}

void Fuzz(const uint8_t* data, size_t size) {
  const absl::Span<const uint8_t> bytes(data, size);
  absl::StatusOr<std::vector<UnixSocketState>> verified = ParseUnixImage(bytes);
  if (!verified.ok()) CheckError(verified.status());

  ImageReadOptions unchecked;
  unchecked.verify_checksums = false;
  absl::StatusOr<ImageReader> reader =
      ImageReader::Open(bytes, nullptr, unchecked);
  if (!reader.ok()) {
    CheckError(reader.status());
    SOCCR_FUZZ_CHECK(!verified.ok()) << "only the checked read accepted it";
    return;
  }
  std::vector<UnixSocketState> accepted;
  bool all = true;
  for (size_t i = 0; i < reader->size(); ++i) {
    absl::StatusOr<UnixSocketState> s = ReadUnixSocket(*reader, i);
    if (!s.ok()) {
      CheckError(s.status());
      all = false;
      continue;
    }
    SOCCR_FUZZ_CHECK(ValidateUnixSocketState(*s).ok());
    absl::StatusOr<std::string> image = SerializeUnixImage({*s});
    SOCCR_FUZZ_CHECK(image.ok()) << image.status();
    absl::StatusOr<std::vector<UnixSocketState>> back =
        ParseUnixImage(Span(*image));
    SOCCR_FUZZ_CHECK(back.ok()) << back.status();
    SOCCR_FUZZ_CHECK(back->size() == 1 && Same((*back)[0], *s));
    absl::StatusOr<std::string> again = SerializeUnixImage(*back);
    SOCCR_FUZZ_CHECK(again.ok() && *again == *image) << "unstable bytes";
    accepted.push_back(*std::move(s));
  }
  if (verified.ok()) {
    SOCCR_FUZZ_CHECK(all && verified->size() == accepted.size());
    for (size_t i = 0; i < accepted.size(); ++i) {
      SOCCR_FUZZ_CHECK(Same((*verified)[i], accepted[i]));
    }
  }
}

}  // namespace
}  // namespace soccr::fuzzing

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  soccr::fuzzing::Fuzz(data, size);
  return 0;
}
