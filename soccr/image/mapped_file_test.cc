// MappedFile's kernel calls go through the Sys it is given: a failed
// open(), fstat() or mmap() is a clean error naming the call and its errno,
// a failed madvise() (advice only) changes nothing, and the last owner's
// release munmap()s through it.

#include "soccr/image/mapped_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/fd.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/testing/status_macros.h"
#include "soccr/testing/status_matchers.h"

namespace soccr {
namespace {

using ::soccr::testing::StatusIs;

// A file of `bytes` in the test's own directory.
std::string FileWith(const std::string& name, const std::string& bytes) {
  const char* dir = ::getenv("TEST_TMPDIR");
  const std::string path =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  OwnedFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  EXPECT_TRUE(fd) << path << ": " << ::strerror(errno);
  EXPECT_EQ(::write(fd.get(), bytes.data(), bytes.size()),
            static_cast<ssize_t>(bytes.size()));
  return path;
}

OwnedFd OpenForReading(const std::string& path) {
  OwnedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(fd) << path << ": " << ::strerror(errno);
  return fd;
}

TEST(MappedFileTest, MapsThroughTheGivenSys) {
  const std::string path = FileWith("through_sys", "hello");
  OwnedFd fd = OpenForReading(path);
  sys::FaultInjectingSys sys;
  ASSERT_OK_AND_ASSIGN(file, MappedFile::Map(fd.borrow(), sys));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file.bytes().data()),
                        file.bytes().size()),
            "hello");
  const std::vector<sys::FaultInjectingSys::Call> calls = sys.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].op, sys::Op::kFstat);
  EXPECT_EQ(calls[1].op, sys::Op::kMmap);
  EXPECT_EQ(calls[2].op, sys::Op::kMadvise);
  EXPECT_FALSE(calls[2].failed);
}

// The advice is only advice: a kernel that refuses it still gives the
// mapping, and its release.
TEST(MappedFileTest, AFailedMadviseIsIgnored) {
  const std::string path = FileWith("madvise_fails", "hello");
  OwnedFd fd = OpenForReading(path);
  sys::FaultInjectingSys sys;
  sys.FailOp(sys::Op::kMadvise, EINVAL);
  {
    ASSERT_OK_AND_ASSIGN(file, MappedFile::Map(fd.borrow(), sys));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(file.bytes().data()),
                          file.bytes().size()),
              "hello");
  }
  const std::vector<sys::FaultInjectingSys::Call> calls = sys.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[2].op, sys::Op::kMadvise);
  EXPECT_TRUE(calls[2].failed);
  EXPECT_EQ(calls[3].op, sys::Op::kMunmap);
}

TEST(MappedFileTest, OpensThroughTheGivenSys) {
  const std::string path = FileWith("open_through_sys", "hello");
  sys::FaultInjectingSys sys;
  ASSERT_OK_AND_ASSIGN(file, MappedFile::Open(path, sys));
  EXPECT_EQ(file.bytes().size(), 5u);
  const std::vector<sys::FaultInjectingSys::Call> calls = sys.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].op, sys::Op::kOpen);
  EXPECT_EQ(calls[1].op, sys::Op::kFstat);
  EXPECT_EQ(calls[2].op, sys::Op::kMmap);
  EXPECT_EQ(calls[3].op, sys::Op::kMadvise);
}

TEST(MappedFileTest, AFailedOpenNamesTheCallAndItsErrno) {
  const std::string path = FileWith("open_fails", "hello");
  sys::FaultInjectingSys sys;
  sys.FailOp(sys::Op::kOpen, EACCES);
  EXPECT_THAT(MappedFile::Open(path, sys),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       absl::StrCat(path, ": open: ", ::strerror(EACCES))));
  // Nothing else was tried after the failure.
  EXPECT_EQ(sys.calls().size(), 1u);
}

TEST(MappedFileTest, AMissingFileIsNotFoundNamingOpen) {
  const char* dir = ::getenv("TEST_TMPDIR");
  const std::string path =
      absl::StrCat(dir != nullptr ? dir : "/tmp", "/no_such_image");
  EXPECT_THAT(MappedFile::Open(path),
              StatusIs(absl::StatusCode::kNotFound,
                       absl::StrCat(path, ": open: ", ::strerror(ENOENT))));
}

TEST(MappedFileTest, TheLastOwnerUnmapsThroughTheGivenSys) {
  const std::string path = FileWith("unmap_through_sys", "hello");
  OwnedFd fd = OpenForReading(path);
  sys::FaultInjectingSys sys;
  void* addr = nullptr;
  std::shared_ptr<const void> owner;
  {
    ASSERT_OK_AND_ASSIGN(file, MappedFile::Map(fd.borrow(), sys));
    addr = const_cast<uint8_t*>(file.bytes().data());
    owner = file.owner();
  }
  // A copy of owner() keeps the mapping after the MappedFile is gone.
  ASSERT_EQ(sys.calls().size(), 3u);
  ASSERT_EQ(::msync(addr, 5, MS_ASYNC), 0) << ::strerror(errno);
  owner.reset();
  // Asked at once, before an allocation could map something there again.
  const int rc = ::msync(addr, 5, MS_ASYNC);
  const int err = errno;
  // The kernel no longer has the pages mapped.
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(err, ENOMEM);
  const std::vector<sys::FaultInjectingSys::Call> calls = sys.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[3].op, sys::Op::kMunmap);
  EXPECT_FALSE(calls[3].failed);
}

TEST(MappedFileTest, AFailedFstatNamesTheCallAndItsErrno) {
  const std::string path = FileWith("fstat_fails", "hello");
  OwnedFd fd = OpenForReading(path);
  sys::FaultInjectingSys sys;
  sys.FailOp(sys::Op::kFstat, EACCES);
  EXPECT_THAT(MappedFile::Map(fd.borrow(), sys),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       absl::StrCat("map fd ", fd.get(),
                                    ": fstat: ", ::strerror(EACCES))));
  // Nothing was mapped after the failure.
  EXPECT_EQ(sys.calls().size(), 1u);
}

TEST(MappedFileTest, AFailedMmapNamesTheCallAndItsErrno) {
  const std::string path = FileWith("mmap_fails", "hello");
  OwnedFd fd = OpenForReading(path);
  sys::FaultInjectingSys sys;
  sys.FailOp(sys::Op::kMmap, ENOMEM);
  EXPECT_THAT(MappedFile::Map(fd.borrow(), sys),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       absl::StrCat("map fd ", fd.get(), ": mmap of 5 bytes: ",
                                    ::strerror(ENOMEM))));
}

TEST(MappedFileTest, OpenPrefixesThePath) {
  const std::string path = FileWith("open_prefix", "hello");
  sys::FaultInjectingSys sys;
  sys.FailOp(sys::Op::kMmap, ENODEV);
  EXPECT_THAT(MappedFile::Open(path, sys),
              StatusIs(absl::ErrnoToStatusCode(ENODEV),
                       ::testing::AllOf(
                           ::testing::StartsWith(absl::StrCat(path, ": ")),
                           ::testing::EndsWith(absl::StrCat(
                               ": mmap of 5 bytes: ", ::strerror(ENODEV))))));
}

}  // namespace
}  // namespace soccr
