// soccr/image/mapped_file.h: a whole file mapped read-only into memory.
//
//   absl::StatusOr<soccr::MappedFile> file = soccr::MappedFile::Open(path);
//   if (!file.ok()) return file.status();
//   absl::Span<const uint8_t> bytes = file->bytes();
//   std::shared_ptr<const void> keep = file->owner();  // the mapping lives on
//
// The mapping is released when the MappedFile and every copy of owner()
// are gone, so a QueueBytes::View() into it stays valid however long it
// lives. An empty file gives an empty span and no mapping.
//
// The file must not be truncated or rewritten while it is mapped: reading a
// page that truncation removed raises SIGBUS, and a rewrite shows through.
// For a file that a party you do not trust can still change, read it into
// memory and parse the copy instead.

#ifndef SOCCR_IMAGE_MAPPED_FILE_H_
#define SOCCR_IMAGE_MAPPED_FILE_H_

#include <stdint.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "soccr/fd.h"
#include "soccr/sys/sys.h"

namespace soccr {

class MappedFile {
 public:
  // Maps the regular file open on `fd` (read access needed), whole, with
  // fstat() and mmap() through `sys`; the last owner's release munmap()s it
  // through `sys` too, so `sys` must outlive the MappedFile and every copy
  // of owner() (LinuxSys() lives forever). The descriptor may be closed
  // afterwards. InvalidArgument if it is not a regular file; otherwise the
  // failing call, with its errno's code ("map fd 3: fstat: <errno's text>").
  [[nodiscard]] static absl::StatusOr<MappedFile> Map(
      BorrowedFd fd, const sys::Sys& sys = sys::LinuxSys());
  // Opens `path` read-only with open() through `sys` and maps it as Map()
  // does, an error prefixed with the path ("/x: open: <errno's text>",
  // "/x: map fd 3: mmap of 5 bytes: <errno's text>").
  [[nodiscard]] static absl::StatusOr<MappedFile> Open(
      const std::string& path, const sys::Sys& sys = sys::LinuxSys());

  MappedFile(MappedFile&&) noexcept = default;
  MappedFile& operator=(MappedFile&&) noexcept = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  absl::Span<const uint8_t> bytes() const { return bytes_; }
  // Keeps the mapping alive; null for an empty file.
  const std::shared_ptr<const void>& owner() const { return owner_; }

 private:
  MappedFile(absl::Span<const uint8_t> bytes, std::shared_ptr<const void> owner)
      : bytes_(bytes), owner_(std::move(owner)) {}

  absl::Span<const uint8_t> bytes_;
  std::shared_ptr<const void> owner_;
};

}  // namespace soccr

#endif  // SOCCR_IMAGE_MAPPED_FILE_H_
