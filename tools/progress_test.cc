#include "tools/progress.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace soccr::tools {
namespace {

std::string Drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  return out;
}

class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::pipe2(fds_, O_NONBLOCK | O_CLOEXEC), 0); }
  void TearDown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int fds_[2];
};

TEST_F(ProgressTest, DisabledWritesNothing) {
  {
    Progress p(BorrowedFd(fds_[1]), false, "soccr x");
    p.Step("reading");
    p.Update(1, 2);
    p.Clear();
  }
  EXPECT_EQ(Drain(fds_[0]), "");
}

TEST_F(ProgressTest, RedrawsOneLineOncePerPercentAndErasesIt) {
  {
    Progress p(BorrowedFd(fds_[1]), true, "soccr x");
    p.Step("reading f");
    p.Update(0, 200);
    p.Update(1, 200);  // still 0%: not redrawn
    p.Update(100 << 10, 200 << 10);
  }  // the destructor erases the line
  EXPECT_EQ(Drain(fds_[0]),
            "\r\x1b[Ksoccr x: reading f"
            "\r\x1b[Ksoccr x: reading f 0 bytes of 200 bytes (0%)"
            "\r\x1b[Ksoccr x: reading f 100.0 KiB of 200.0 KiB (50%)"
            "\r\x1b[K");
}

TEST(FormatBytesTest, Units) {
  EXPECT_EQ(FormatBytes(0), "0 bytes");
  EXPECT_EQ(FormatBytes(1), "1 byte");
  EXPECT_EQ(FormatBytes(1023), "1023 bytes");
  EXPECT_EQ(FormatBytes(1024), "1.0 KiB");
  EXPECT_EQ(FormatBytes(64 << 20), "64.0 MiB");
  EXPECT_EQ(FormatBytes(uint64_t{3} << 29), "1.5 GiB");
}

}  // namespace
}  // namespace soccr::tools
