// tools/image_file.h: image files, written so that a crash never leaves a
// half-written image under the final name, and read into private memory.
//
//   absl::StatusOr<uint64_t> size =
//       soccr::tools::WriteImageFile("c.soccr", {state});
//   absl::StatusOr<soccr::tools::ImageFile> file =
//       soccr::tools::ImageFile::Read("c.soccr");
//   absl::StatusOr<soccr::ImageReader> image =
//       soccr::ImageReader::Open(file->bytes(), file->owner());
//
// Why read and not map: an image may sit where someone else can rewrite or
// truncate it. A mapping would show such a change after the checksums were
// verified (and a truncation would kill the process with SIGBUS); a
// private copy is exactly the bytes that were checked.

#ifndef SOCCR_TOOLS_IMAGE_FILE_H_
#define SOCCR_TOOLS_IMAGE_FILE_H_

#include <stdint.h>

#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "tools/progress.h"

namespace soccr::tools {

// Writes the image of `states` to `path` safely: into a new file (mode
// 0600: an image holds the connection's data) in the same directory,
// flushed to disk with fsync, renamed over `path`, and the directory
// flushed too. Returns the image's size in bytes. On error nothing is left
// behind and `path` is as it was; the message names the file and the call.
[[nodiscard]] absl::StatusOr<uint64_t> WriteImageFile(
    const std::string& path, absl::Span<const ConnectionState> states);

// The same safe write for any content: `write` fills the new file (from
// its start, through the descriptor it is given) and the rest is done as
// above. `what` starts every error message ("write image c.soccr: ...").
// Returns the file's size in bytes.
[[nodiscard]] absl::StatusOr<uint64_t> WriteFileSafely(
    const std::string& path, absl::string_view what,
    absl::FunctionRef<absl::Status(BorrowedFd)> write);

// A whole image file in private memory.
class ImageFile {
 public:
  // Reads the regular file `path`, showing progress for large files. The
  // header and index are read and checked first (ImageReader::CheckPrefix):
  // a file that is not an image of its size is refused with DataLoss (or
  // Unimplemented for a later major version) after reading only those, so
  // a huge file of zeros costs 40 bytes of reading. InvalidArgument if it is
  // not a regular file (a FIFO, a device: never opened for long, never
  // waited on); DataLoss if its size changed while it was read; the failing
  // call's errno otherwise.
  [[nodiscard]] static absl::StatusOr<ImageFile> Read(const std::string& path,
                                                      Progress& progress);
  [[nodiscard]] static absl::StatusOr<ImageFile> Read(const std::string& path);

  absl::Span<const uint8_t> bytes() const { return bytes_; }
  // Keeps bytes() alive (for ImageReader::Open and the states it reads).
  const std::shared_ptr<const void>& owner() const { return owner_; }

 private:
  ImageFile(absl::Span<const uint8_t> bytes, std::shared_ptr<const void> owner)
      : bytes_(bytes), owner_(std::move(owner)) {}

  absl::Span<const uint8_t> bytes_;
  std::shared_ptr<const void> owner_;
};

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_IMAGE_FILE_H_
