#include "soccr/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "gtest/gtest.h"

namespace soccr {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(OwnedFdTest, ClosesOnDestruction) {
  int raw = -1;
  {
    OwnedFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    raw = fd.get();
    EXPECT_TRUE(IsOpen(raw));
  }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(OwnedFdTest, MoveTransfersOwnership) {
  OwnedFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int raw = a.get();
  OwnedFd b(std::move(a));
  EXPECT_FALSE(
      a);  // NOLINT(bugprone-use-after-move): checking moved-from state.
  EXPECT_EQ(b.get(), raw);
  OwnedFd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(IsOpen(raw));
}

TEST(OwnedFdTest, ReleaseGivesUpOwnership) {
  int raw = -1;
  {
    OwnedFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    raw = fd.release();
    EXPECT_FALSE(fd);
  }
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(OwnedFdTest, ResetPreservesErrno) {
  OwnedFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  errno = EAGAIN;
  fd.reset();
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_FALSE(fd);
}

TEST(BorrowedFdTest, ViewsWithoutOwning) {
  OwnedFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  BorrowedFd b = fd.borrow();
  EXPECT_EQ(b.get(), fd.get());
  EXPECT_TRUE(b);
  EXPECT_FALSE(BorrowedFd());
  EXPECT_EQ(b, BorrowedFd(fd.get()));
}

}  // namespace
}  // namespace soccr
