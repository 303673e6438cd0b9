// soccr/image/stream.h: images over a stream (pipe, unix or TCP socket,
// standard input): one image read from a descriptor, exactly its bytes.
//
//   absl::Status s = soccr::WriteImage(sock.borrow(), states);  // image.h
//   // ... and at the other end of `sock`:
//   absl::StatusOr<soccr::ImageReader> image =
//       soccr::ReadImageStream(sock.borrow());
//   absl::StatusOr<std::vector<soccr::ConnectionState>> states =
//       image->ReadAll();
//
// The header says how long the image is, so the reader takes exactly that
// many bytes and no more: anything after it (another image, a protocol
// message) stays in the descriptor for the next reader. A stream is
// untrusted input like a file, with the same checks (ImageReader::Open
// runs on the bytes once they are all there), and more: memory is only
// ever allocated for bytes the stream has delivered (the buffer grows at
// most to twice what has arrived, never to what the header claims), the
// claimed length is bounded by `max_bytes` before anything is read past
// the header, and a deadline bounds the wait.
//
// Errors: DataLoss for a stream that is not an image (bad magic, a length
// shorter than a header) or that ends before the image does (truncated,
// with how many bytes of how many arrived); ResourceExhausted for an image
// longer than `max_bytes`; DeadlineExceeded when the deadline passes;
// Unimplemented for a later major version; the read's errno otherwise;
// and every error of ImageReader::Open.

#ifndef SOCCR_IMAGE_STREAM_H_
#define SOCCR_IMAGE_STREAM_H_

#include <stdint.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "soccr/fd.h"
#include "soccr/image/image.h"
#include "soccr/sys/sys.h"

namespace soccr {

struct StreamReadOptions {
  // The largest image accepted (its header's length field).
  uint64_t max_bytes = uint64_t{4} << 30;
  // When to give up waiting for bytes (poll): InfiniteFuture waits as
  // long as the stream stays open.
  absl::Time deadline = absl::InfiniteFuture();
  ImageReadOptions image;
};

// Reads one image from `fd` (blocking or not: it polls) and opens it, with
// read() and poll() through `sys`. The reader owns the bytes; the states it
// reads refer to them in place. A failed call's error names it ("image
// stream: read: <errno's text>").
[[nodiscard]] absl::StatusOr<ImageReader> ReadImageStream(
    BorrowedFd fd, const StreamReadOptions& options = {},
    const sys::Sys& sys = sys::LinuxSys());

// Writes the image of `states` to `fd` (blocking or not) and returns its
// length, with write() and poll() through `sys`. As WriteImage (image.h),
// but the image is serialized first. A failed write says how far it got
// ("write image to a stream: write after X of N bytes: <errno's text>").
[[nodiscard]] absl::StatusOr<uint64_t> WriteImageToStream(
    BorrowedFd fd, absl::Span<const ConnectionState> states,
    const sys::Sys& sys = sys::LinuxSys());

// Reads exactly `n` bytes from `fd` into `out` (appended), polling until
// `deadline`, with read() and poll() through `sys`; memory grows only with
// what arrives. DataLoss if the stream ends first ("<what>: stream ended
// after X of N bytes"); a failed call gives "<what>: read: <errno's text>"
// (or poll) with its errno's code.
[[nodiscard]] absl::Status ReadStreamBytes(
    BorrowedFd fd, uint64_t n, absl::Time deadline, absl::string_view what,
    std::string* out, const sys::Sys& sys = sys::LinuxSys());

}  // namespace soccr

#endif  // SOCCR_IMAGE_STREAM_H_
