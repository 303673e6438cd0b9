#include "soccr/image/mapped_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace soccr {
namespace {

class Mapping {
 public:
  Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { ::munmap(addr_, size_); }

 private:
  void* addr_;
  size_t size_;
};

}  // namespace

absl::StatusOr<MappedFile> MappedFile::Map(BorrowedFd fd) {
  struct stat st = {};
  if (::fstat(fd.get(), &st) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("map fd ", fd.get(), ": fstat"));
  }
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
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("map fd ", fd.get(), ": mmap of ", size, " bytes"));
  }
  // Images are read front to back, once.
  (void)::madvise(addr, size, MADV_SEQUENTIAL);
  auto mapping = std::make_shared<const Mapping>(addr, size);
  return MappedFile(
      absl::Span<const uint8_t>(static_cast<const uint8_t*>(addr), size),
      std::move(mapping));
}

absl::StatusOr<MappedFile> MappedFile::Open(const std::string& path) {
  OwnedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  }
  absl::StatusOr<MappedFile> file = Map(fd.borrow());
  if (!file.ok()) {
    return absl::Status(file.status().code(),
                        absl::StrCat(path, ": ", file.status().message()));
  }
  return file;
}

}  // namespace soccr
