// bench/idle_loop.h: the loops the idle-connection benchmarks of the C API
// (c_api_bench.cc) and of the kernel's floor (kernel_idle_bench.cc) share.

#ifndef SOCCR_BENCH_IDLE_LOOP_H_
#define SOCCR_BENCH_IDLE_LOOP_H_

#include <stddef.h>

#include <optional>

#include "absl/functional/function_ref.h"
#include "bench/fixtures.h"
#include "benchmark/benchmark.h"

namespace soccr::bench {

// The default namespace and `n` idle connections there; nullopt after
// state.SkipWithError() if either could not be had.
std::optional<IdleConnections> IdleConnectionsOrSkip(benchmark::State& state,
                                                     size_t n);

// One loopback connection moved again and again by `move_once` (which
// takes the descriptor and returns the moved copy's, or -1): wall-clock per
// move, CPU time and the kernel calls of one untimed move first
// (SetPerConnection). Afterwards (untimed) the last copy must still carry a
// byte each way to the peer. `what` names the move in errors. `warm_up`:
// one more move first, neither timed nor counted (for what the first move
// of a process sets up, such as a kept netlink socket).
void MoveOneRepeatedly(benchmark::State& state,
                       absl::FunctionRef<int(int)> move_once, const char* what,
                       bool warm_up = false);

}  // namespace soccr::bench

#endif  // SOCCR_BENCH_IDLE_LOOP_H_
