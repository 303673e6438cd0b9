// soccr/image/image.h: connection images, the on-disk form of
// ConnectionStates (specified byte by byte in docs/image-format.md).
//
// Writing: straight from the checkpoint's queue buffers to a descriptor
// (writev), with no copy of the queue bytes in between.
//
//   absl::Status st = soccr::WriteImage(fd.borrow(), {state_a, state_b});
//
// Reading: from a mapped file (or any buffer with an owner), in place: the
// states' queues are views into the mapping until Restore() writes them
// into the new socket. Reading one connection reads only its own bytes.
//
//   absl::StatusOr<soccr::MappedFile> file = soccr::MappedFile::Open(path);
//   absl::StatusOr<soccr::ImageReader> image = soccr::ImageReader::Open(*file);
//   absl::StatusOr<soccr::ConnectionState> s = image->Read(1);
//   absl::StatusOr<soccr::RestoredSocket> r = soccr::Restore(*s);
//
// Images are untrusted input. Every error is one of:
//   DataLoss        the bytes are not a well-formed image (truncated,
//                   corrupted, wrong magic, lengths beyond the file,
//                   overlapping or misplaced sections, bad checksum);
//   Unimplemented   a later major format version, or a required section or
//                   flag this reader does not know (named in the message);
//   InvalidArgument the image is well formed but the state it holds is not
//                   restorable, as PlanRestore() judges it (the message is
//                   PlanRestore's);
// with the connection's position in the image in the message. Nothing is
// allocated by a length read from the image before the bytes it claims
// are known to be there.

#ifndef SOCCR_IMAGE_IMAGE_H_
#define SOCCR_IMAGE_IMAGE_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/image/mapped_file.h"
#include "soccr/sys/sys.h"

namespace soccr {

// The format version this library writes (major.minor). It reads every
// minor version of major 1.
inline constexpr uint16_t kImageMajorVersion = 1;
inline constexpr uint16_t kImageMinorVersion = 0;

struct ImageWriteOptions {
  // Check each state with PlanRestore() before anything is written
  // (InvalidArgument, and nothing written, if one is not restorable), so
  // that the image holds only restorable states. Off only for a writer
  // whose every reader checks the states itself: a reader's own check
  // (ImageReadOptions::check_restorable) and Restore() make the same one,
  // and neither can be turned off by the writer. soccr::Send turns it off:
  // the destination plans each state once, in its Restore(), and refuses a
  // bad one there (the move then rolls back). Unchecked, the image is
  // still well formed whatever the states hold (a reader's checks of the
  // form pass), but may hold a state a restore refuses.
  bool check_restorable = true;
};

// Writes an image of `states` to `fd` (a file, pipe or socket; a
// non-blocking one is waited on with poll), through `sys`. Queue bytes go from
// the states' QueueBytes to the kernel without a copy. A socket whose peer has
// gone gives EPIPE (never SIGPIPE); a pipe whose reader has gone raises SIGPIPE
// as write(2) does, unless the process ignores it. Each state is checked with
// PlanRestore first (unless `options` say not to): an image holds only
// restorable states (InvalidArgument otherwise, and nothing is written). A
// write error gives the errno's code, with how many bytes were written; the
// descriptor may then hold part of an image, which a reader rejects as
// truncated.
[[nodiscard]] absl::Status WriteImage(BorrowedFd fd,
                                      absl::Span<const ConnectionState> states,
                                      const sys::Sys& sys = sys::LinuxSys());
[[nodiscard]] absl::Status WriteImage(BorrowedFd fd,
                                      absl::Span<const ConnectionState> states,
                                      const ImageWriteOptions& options,
                                      const sys::Sys& sys = sys::LinuxSys());

// The same image as bytes in memory.
[[nodiscard]] absl::StatusOr<std::string> SerializeImage(
    absl::Span<const ConnectionState> states,
    const ImageWriteOptions& options = {});

// One connection of an image, with what this reader skipped of it.
struct ImageRecord {
  ConnectionState state;
  // Socket options this reader does not know (a later soccr's table may
  // have more rows): not part of `state`, so a restore does without them.
  std::vector<SocketOption> skipped_options;
};

struct ImageReadOptions {
  // Check the header's and each record's XXH3 checksum. Off only to inspect
  // a damaged image or to let a fuzzer past the checksums: every other
  // check still runs.
  bool verify_checksums = true;
  // Check each state Read() returns with PlanRestore() (InvalidArgument if
  // it is not restorable). Off only for a caller that hands every state it
  // reads to Restore(), which makes the same checks before it touches a
  // socket: the state is then planned once, not twice. The image's form
  // (layout, sections, lengths, checksums) is checked either way.
  bool check_restorable = true;
};

// A parsed image header and index. Cheap to copy (the bytes are shared).
// Immutable: Read() may run on several threads at once.
class ImageReader {
 public:
  // Checks the header and index of the image in `bytes` (their checksum,
  // the version, that the records tile the file exactly). Reads nothing of
  // the connection records yet.
  //
  // `owner` keeps `bytes` alive and unchanged: the states Read() returns
  // refer to their queue bytes in place and share it. Without an owner,
  // Read() copies the queue bytes instead, and `bytes` need only outlive
  // the reader.
  [[nodiscard]] static absl::StatusOr<ImageReader> Open(
      absl::Span<const uint8_t> bytes, std::shared_ptr<const void> owner,
      const ImageReadOptions& options = {});
  // The image in a mapped file, read in place.
  [[nodiscard]] static absl::StatusOr<ImageReader> Open(
      const MappedFile& file, const ImageReadOptions& options = {});

