// QueueBytes: storage of every size, sharing, and the large-buffer paths
// (mmap from 1 MiB: where the kernel gives transparent huge pages on
// request, huge-page aligned, and populated up front elsewhere).

#include "soccr/queue_bytes.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace soccr {
namespace {

// Whether every page of [data, data + size) is resident (mincore).
bool AllResident(const uint8_t* data, size_t size) {
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t start = reinterpret_cast<uintptr_t>(data) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(data) + size;
  std::vector<unsigned char> vec((end - start + page - 1) / page);
  if (::mincore(reinterpret_cast<void*>(start), end - start, vec.data()) != 0) {
    return false;
  }
  for (unsigned char v : vec) {
    if ((v & 1) == 0) return false;
  }
  return true;
}

// THP "always" or "madvise": a region that asks gets huge pages.
bool HugePagesOnRequest() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::stringstream mode;
  mode << f.rdbuf();
  return mode.str().find("[always]") != std::string::npos ||
         mode.str().find("[madvise]") != std::string::npos;
}

// Whether `size` takes the huge-page path on this machine.
bool HugePath(size_t size) { return size >= (1 << 20) && HugePagesOnRequest(); }

class AllocateTest : public ::testing::TestWithParam<size_t> {};

INSTANTIATE_TEST_SUITE_P(Sizes, AllocateTest,
                         ::testing::Values(1, 4095, 65536, (1 << 20) - 1,
                                           1 << 20, (2 << 20) - 1, 2 << 20,
                                           (3 << 20) + 1, 64 << 20));

TEST_P(AllocateTest, GivesWritableStorageOfTheSize) {
  const size_t n = GetParam();
  uint8_t* out = nullptr;
  QueueBytes q = QueueBytes::Allocate(n, &out);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(q.data(), out);
  EXPECT_EQ(q.size(), n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(i * 7 + 3);
  for (size_t i = 0; i < n; i += 4093) {
    ASSERT_EQ(q.data()[i], static_cast<uint8_t>(i * 7 + 3)) << i;
  }
  EXPECT_EQ(q.data()[n - 1], static_cast<uint8_t>((n - 1) * 7 + 3));
}

TEST_P(AllocateTest, LargeStorageIsPopulatedUpFront) {
  const size_t n = GetParam();
  if (n < (1 << 20)) GTEST_SKIP() << "heap storage, faulted in on use";
  if (HugePath(n)) GTEST_SKIP() << "huge pages, faulted in as filled";
  uint8_t* out = nullptr;
  QueueBytes q = QueueBytes::Allocate(n, &out);
  EXPECT_TRUE(AllResident(q.data(), q.size()));
}

TEST_P(AllocateTest, HugePageSizedStorageIsAlignedForHugePages) {
  const size_t n = GetParam();
  if (!HugePath(n)) GTEST_SKIP() << "no huge pages for this size here";
  uint8_t* out = nullptr;
  QueueBytes q = QueueBytes::Allocate(n, &out);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(q.data()) % (2 << 20), 0u);
}

TEST(QueueBytesTest, EmptyAllocation) {
  uint8_t* out = reinterpret_cast<uint8_t*>(1);
  QueueBytes q = QueueBytes::Allocate(0, &out);
  EXPECT_EQ(out, nullptr);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q, QueueBytes());
}

TEST(QueueBytesTest, CopiesShareStorageAndOutliveTheOriginal) {
  const std::string data(3 << 20, 'x');
  QueueBytes copy;
  {
    QueueBytes q = QueueBytes::Copy(data);
    copy = q;
    EXPECT_EQ(copy.data(), q.data());
  }
  EXPECT_EQ(copy.view(), data);  // The mapping lives as long as a copy.
  QueueBytes sub = copy.Subrange(1 << 20, 10);
  EXPECT_EQ(sub.view(), std::string(10, 'x'));
  EXPECT_EQ(sub.data(), copy.data() + (1 << 20));
}

TEST(QueueBytesTest, SubrangeIsClamped) {
  QueueBytes q = QueueBytes::Copy(absl::string_view("abcdef"));
  EXPECT_EQ(q.Subrange(4, 100).view(), "ef");
  EXPECT_TRUE(q.Subrange(100, 1).empty());
}

TEST(QueueBytesTest, EqualityIsByContent) {
  EXPECT_EQ(QueueBytes::Copy(absl::string_view("abc")),
            QueueBytes::Copy(absl::string_view("abc")));
  EXPECT_NE(QueueBytes::Copy(absl::string_view("abc")),
            QueueBytes::Copy(absl::string_view("abd")));
  EXPECT_NE(QueueBytes::Copy(absl::string_view("abc")),
            QueueBytes::Copy(absl::string_view("ab")));
}

// Whether the page holding `p` is mapped in this process.
bool Mapped(const uint8_t* p) {
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  unsigned char v = 0;
  return ::mincore(reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) &
                                           ~(page - 1)),
                   page, &v) == 0;
}

// Released large storage is handed out again (QueueBytes::SetReuseLimit),
// never while a QueueBytes still refers to it.
class ReuseTest : public ::testing::TestWithParam<size_t> {
 protected:
  // Each test starts with nothing kept and the default limit.
  void SetUp() override {
    QueueBytes::SetReuseLimit(0);
    QueueBytes::SetReuseLimit(QueueBytes::kDefaultReuseLimit);
  }
  void TearDown() override { SetUp(); }
};

INSTANTIATE_TEST_SUITE_P(Sizes, ReuseTest,
                         ::testing::Values(1 << 20, (2 << 20) - 1, 2 << 20,
                                           (3 << 20) + 1, 16 << 20));

