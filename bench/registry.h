// bench/registry.h: what each benchmark file registers, and with which sizes.
//
// The benchmarks are registered at run time, not with BENCHMARK() at static
// initialization, so that one binary serves both the full suite and the CI
// smoke run (`--smoke`: small sizes only):
//
//   soccr::bench::Config config = soccr::bench::Config::Full();
//   soccr::bench::RegisterQueueBenchmarks(config);
//   soccr::bench::RegisterConnectionBenchmarks(config);
//   soccr::bench::RegisterImageBenchmarks(config);
//
// Naming convention, relied on by bench/report.py: a throughput benchmark
// is "<Name>/<bytes>" and reports bytes_per_second; "Memcpy/<bytes>" is the
// reference every other "<Name>/<bytes>" is divided by. A per-connection
// benchmark reports the counter "s_per_conn". New families follow the same
// rules and need no change to the report (add them to report.py's list of
// expected families so that --check notices one going missing).

#ifndef SOCCR_BENCH_REGISTRY_H_
#define SOCCR_BENCH_REGISTRY_H_

#include <stdint.h>

#include <vector>

namespace soccr::bench {

struct Config {
  // Queue sizes for the throughput benchmarks (Memcpy included).
  std::vector<int64_t> queue_bytes;
  // Queue sizes for the cold benchmarks (a new connection per repetition),
  // a subset of queue_bytes (each needs its Memcpy reference); sizes and
  // repetitions of the first-checkpoint-in-a-fresh-process benchmarks.
  std::vector<int64_t> cold_queue_bytes;
  std::vector<int64_t> first_call_bytes;
  int64_t first_call_iterations = 1;
  // Connection counts for the batch benchmarks.
  std::vector<int64_t> batch_connections;
  // Thread counts for the batch benchmarks.
  std::vector<int64_t> batch_threads;
  // Bytes in flight for ResumeInFlight, and its iterations with the probe
  // and on the plain repair-off path (which waits for timers).
  std::vector<int64_t> in_flight_bytes;
  int64_t in_flight_iterations = 1;
  int64_t in_flight_plain_iterations = 1;

  // 64 KiB to 256 MiB in steps of 4 (cold: to 64 MiB; first call: 1 and
  // 16 MiB, 10 times); batches of 1,000 and 10,000; 64 KiB,
  // 1 MiB and 16 MiB in flight.
  static Config Full();
  // A few iterations' worth: 64 and 256 KiB; a batch of 64; 64 KiB in
  // flight, once each.
  static Config Smoke();
};

// Memcpy, checkpoint (drain) and restore (refill) of each queue.
void RegisterQueueBenchmarks(const Config& config);
// Idle connections: checkpoint, restore, both, and batches.
void RegisterConnectionBenchmarks(const Config& config);
// Cold queue throughput (new connection per repetition, wall-clock), through
// the C++ and the C API, and the first checkpoint of a fresh process.
void RegisterColdBenchmarks(const Config& config);
// Idle connections through the libsoccr C API.
void RegisterCApiBenchmarks(const Config& config);
// bench/kernel_idle_bench.cc: the kernel's floor for an idle move.
void RegisterKernelIdleBenchmarks(const Config& config);
// Images: write, read, and checkpoint -> image -> restore.
void RegisterImageBenchmarks(const Config& config);
// Resuming with data in flight, with the probe and on the plain path.
void RegisterInFlightBenchmarks(const Config& config);
// Unix socketpairs: checkpoint + restore with data queued each way, up to
// 1 MiB (bench/unix_bench.cc).
void RegisterUnixBenchmarks(const Config& config);

}  // namespace soccr::bench

#endif  // SOCCR_BENCH_REGISTRY_H_
