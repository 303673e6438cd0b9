// The soccr benchmark suite. Enters a private user + network namespace
// before anything else (while the process is single-threaded), so that every
// socket it makes lives there and TCP repair mode is allowed without root.
//
//   bazel run -c opt //bench:soccr_bench -- --benchmark_format=json
//   bazel run -c opt //bench:soccr_bench -- --smoke   # small sizes only
//
// bench/run.sh runs it and turns the JSON into a table of ratios.

#include <stdio.h>
#include <string.h>

#include "absl/status/status.h"
#include "bench/cold.h"
#include "bench/fixtures.h"
#include "bench/registry.h"
#include "benchmark/benchmark.h"

int main(int argc, char** argv) {
  // A child of FirstCheckpoint* (cold_bench.cc): already in the namespace.
  if (argc > 1 && strcmp(argv[1], "--first-checkpoint") == 0) {
    return soccr::bench::RunFirstCheckpoint(argc, argv);
  }
  if (argc > 1 && strcmp(argv[1], "--first-touch") == 0) {
    return soccr::bench::RunFirstTouch(argc, argv);
  }
  if (absl::Status s = soccr::bench::EnterBenchmarkNamespace(); !s.ok()) {
    fprintf(stderr, "cannot set up the benchmark namespace: %s\n",
            s.ToString().c_str());
    return 1;
  }
  // Our own flag, taken out before Google Benchmark parses the rest.
  bool smoke = false;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--smoke") == 0) {
      smoke = true;
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  argv[argc] = nullptr;

  const soccr::bench::Config config =
      smoke ? soccr::bench::Config::Smoke() : soccr::bench::Config::Full();
  soccr::bench::RegisterQueueBenchmarks(config);
  soccr::bench::RegisterColdBenchmarks(config);
  soccr::bench::RegisterImageBenchmarks(config);
  soccr::bench::RegisterConnectionBenchmarks(config);
  soccr::bench::RegisterCApiBenchmarks(config);
  soccr::bench::RegisterKernelIdleBenchmarks(config);
  soccr::bench::RegisterInFlightBenchmarks(config);
  soccr::bench::RegisterUnixBenchmarks(config);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
