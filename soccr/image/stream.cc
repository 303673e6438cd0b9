#include "soccr/image/stream.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/image/format.h"
#include "soccr/internal/status_code.h"

namespace soccr {
namespace {

namespace fmt = image_format;

// The first allocation, and the step below which growing is not worth a
// reallocation: small images (one idle connection is ~250 bytes) cost one.
constexpr size_t kMinChunk = 64 << 10;

// A pipe carries an image in pieces of its buffer, each a wake-up of the
// other end: with the default 64 KiB a 16 MiB image took 174-187 ms
// through one between two threads, with 1 MiB 26 ms (ColdEndToEndStream).
// So either end grows a pipe to the image's size, up to 1 MiB: the
// default /proc/sys/fs/pipe-max-size, which any user may ask for. Best
// effort, as a caller's pipe (or a socket, which says EBADF) works the
// same without it, and never shrunk (GrowPipe).
constexpr uint64_t kPipeBytes = 1 << 20;

void GrowPipeFor(BorrowedFd fd, uint64_t image_bytes, const sys::Sys& sys) {
  if (image_bytes <= kMinChunk) return;  // The default holds it.
  (void)sys.GrowPipe(fd, static_cast<int>(std::min(image_bytes, kPipeBytes)));
}

// Waits until `fd` is readable or the deadline passes.
absl::Status WaitReadable(BorrowedFd fd, absl::Time deadline,
                          absl::string_view what, const sys::Sys& sys) {
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
    const sys::Result<short> r = sys.Poll(fd, POLLIN, timeout_ms);
    if (r.ok() && r.value != 0) return absl::OkStatus();
    if (!r.ok() && r.err != EINTR) {
      return internal::ErrnoStatus(r.op, r.err,
                                   absl::StrCat(what, ": ", sys::OpName(r.op)));
    }
  }
}

}  // namespace

absl::Status ReadStreamBytes(BorrowedFd fd, uint64_t n, absl::Time deadline,
                             absl::string_view what, std::string* out,
                             const sys::Sys& sys) {
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
      if (absl::Status s = WaitReadable(fd, deadline, what, sys); !s.ok()) {
        out->resize(start + got);
        return s;
      }
    }
    const size_t room = out->size() - (start + got);
    const sys::Result<size_t> r = sys.Read(
        fd,
        absl::MakeSpan(reinterpret_cast<uint8_t*>(&(*out)[start + got]), room));
    if (r.ok() && r.value > 0) {
      got += r.value;
      continue;
    }
    if (r.ok()) {
      out->resize(start + got);
      return absl::DataLossError(
          absl::StrCat(what, ": truncated: the stream ended after ", got,
                       " of ", n, " bytes"));
    }
    if (r.err == EINTR) continue;
    if (r.err == EAGAIN) {
      if (absl::Status s = WaitReadable(fd, deadline, what, sys); !s.ok()) {
        out->resize(start + got);
        return s;
      }
      continue;
    }
    out->resize(start + got);
    return internal::ErrnoStatus(r.op, r.err,
                                 absl::StrCat(what, ": ", sys::OpName(r.op)));
  }
  out->resize(start + got);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> WriteImageToStream(
    BorrowedFd fd, absl::Span<const ConnectionState> states,
    const sys::Sys& sys) {
  // Serialized first (one copy of the queues) to know the length; the
  // images a command line streams are small next to a copy's cost.
  absl::StatusOr<std::string> image = SerializeImage(states);
  if (!image.ok()) return image.status();
  GrowPipeFor(fd, image->size(), sys);
  size_t done = 0;
  const auto* bytes = reinterpret_cast<const uint8_t*>(image->data());
  while (done < image->size()) {
    const sys::Result<size_t> n =
        sys.Write(fd, absl::MakeConstSpan(bytes + done, image->size() - done));
    if (n.ok() && n.value > 0) {
      done += n.value;
      continue;
    }
    if (!n.ok() && n.err == EINTR) continue;
    if (!n.ok() && n.err == EAGAIN) {
      // A failed wait shows in the next write.
      (void)sys.Poll(fd, POLLOUT, -1);
      continue;
    }
    // write() returns 0 only for an empty write, which this is not.
    const int err = n.ok() ? EIO : n.err;
    return internal::ErrnoStatus(
        n.op, err,
        absl::StrCat("write image to a stream: ", sys::OpName(n.op), " after ",
                     done, " of ", image->size(), " bytes"));
  }
  return image->size();
}

absl::StatusOr<ImageReader> ReadImageStream(BorrowedFd fd,
                                            const StreamReadOptions& options,
                                            const sys::Sys& sys) {
  constexpr absl::string_view kWhat = "image stream";
  auto bytes = std::make_shared<std::string>();
  if (absl::Status s = ReadStreamBytes(
          fd, fmt::kMinHeaderLength, options.deadline, kWhat, bytes.get(), sys);
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
  GrowPipeFor(fd, length, sys);
  if (absl::Status s =
          ReadStreamBytes(fd, length - fmt::kMinHeaderLength, options.deadline,
                          kWhat, bytes.get(), sys);
      !s.ok()) {
    return s;
  }
  const absl::Span<const uint8_t> span(
      reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  return ImageReader::Open(span, std::move(bytes), options.image);
}

}  // namespace soccr