  // Checks, before a file of `file_size` bytes is read whole, what its first
  // bytes say: Open()'s checks of the header and the index, and that the
  // header's length is the file's. `prefix` holds the file's first bytes.
  // Returns 0 when they passed, or, when `prefix` is too short to decide,
  // how many bytes from the start the next call needs (at most the header
  // and the index, never more than `file_size`): so a file that is no image
  // is refused after reading 40 bytes of it, whatever its size. Errors as
  // Open()'s.
  [[nodiscard]] static absl::StatusOr<uint64_t> CheckPrefix(
      absl::Span<const uint8_t> prefix, uint64_t file_size,
      const ImageReadOptions& options = {});

  uint16_t major_version() const { return major_; }
  uint16_t minor_version() const { return minor_; }
  // The number of connections in the image.
  size_t size() const { return count_; }

  // Parses connection `index` (< size()): checks its record's checksum and
  // layout, decodes it, and validates the state with PlanRestore() (unless
  // the options say not to). Touches the bytes of that record only.
  [[nodiscard]] absl::StatusOr<ConnectionState> Read(size_t index) const;
  // The same, with the socket options it skipped for not knowing them.
  [[nodiscard]] absl::StatusOr<ImageRecord> ReadRecord(size_t index) const;
  // The bytes of record `index` (< size()), its checksum checked (unless
  // the options say not to) and nothing else: for the decoders of record
  // kinds this class does not decode (unix sockets: soccr/unix/image.h).
  [[nodiscard]] absl::StatusOr<absl::Span<const uint8_t>> RecordBytes(
      size_t index) const;
  // Every connection, in order; the first error stops it.
  [[nodiscard]] absl::StatusOr<std::vector<ConnectionState>> ReadAll() const;

 private:
  ImageReader() = default;

  absl::Span<const uint8_t> bytes_;
  std::shared_ptr<const void> owner_;
  ImageReadOptions options_;
  uint16_t major_ = 0;
  uint16_t minor_ = 0;
  size_t count_ = 0;
  size_t index_offset_ = 0;
};

// Parses a whole image from memory; the queue bytes are copied, so `bytes`
// need not outlive the result.
[[nodiscard]] absl::StatusOr<std::vector<ConnectionState>> ParseImage(
    absl::Span<const uint8_t> bytes, const ImageReadOptions& options = {});

}  // namespace soccr

#endif  // SOCCR_IMAGE_IMAGE_H_
