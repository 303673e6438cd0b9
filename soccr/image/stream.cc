#include "soccr/image/stream.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/image/format.h"

namespace soccr {
namespace {

namespace fmt = image_format;

// The first allocation, and the step below which growing is not worth a
// reallocation: small images (one idle connection is ~250 bytes) cost one.
constexpr size_t kMinChunk = 64 << 10;

// Waits until `fd` is readable or the deadline passes.
absl::Status WaitReadable(BorrowedFd fd, absl::Time deadline,
                          absl::string_view what) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(
            absl::StrCat(what, ": timed out waiting for the stream"));
      }
      timeout_ms = static_cast<int>(
          std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
    }
    struct pollfd p = {fd.get(), POLLIN, 0};
    const int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) return absl::OkStatus();
    if (r < 0 && errno != EINTR) {
      return absl::ErrnoToStatus(errno, absl::StrCat(what, ": poll"));
    }
  }
}

}  // namespace

absl::Status ReadStreamBytes(BorrowedFd fd, uint64_t n, absl::Time deadline,
                             absl::string_view what, std::string* out) {
  const size_t start = out->size();
  uint64_t got = 0;
  while (got < n) {
    // Room for what is wanted, but never more than twice what has come.
    const uint64_t want_total = start + n;
    if (out->size() < start + got + 1) {
      const uint64_t grown = std::max<uint64_t>(
          start + std::max<uint64_t>(kMinChunk, 2 * got), out->size() + 1);
      out->resize(static_cast<size_t>(std::min(want_total, grown)));
    }
    // With a deadline, wait for data first: on a blocking descriptor a
    // read() would otherwise wait past it.
    if (deadline != absl::InfiniteFuture()) {
      if (absl::Status s = WaitReadable(fd, deadline, what); !s.ok()) {
        out->resize(start + got);
        return s;
      }
    }
    const size_t room = out->size() - (start + got);
    const ssize_t r = ::read(fd.get(), &(*out)[start + got], room);
    if (r > 0) {
      got += static_cast<uint64_t>(r);
      continue;
    }
    if (r == 0) {
      out->resize(start + got);
      return absl::DataLossError(
          absl::StrCat(what, ": truncated: the stream ended after ", got,
                       " of ", n, " bytes"));
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (absl::Status s = WaitReadable(fd, deadline, what); !s.ok()) {
        out->resize(start + got);
        return s;
      }
      continue;
    }
    const int err = errno;
    out->resize(start + got);
    return absl::ErrnoToStatus(err, absl::StrCat(what, ": read"));
  }
  out->resize(start + got);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> WriteImageToStream(
    BorrowedFd fd, absl::Span<const ConnectionState> states) {
  // Serialized first (one copy of the queues) to know the length; the
  // images a command line streams are small next to a copy's cost.
  absl::StatusOr<std::string> image = SerializeImage(states);
  if (!image.ok()) return image.status();
  size_t done = 0;
  while (done < image->size()) {
    const ssize_t n =
        ::write(fd.get(), image->data() + done, image->size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {fd.get(), POLLOUT, 0};
      (void)::poll(&p, 1, -1);
      continue;
    }
    return absl::ErrnoToStatus(
        errno, absl::StrCat("write image to a stream: after ", done, " of ",
                            image->size(), " bytes"));
  }
  return image->size();
}

absl::StatusOr<ImageReader> ReadImageStream(BorrowedFd fd,
                                            const StreamReadOptions& options) {
  constexpr absl::string_view kWhat = "image stream";
  auto bytes = std::make_shared<std::string>();
  if (absl::Status s = ReadStreamBytes(fd, fmt::kMinHeaderLength,
                                       options.deadline, kWhat, bytes.get());
      !s.ok()) {
    if (absl::IsDataLoss(s) && bytes->empty()) {
      return absl::DataLossError(
          absl::StrCat(kWhat, ": the stream ended before an image began"));
    }
    return s;
  }
  const uint8_t* b = reinterpret_cast<const uint8_t*>(bytes->data());
  if (memcmp(b, fmt::kMagic, sizeof(fmt::kMagic)) != 0) {
    return absl::DataLossError(
        absl::StrCat(kWhat, ": not a soccr image (bad magic)"));
  }
  const uint16_t major = fmt::Load16(b + fmt::kOffVersionMajor);
  if (major != fmt::kMajorVersion) {
    return absl::UnimplementedError(
        absl::StrCat(kWhat, ": format version ", major, ".",
                     fmt::Load16(b + fmt::kOffVersionMinor),
                     " (this reader reads ", fmt::kMajorVersion, ".x)"));
  }
  const uint64_t length = fmt::Load64(b + fmt::kOffFileLength);
  if (length < fmt::kMinHeaderLength) {
    return absl::DataLossError(
        absl::StrCat(kWhat, ": the header says the image is ", length,
                     " bytes, shorter than a header"));
  }
  if (length > options.max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(kWhat, ": the header says the image is ", length,
                     " bytes, more than the ", options.max_bytes, " accepted"));
  }
  if (absl::Status s = ReadStreamBytes(fd, length - fmt::kMinHeaderLength,
                                       options.deadline, kWhat, bytes.get());
      !s.ok()) {
    return s;
  }
  const absl::Span<const uint8_t> span(
      reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  return ImageReader::Open(span, std::move(bytes), options.image);
}

}  // namespace soccr
