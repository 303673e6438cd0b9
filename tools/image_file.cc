#include "tools/image_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "soccr/fd.h"
#include "soccr/image/image.h"
#include "soccr/internal/status_code.h"
#include "soccr/status_macros.h"

namespace soccr::tools {
namespace {

absl::Status Errno(int err, absl::string_view what, absl::string_view call) {
  return internal::ErrnoStatus(err, absl::StrCat(what, ": ", call));
}

// The directory part of `path` ("." for a bare name) and the rest.
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// Anonymous memory, unmapped when the last owner goes.
class Memory {
 public:
  Memory(void* addr, size_t size) : addr_(addr), size_(size) {}
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;
  ~Memory() {
    if (size_ != 0) ::munmap(addr_, size_);
  }

 private:
  void* addr_;
  size_t size_;
};

}  // namespace

absl::StatusOr<uint64_t> WriteImageFile(
    const std::string& path, absl::Span<const ConnectionState> states) {
  return WriteFileSafely(path, absl::StrCat("write image ", path),
                         [&](BorrowedFd fd) { return WriteImage(fd, states); });
}

absl::StatusOr<uint64_t> WriteFileSafely(
    const std::string& path, absl::string_view what,
    absl::FunctionRef<absl::Status(BorrowedFd)> write) {
  const auto [dir, base] = SplitPath(path);
  if (base.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": the path names a directory"));
  }
  std::string temp = absl::StrCat(dir, "/.", base, ".tmp.XXXXXX");
  OwnedFd fd(::mkostemp(temp.data(), O_CLOEXEC));  // mode 0600
  if (!fd) return Errno(errno, what, absl::StrCat("mkostemp(", temp, ")"));
  // From here on, any failure removes the temporary file.
  auto fail = [&](absl::Status status) {
    fd.reset();
    ::unlink(temp.c_str());
    return status;
  };
  if (absl::Status s = write(fd.borrow()); !s.ok()) {
    return fail(absl::Status(s.code(), absl::StrCat(what, ": ", s.message())));
  }
  if (::fsync(fd.get()) != 0) {
    return fail(Errno(errno, what, absl::StrCat("fsync(", temp, ")")));
  }
  struct stat st = {};
  if (::fstat(fd.get(), &st) != 0) {
    return fail(Errno(errno, what, absl::StrCat("fstat(", temp, ")")));
  }
  // close() reports the errors some filesystems only detect then.
  if (::close(fd.release()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Errno(err, what, absl::StrCat("close(", temp, ")"));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return Errno(err, what, absl::StrCat("rename(", temp, ")"));
  }
  // The rename itself must reach the disk too.
  OwnedFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd) return Errno(errno, what, absl::StrCat("open(", dir, ")"));
  if (::fsync(dir_fd.get()) != 0) {
    return Errno(errno, what, absl::StrCat("fsync(", dir, ")"));
  }
  return static_cast<uint64_t>(st.st_size);
}

absl::StatusOr<ImageFile> ImageFile::Read(const std::string& path) {
  Progress none = Progress::None();
  return Read(path, none);
}

absl::StatusOr<ImageFile> ImageFile::Read(const std::string& path,
                                          Progress& progress) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused
  // below); regular files ignore the flag.
  OwnedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return internal::ErrnoStatus(errno, absl::StrCat("open ", path));
  struct stat st = {};
  if (::fstat(fd.get(), &st) != 0) {
    return internal::ErrnoStatus(errno, absl::StrCat("fstat ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a regular file"));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0) return ImageFile({}, nullptr);
  if (size > SIZE_MAX / 2) {
    return absl::ResourceExhaustedError(absl::StrCat(
        path, ": ", size, " bytes do not fit in the address space"));
  }
  // The file's real size, not a length read from it, sizes the memory.
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (addr == MAP_FAILED) {
    return internal::ErrnoStatus(
        errno, absl::StrCat("read ", path, ": mmap of ", size, " bytes"));
  }
  auto memory = std::make_shared<const Memory>(addr, size);
  uint8_t* out = static_cast<uint8_t*>(addr);
  uint64_t done = 0;
  // Reads up to byte `end` of the file.
  auto read_to = [&](uint64_t end) -> absl::Status {
    constexpr size_t kChunk = 8 << 20;
    while (done < end) {
      const ssize_t n =
          ::read(fd.get(), out + done, std::min<uint64_t>(kChunk, end - done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return internal::ErrnoStatus(errno, absl::StrCat("read ", path));
      }
      if (n == 0) {
        return absl::DataLossError(
            absl::StrCat("read ", path, ": the file shrank from ", size, " to ",
                         done, " bytes while it was read"));
      }
      done += static_cast<uint64_t>(n);
      progress.Update(done, size);
    }
    return absl::OkStatus();
  };
  // Untrusted: look before reading it whole. The header and the index come
  // first (what the image claims, checked against the file's real size), so
  // a file that is no image of its size costs a few bytes, not its size.
  for (;;) {
    absl::StatusOr<uint64_t> more =
        ImageReader::CheckPrefix(absl::Span<const uint8_t>(out, done), size);
    if (!more.ok()) {
      return absl::Status(more.status().code(),
                          absl::StrCat(path, ": ", more.status().message()));
    }
    if (*more == 0) break;
    if (*more <= done) {
      return absl::InternalError(
          absl::StrCat(path, ": the image header check wants no progress"));
    }
    SOCCR_RETURN_IF_ERROR(read_to(*more));
  }
  if (size >= (8u << 20)) progress.Step(absl::StrCat("reading ", path));
  SOCCR_RETURN_IF_ERROR(read_to(size));
  uint8_t extra;
  const ssize_t more = ::read(fd.get(), &extra, 1);
  if (more < 0)
    return internal::ErrnoStatus(errno, absl::StrCat("read ", path));
  if (more > 0) {
    return absl::DataLossError(absl::StrCat("read ", path,
                                            ": the file grew beyond ", size,
                                            " bytes while it was read"));
  }
  progress.Clear();
  return ImageFile(absl::Span<const uint8_t>(out, size), std::move(memory));
}

}  // namespace soccr::tools
