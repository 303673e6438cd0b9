// Unix socket pairs: checkpoint and restore of a stream socketpair with
// the same number of bytes queued each way (issue 16's figure: 1 MiB each
// way), against memcpy of that size in the same run.
//
// UnixPairMove/<bytes>: a fresh socketpair per iteration, filled outside
// the timing; timed (wall clock), CheckpointUnixPair (both queues peeked)
// and RestoreUnixPair (a new pair, both queues sent again): what a caller
// moving the pair sees. Bytes processed count both directions (2 x
// <bytes>), so the ratio to Memcpy/<bytes> is per byte moved.

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/fixtures.h"
#include "bench/registry.h"
#include "benchmark/benchmark.h"
#include "soccr/fd.h"
#include "soccr/unix/checkpoint.h"
#include "soccr/unix/restore.h"

namespace soccr::bench {
namespace {

// Fills `fd`'s peer's receive queue with `bytes` bytes sent from `fd`.
bool Fill(int fd, size_t bytes) {
  // The sender's buffer bounds what a unix stream queue holds (the bytes
  // are charged to the sender): room for the whole queue.
  const int sndbuf = static_cast<int>(bytes * 2 + (1 << 20));
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) != 0) {
    return false;
  }
  const std::string chunk(64 << 10, 'u');
  size_t sent = 0;
  while (sent < bytes) {
    const size_t n = std::min(chunk.size(), bytes - sent);
    const ssize_t r = ::send(fd, chunk.data(), n, MSG_DONTWAIT);
    if (r <= 0) return false;
    sent += static_cast<size_t>(r);
  }
  return true;
}

int Inq(int fd) {
  int n = -1;
  return ::ioctl(fd, FIONREAD, &n) == 0 ? n : -1;
}

void BM_UnixPairMove(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      state.SkipWithError("socketpair failed");
      break;
    }
    OwnedFd a(sv[0]), b(sv[1]);
    if (!Fill(a.get(), bytes) || !Fill(b.get(), bytes)) {
      state.SkipWithError(absl::StrCat("cannot queue ", bytes,
                                       " bytes each way: ", strerror(errno),
                                       " (net.core.wmem_max too small?)")
                              .c_str());
      break;
    }
    state.ResumeTiming();
    const double cpu_start = ThreadCpuSeconds();
    absl::StatusOr<UnixPairState> st =
        CheckpointUnixPair(a.borrow(), b.borrow());
    if (!st.ok()) {
      state.SkipWithError(st.status().ToString().c_str());
      break;
    }
    absl::StatusOr<RestoredUnixPair> r = RestoreUnixPair(*st);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    cpu += ThreadCpuSeconds() - cpu_start;
    state.PauseTiming();
    if (Inq(r->a.get()) != static_cast<int>(bytes) ||
        Inq(r->b.get()) != static_cast<int>(bytes)) {
      state.SkipWithError("the restored queues hold other sizes");
      break;
    }
    r->a.reset();
    r->b.reset();
    a.reset();
    b.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 *
                          static_cast<int64_t>(bytes));
  // Wall clock is the figure (UseRealTime), CPU time beside it, as for the
  // cold TCP benchmarks (bench/report.py reads this counter).
  if (cpu > 0) {
    state.counters["cpu_bytes_per_second"] =
        static_cast<double>(state.iterations()) * 2.0 *
        static_cast<double>(bytes) / cpu;
  }
}

}  // namespace

void RegisterUnixBenchmarks(const Config& config) {
  for (int64_t n : config.queue_bytes) {
    if (n > (int64_t{1} << 20)) continue;  // the figure is 1 MiB
    benchmark::RegisterBenchmark("UnixPairMove", BM_UnixPairMove)
        ->Arg(n)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace soccr::bench
