// soccr/unix/image.h: unix socket records in soccr images (format 1.1,
// docs/image-format.md, "Unix socket records").
//
//   absl::StatusOr<std::string> bytes = soccr::SerializeUnixImage({a, b});
//   absl::StatusOr<soccr::MappedFile> file = soccr::MappedFile::Open(path);
//   absl::StatusOr<soccr::ImageReader> r = soccr::ImageReader::Open(*file);
//   absl::StatusOr<bool> unix = soccr::IsUnixRecord(*r, 0);
//   absl::StatusOr<soccr::UnixSocketState> s = soccr::ReadUnixSocket(*r, 0);
//
// The container (header, index, records, checksums) is the TCP images'
// one; a record holding a unix socket has a required `UNIX` section and
// no `TCPS`, so a 1.0 reader refuses it (Unimplemented, naming `UNIX`).
// Images are untrusted: errors are DataLoss for malformed bytes,
// InvalidArgument for a well-formed record whose state a restore would
// refuse (ValidateUnixSocketState), and nothing is allocated by a length
// or count from the image before the bytes it claims are known to be there.

#ifndef SOCCR_UNIX_IMAGE_H_
#define SOCCR_UNIX_IMAGE_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "soccr/fd.h"
#include "soccr/image/image.h"
#include "soccr/unix/unix_socket.h"

namespace soccr {

// The minor version an image with unix socket records carries. Images of
// TCP connections only are still written as 1.0 (byte for byte as before).
inline constexpr uint16_t kUnixImageMinorVersion = 1;

// What a restore needs of a state to make sense: a known type and state,
// names that fit sun_path (a path: non-empty, no NUL), no queue on a
// listener, no empty message in a stream's queue, a peek offset of -1 or
// more, no backlog on a socket that does not listen. InvalidArgument.
[[nodiscard]] absl::Status ValidateUnixSocketState(const UnixSocketState& s);

// An image (format 1.1) of `sockets`, one record each, in order. Each is
// validated first (InvalidArgument, nothing produced).
[[nodiscard]] absl::StatusOr<std::string> SerializeUnixImage(
    absl::Span<const UnixSocketState> sockets);

// The same, written to `fd` whole (EINTR and short writes retried).
[[nodiscard]] absl::Status WriteUnixImage(
    BorrowedFd fd, absl::Span<const UnixSocketState> sockets);

// Whether record `index` of `image` is a unix socket record (has a `UNIX`
// section). Checks the record's checksum and layout.
[[nodiscard]] absl::StatusOr<bool> IsUnixRecord(const ImageReader& image,
                                                size_t index);

// Decodes record `index` of `image` as a unix socket (InvalidArgument when
// it is a TCP connection record) and validates it.
[[nodiscard]] absl::StatusOr<UnixSocketState> ReadUnixSocket(
    const ImageReader& image, size_t index);

// Every record of the image in `bytes`, which must all be unix sockets.
[[nodiscard]] absl::StatusOr<std::vector<UnixSocketState>> ParseUnixImage(
    absl::Span<const uint8_t> bytes, const ImageReadOptions& options = {});

}  // namespace soccr

#endif  // SOCCR_UNIX_IMAGE_H_
