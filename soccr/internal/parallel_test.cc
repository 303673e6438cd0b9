// ParallelFor: every index exactly once, on as many threads as asked.

#include "soccr/internal/parallel.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace soccr::internal {
namespace {

TEST(ParallelForTest, CallsEveryIndexExactlyOnce) {
  for (size_t n : {0, 1, 7, 64, 1000, 10007}) {
    for (int threads : {1, 2, 3}) {
      std::vector<std::atomic<int>> calls(n);
      ParallelFor(n, threads, 1, [&](size_t i) { calls[i].fetch_add(1); });
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(calls[i].load(), 1)
            << "n " << n << " threads " << threads << " index " << i;
      }
    }
  }
}

TEST(ParallelForTest, RunsOnTheRequestedNumberOfThreadsAtOnce) {
  // Each call waits until two different threads are inside fn at the same
  // time: only a ParallelFor that really runs two threads gets past it.
  std::mutex mu;
  std::condition_variable cv;
  std::set<pthread_t> inside;
  std::set<pthread_t> seen;
  bool met = false;
  ParallelFor(64, 2, 1, [&](size_t) {
    std::unique_lock<std::mutex> lock(mu);
    inside.insert(pthread_self());
    seen.insert(pthread_self());
    if (inside.size() >= 2) met = true;
    cv.notify_all();
    // A guard against hanging forever if only one thread ever comes.
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return met; });
    inside.erase(pthread_self());
  });
  EXPECT_TRUE(met);
  EXPECT_EQ(seen.size(), 2u);
}

TEST(ParallelForTest, FewItemsUseFewerThreads) {
  EXPECT_EQ(ThreadsFor(10, 8, 5), 2);
  EXPECT_EQ(ThreadsFor(10, 8, 100), 1);
  EXPECT_EQ(ThreadsFor(1000, 3, 1), 3);
  EXPECT_EQ(ThreadsFor(1000, 0, 1), UsableCpus());
  EXPECT_GE(UsableCpus(), 1);
}

}  // namespace
}  // namespace soccr::internal
