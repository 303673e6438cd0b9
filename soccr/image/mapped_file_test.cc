// MappedFile's kernel calls go through the Sys it is given: a failed
// fstat() or mmap() is a clean error naming the call and its errno.

#include "soccr/image/mapped_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].op, sys::Op::kFstat);
  EXPECT_EQ(calls[1].op, sys::Op::kMmap);
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
