#include "soccr/internal/parallel.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <vector>

namespace soccr::internal {
namespace {

struct Shared {
  size_t n;
  size_t block;
  std::atomic<size_t> next{0};
  absl::FunctionRef<void(size_t)> fn;
};

void Work(Shared& shared) {
  for (;;) {
    const size_t begin =
        shared.next.fetch_add(shared.block, std::memory_order_relaxed);
    if (begin >= shared.n) return;
    const size_t end = std::min(shared.n, begin + shared.block);
    for (size_t i = begin; i < end; ++i) shared.fn(i);
  }
}

void* ThreadMain(void* arg) {
  Work(*static_cast<Shared*>(arg));
  return nullptr;
}

}  // namespace

int UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

int ThreadsFor(size_t n, int threads, size_t min_per_thread) {
  if (threads <= 0) threads = UsableCpus();
  if (min_per_thread == 0) min_per_thread = 1;
  const size_t by_items = std::max<size_t>(1, n / min_per_thread);
  return static_cast<int>(
      std::min<size_t>(static_cast<size_t>(threads), by_items));
}

void ParallelFor(size_t n, int threads, size_t min_per_thread,
                 absl::FunctionRef<void(size_t)> fn) {
  if (n == 0) return;
  const int t = ThreadsFor(n, threads, min_per_thread);
  // Blocks small enough to even out uneven items, large enough that the
  // shared counter is touched rarely.
  const size_t block =
      std::clamp<size_t>(n / (static_cast<size_t>(t) * 16), 1, 64);
  Shared shared{n, block, {0}, fn};
  if (t == 1) {
    Work(shared);
    return;
  }
  std::vector<pthread_t> started;
  started.reserve(static_cast<size_t>(t - 1));
  for (int i = 1; i < t; ++i) {
    pthread_t thread;
    if (::pthread_create(&thread, nullptr, ThreadMain, &shared) != 0) break;
    started.push_back(thread);
  }
  Work(shared);
  for (pthread_t thread : started) ::pthread_join(thread, nullptr);
}

}  // namespace soccr::internal
