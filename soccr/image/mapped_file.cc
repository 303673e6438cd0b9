#include "soccr/image/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"

namespace soccr {
namespace {

class Mapping {
 public:
  Mapping(void* addr, size_t size, const sys::Sys& sys)
      : addr_(addr), size_(size), sys_(sys) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  // A destructor cannot report: if munmap() fails, the pages stay mapped
  // until the process ends.
  ~Mapping() { (void)sys_.Munmap(addr_, size_); }

 private:
  void* addr_;
  size_t size_;
  const sys::Sys& sys_;
};

}  // namespace

absl::StatusOr<MappedFile> MappedFile::Map(BorrowedFd fd, const sys::Sys& sys) {
  const sys::Result<struct stat> file_stat = sys.Fstat(fd);
  if (!file_stat.ok()) {
    return internal::ErrnoStatus(
        file_stat.op, file_stat.err,
        absl::StrCat("map fd ", fd.get(), ": ", sys::OpName(file_stat.op)));
  }
  const struct stat& st = file_stat.value;
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("map fd ", fd.get(),
                     ": not a regular file (read it into memory instead)"));
  }
  if (st.st_size == 0) return MappedFile({}, nullptr);
  if (static_cast<uint64_t>(st.st_size) > SIZE_MAX) {
    return absl::ResourceExhaustedError(
        absl::StrCat("map fd ", fd.get(), ": ", st.st_size,
                     " bytes do not fit in the address space"));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  const sys::Result<void*> mapped = sys.Mmap(fd, size, PROT_READ, MAP_PRIVATE);
  if (!mapped.ok()) {
    return internal::ErrnoStatus(
        mapped.op, mapped.err,
        absl::StrCat("map fd ", fd.get(), ": ", sys::OpName(mapped.op), " of ",
                     size, " bytes"));
  }
  void* const addr = mapped.value;
  // Images are read front to back, once. Advice only: whether the kernel
  // takes it changes nothing else.
  (void)sys.Madvise(addr, size, MADV_SEQUENTIAL);
  auto mapping = std::make_shared<const Mapping>(addr, size, sys);
  return MappedFile(
      absl::Span<const uint8_t>(static_cast<const uint8_t*>(addr), size),
      std::move(mapping));
}

absl::StatusOr<MappedFile> MappedFile::Open(const std::string& path,
                                            const sys::Sys& sys) {
  sys::Result<OwnedFd> opened = sys.Open(path, O_RDONLY | O_CLOEXEC);
  if (!opened.ok()) {
    return internal::ErrnoStatus(
        opened.op, opened.err,
        absl::StrCat(path, ": ", sys::OpName(opened.op)));
  }
  absl::StatusOr<MappedFile> file = Map(opened.value.borrow(), sys);
  if (!file.ok()) {
    return absl::Status(file.status().code(),
                        absl::StrCat(path, ": ", file.status().message()));
  }
  return file;
}

}  // namespace soccr