TEST_P(ReuseTest, ReleasedStorageIsReused) {
  const size_t n = GetParam();
  uint8_t* out = nullptr;
  const uint8_t* first = nullptr;
  {
    QueueBytes q = QueueBytes::Allocate(n, &out);
    first = q.data();
    memset(out, 0xab, n);
  }
  // Kept: still mapped (unmapped, mincore would fail with ENOMEM).
  EXPECT_TRUE(Mapped(first));
  QueueBytes again = QueueBytes::Allocate(n, &out);
  EXPECT_EQ(again.data(), first);
  // Writable over its whole length, as new storage is.
  memset(out, 0xcd, n);
  EXPECT_EQ(again.data()[n - 1], 0xcd);
}

TEST_P(ReuseTest, StorageStillReferredToIsNotReused) {
  const size_t n = GetParam();
  uint8_t* out = nullptr;
  QueueBytes a = QueueBytes::Allocate(n, &out);
  memset(out, 1, n);
  QueueBytes a_copy = a.Subrange(n / 2, n);
  a = QueueBytes();  // the subrange still holds the storage
  QueueBytes b = QueueBytes::Allocate(n, &out);
  memset(out, 2, n);
  EXPECT_NE(b.data(), a_copy.data() - n / 2);
  EXPECT_EQ(a_copy.data()[0], 1);
  EXPECT_EQ(a_copy.data()[a_copy.size() - 1], 1);
}

TEST_P(ReuseTest, NothingIsKeptWithALimitOfZero) {
  const size_t n = GetParam();
  QueueBytes::SetReuseLimit(0);
  uint8_t* out = nullptr;
  const uint8_t* first = nullptr;
  {
    QueueBytes q = QueueBytes::Allocate(n, &out);
    first = q.data();
  }
  EXPECT_FALSE(Mapped(first));  // munmap'd at once
}

TEST(QueueBytesReuseTest, MuchLargerStorageIsNotHandedOutForLittle) {
  QueueBytes::SetReuseLimit(0);
  QueueBytes::SetReuseLimit(QueueBytes::kDefaultReuseLimit);
  uint8_t* out = nullptr;
  const uint8_t* big = nullptr;
  {
    QueueBytes q = QueueBytes::Allocate(32 << 20, &out);
    big = q.data();
  }
  QueueBytes small = QueueBytes::Allocate(1 << 20, &out);
  EXPECT_NE(small.data(), big);
  // ... but the large one is still there for a large request.
  QueueBytes large = QueueBytes::Allocate(30 << 20, &out);
  EXPECT_EQ(large.data(), big);
  QueueBytes::SetReuseLimit(0);
  QueueBytes::SetReuseLimit(QueueBytes::kDefaultReuseLimit);
}

// A child forked while another thread is inside the reuse cache can still
// allocate and release large storage: without the atfork handlers it would
// inherit the cache's lock held by a thread it does not have and wait for
// it forever. The churning thread holds the lock for a small fraction of
// each iteration, so over a few hundred forks an unprotected cache is
// caught holding it (seen: with the handlers removed, a child hung).
TEST(QueueBytesReuseTest, ChildForkedWhileAnotherThreadReleasesCanAllocate) {
  QueueBytes::SetReuseLimit(0);
  QueueBytes::SetReuseLimit(QueueBytes::kDefaultReuseLimit);
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      uint8_t* out = nullptr;
      QueueBytes q = QueueBytes::Allocate(1 << 20, &out);
      out[0] = 1;
    }
  });
  constexpr int kForks = 300;
  int hung = 0;
  int failed = 0;
  for (int i = 0; i < kForks && hung == 0; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << "fork: " << strerror(errno);
    if (pid == 0) {
      uint8_t* out = nullptr;
      {
        QueueBytes q = QueueBytes::Allocate(1 << 20, &out);
        out[(1 << 20) - 1] = 2;
      }
      QueueBytes again = QueueBytes::Allocate(1 << 20, &out);
      ::_exit(out != nullptr && again.size() == (1 << 20) ? 0 : 1);
    }
    // A healthy child exits at once; one that waits on the lock never
    // does. The bound only decides when to stop waiting for a hung one.
    int status = 0;
    pid_t done = 0;
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < give_up) {
      ::usleep(1000);
    }
    if (done == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ++hung;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failed;
    }
  }
  stop = true;
  churn.join();
  EXPECT_EQ(hung, 0) << "a forked child waited forever on the cache's lock";
  EXPECT_EQ(failed, 0);
  QueueBytes::SetReuseLimit(0);
  QueueBytes::SetReuseLimit(QueueBytes::kDefaultReuseLimit);
}

TEST(QueueBytesReuseTest, StorageAboveTheLimitIsNotKept) {
  const size_t old = QueueBytes::SetReuseLimit(4 << 20);
  QueueBytes::SetReuseLimit(0);
  QueueBytes::SetReuseLimit(4 << 20);
  uint8_t* out = nullptr;
  const uint8_t* first = nullptr;
  {
    QueueBytes q = QueueBytes::Allocate(8 << 20, &out);
    first = q.data();
    memset(out, 0xab, 8 << 20);
  }
  EXPECT_FALSE(Mapped(first));
  QueueBytes again = QueueBytes::Allocate(8 << 20, &out);
  // Unmapped and mapped anew: the address may come back by chance, but the
  // pages are the kernel's new zeroed ones.
  if (again.data() == first) {
    EXPECT_EQ(again.data()[0], 0);
  }
  QueueBytes::SetReuseLimit(0);
  QueueBytes::SetReuseLimit(old);
}

}  // namespace
}  // namespace soccr
