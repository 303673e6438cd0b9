#include "tools/image_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/image/image.h"

namespace soccr::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

class ImageFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = ::getenv("TEST_TMPDIR");
    dir_ = std::string(tmp != nullptr ? tmp : "/tmp") + "/image_file_test." +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
    absl::StatusOr<ImageFile> golden =
        ImageFile::Read("testdata/image/v1/three_connections.soccr");
    ASSERT_TRUE(golden.ok()) << golden.status();
    absl::StatusOr<std::vector<ConnectionState>> states =
        ParseImage(golden->bytes());
    ASSERT_TRUE(states.ok()) << states.status();
    states_ = *std::move(states);
  }

  std::string dir_;
  std::vector<ConnectionState> states_;
};

TEST_F(ImageFileTest, WritesReadsBackAndLeavesOnlyTheImage) {
  const std::string path = dir_ + "/c.soccr";
  absl::StatusOr<uint64_t> size = WriteImageFile(path, states_);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_THAT(List(dir_), ElementsAre("c.soccr"));
  struct stat st = {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), *size);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // the connection's data is private

  absl::StatusOr<ImageFile> file = ImageFile::Read(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->bytes().size(), *size);
  absl::StatusOr<ImageReader> reader =
      ImageReader::Open(file->bytes(), file->owner());
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::vector<ConnectionState>> back = reader->ReadAll();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, states_);

  // Replacing an existing image.
  size = WriteImageFile(path, {states_[1]});
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_THAT(List(dir_), ElementsAre("c.soccr"));
  file = ImageFile::Read(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(ParseImage(file->bytes())->size(), 1u);
}

TEST_F(ImageFileTest, FailuresLeaveNothingBehind) {
  absl::StatusOr<uint64_t> r =
      WriteImageFile(dir_ + "/no/such/dir/c.soccr", states_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("write image " + dir_ +
                                              "/no/such/dir/c.soccr: "
                                              "mkostemp("));

  // An invalid state: WriteImage refuses it before writing.
  ConnectionState bad = states_[0];
  bad.inq_len += 1;
  r = WriteImageFile(dir_ + "/bad.soccr", {bad});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("write image "));

  // The final name is a directory: the rename fails.
  ASSERT_EQ(::mkdir((dir_ + "/taken").c_str(), 0700), 0);
  r = WriteImageFile(dir_ + "/taken", states_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("rename("));

  EXPECT_THAT(List(dir_), ElementsAre("taken"));
  EXPECT_EQ(WriteImageFile(dir_ + "/", states_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ImageFileTest, ReadRefusesWhatIsNotARegularFile) {
  absl::StatusOr<ImageFile> f = ImageFile::Read(dir_);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), HasSubstr("is not a regular file"));

  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  f = ImageFile::Read(fifo);  // must not wait for a writer
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);

  f = ImageFile::Read(dir_ + "/missing");
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(f.status().message(), HasSubstr("open " + dir_ + "/missing"));

  const std::string empty = dir_ + "/empty";
  ASSERT_EQ(::close(::creat(empty.c_str(), 0600)), 0);
  f = ImageFile::Read(empty);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->bytes().empty());
}

// The peak resident memory of this process so far, in bytes.
uint64_t PeakRss() {
  struct rusage ru = {};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

// A sparse file of `size` bytes starting with `head`.
void MakeSparse(const std::string& path, uint64_t size,
                const std::string& head) {
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, head.data(), head.size()),
            static_cast<ssize_t>(head.size()));
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  ASSERT_EQ(::close(fd), 0);
}

// Untrusted files are looked at before they are read whole (issue 11): a
// 2 GiB file of zeros, or one whose header claims another length, is
// refused after its first bytes, without taking its size in memory.
TEST_F(ImageFileTest, LooksAtTheHeaderBeforeReadingALargeFile) {
  constexpr uint64_t k2GiB = uint64_t{2} << 30;
  const uint64_t rss_before = PeakRss();

  const std::string zeros = dir_ + "/zeros";
  MakeSparse(zeros, k2GiB, "");
  absl::StatusOr<ImageFile> f = ImageFile::Read(zeros);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(f.status().message(),
              HasSubstr("not a soccr image: it does not start with the magic "
                        "bytes 89 53 4f 43 43 52 0d 0a (2147483648 bytes"));

  // A real image, followed by 2 GiB of holes: its header says how long it is.
  absl::StatusOr<std::string> image = SerializeImage(states_);
  ASSERT_TRUE(image.ok()) << image.status();
  const std::string padded = dir_ + "/padded";
  MakeSparse(padded, k2GiB, *image);
  f = ImageFile::Read(padded);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(f.status().message(),
              HasSubstr(absl::StrCat(k2GiB - image->size(),
                                     " bytes follow the end of the image")));

  // A header that claims 2 GiB for a file that has 2 GiB, but whose index
  // lists nothing: refused on the index, before the rest is read.
  std::string claims = image->substr(0, 40);
  for (int i = 0; i < 8; ++i)
    claims[24 + i] = static_cast<char>(k2GiB >> (8 * i));
  for (int i = 20; i < 24; ++i) claims[i] = 0;  // no connections
  const std::string claiming = dir_ + "/claiming";
  MakeSparse(claiming, k2GiB, claims);
  f = ImageFile::Read(claiming);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(f.status().message(), HasSubstr("header checksum mismatch"));

  // A header claiming more than the file holds, refused before its index
  // of 100 connections is read.
  claims[20] = 100;
  const std::string short_file = dir_ + "/short";
  MakeSparse(short_file, 4096, claims);
  f = ImageFile::Read(short_file);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(f.status().message(),
              HasSubstr("truncated: the image is 2147483648 bytes, only 4096"));

  // None of it took the files' size in memory.
  EXPECT_LT(PeakRss() - rss_before, uint64_t{64} << 20);
}

TEST_F(ImageFileTest, RefusesDevicesWithoutReadingThem) {
  for (const char* device : {"/dev/zero", "/dev/null", "/dev/urandom"}) {
    absl::StatusOr<ImageFile> f = ImageFile::Read(device);
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << device;
    EXPECT_THAT(f.status().message(), HasSubstr("is not a regular file"));
  }
}

}  // namespace
}  // namespace soccr::tools
