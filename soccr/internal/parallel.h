// soccr/internal/parallel.h: running independent per-index work on a few
// threads, the calling thread included.
//
//   soccr::internal::ParallelFor(items.size(), /*threads=*/2,
//                                /*min_per_thread=*/32,
//                                [&](size_t i) { Process(items[i]); });
//
// Threads are started per call (pthread_create) and joined before it
// returns. A new thread inherits the calling thread's namespaces, so a
// socket made in `fn` lives in the caller's network namespace, as it would
// in a serial loop. If a thread cannot be started, the others (at least the
// caller) do its share: the work is done either way.

#ifndef SOCCR_INTERNAL_PARALLEL_H_
#define SOCCR_INTERNAL_PARALLEL_H_

#include <stddef.h>

#include "absl/functional/function_ref.h"

namespace soccr::internal {

// The number of CPUs this thread may run on (sched_getaffinity), at least 1.
int UsableCpus();

// How many threads ParallelFor uses for `n` items: `threads` (0: UsableCpus)
// capped so that each gets at least `min_per_thread` items, at least 1.
int ThreadsFor(size_t n, int threads, size_t min_per_thread);

// Calls fn(i) once for every i in [0, n), on ThreadsFor(n, threads,
// min_per_thread) threads. Items are claimed in small blocks as threads
// become free, so uneven items (one large queue) do not leave a thread
// idle. `fn` must be safe to run concurrently for different i.
void ParallelFor(size_t n, int threads, size_t min_per_thread,
                 absl::FunctionRef<void(size_t)> fn);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_PARALLEL_H_
