// bench/cold.h: what the cold benchmarks (a new connection per repetition,
// wall-clock) share: their timer, and a checkpoint and restore through the
// libsoccr C API as a C caller writes them.

#ifndef SOCCR_BENCH_COLD_H_
#define SOCCR_BENCH_COLD_H_

#include <stddef.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/fixtures.h"
#include "benchmark/benchmark.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr_c/soccr.h"

namespace soccr::bench {

// Wall-clock per iteration as the benchmark's manual time (register with
// UseManualTime), and the thread's CPU time summed beside it: Report() sets
// bytes_per_second (wall-clock) and the counter cpu_bytes_per_second.
class ColdTimer {
 public:
  void Start();
  void Stop(benchmark::State& state);
  // An iteration timed elsewhere (in a child process).
  void Add(benchmark::State& state, double wall, double cpu, double faults);
  void Report(benchmark::State& state, size_t bytes) const;

 private:
  double wall_start_ = 0;
  double cpu_start_ = 0;
  double wall_ = 0;
  double cpu_ = 0;
  double faults_start_ = 0;
  double faults_ = 0;  // minor page faults of the timed stretches
};

// A new pair in the large-buffer namespace whose client has `bytes` in one
// queue, filled by writes (PairWithRecvQueue, PairWithSendQueue).
[[nodiscard]] absl::StatusOr<SilentPair> PeerFilledPair(Queue queue,
                                                        size_t bytes);

// A checkpoint through the C API, everything SOCCR_MEM_EXCL (freed by the
// destructor).
struct CCheckpoint {
  CCheckpoint() = default;
  CCheckpoint(const CCheckpoint&) = delete;
  CCheckpoint& operator=(const CCheckpoint&) = delete;
  ~CCheckpoint();

  // libsoccr_pause, save, both queues, both addresses; then
  // libsoccr_release (`release`: the socket stays in repair mode, to be
  // closed silently) or libsoccr_resume.
  [[nodiscard]] absl::Status Take(int fd, bool release);

  libsoccr_sk_data data = {};
  char* inq = nullptr;
  char* outq = nullptr;
  libsoccr_addr* self = nullptr;
  libsoccr_addr* peer = nullptr;
};

// A restore through the C API onto a plain new socket: socket, pause,
// set_queue_bytes (both queues, with `queue_flags`), set_addr (both, the
// caller keeps them), libsoccr_restore. The caller resumes or releases
// `handle` (which frees whatever the library holds) and closes `fd`.
//
// `queue_flags` 0: the library copies what it needs of the queues before
// libsoccr_restore returns; `c` is left as it was and can be restored
// again. SOCCR_MEM_EXCL (what CRIU passes): each queue buffer becomes the
// library's once its set call succeeds, and c.inq or c.outq is set to null
// then, so that `c` frees only what it still owns (a set call that fails
// takes nothing).
struct CRestored {
  libsoccr_sk* handle;
  int fd;
};
[[nodiscard]] absl::StatusOr<CRestored> CRestore(CCheckpoint& c,
                                                 unsigned queue_flags = 0);

// soccr_bench --first-checkpoint FD c|cc OUT_FD (see cold_bench.cc).
int RunFirstCheckpoint(int argc, char** argv);
// soccr_bench --first-touch BYTES OUT_FD (see cold_bench.cc).
int RunFirstTouch(int argc, char** argv);

}  // namespace soccr::bench

#endif  // SOCCR_BENCH_COLD_H_
