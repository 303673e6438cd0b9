// bench/syscall_count.h: kernel calls made through libc's socket calls,
// counted at link time (soccr_bench links with -Wl,--wrap=<call> for each
// call below), so that the C API's calls can be counted from outside as a
// caller would strace them. The C++ API's calls are counted with
// sys::CountingSys instead; both count the same thing.
//
//   soccr::bench::SyscallCounts before = soccr::bench::CurrentSyscalls();
//   struct libsoccr_sk* sk = libsoccr_pause(fd);  // what is counted
//   soccr::bench::SyscallCounts used =
//       soccr::bench::CurrentSyscalls() - before;
//
// Only calls from objects linked into the benchmark binary are counted (not
// those libc or a shared library makes internally). The counts are the
// calling thread's own.

#ifndef SOCCR_BENCH_SYSCALL_COUNT_H_
#define SOCCR_BENCH_SYSCALL_COUNT_H_

#include <stdint.h>

#include <string>

namespace benchmark {
class State;
}  // namespace benchmark

namespace soccr::bench {

struct SyscallCounts {
  uint64_t setsockopt = 0;
  uint64_t getsockopt = 0;
  // socket, bind, connect, listen, ioctl, recv/recvfrom/recvmsg,
  // send/sendto/sendmsg, getsockname, getpeername, shutdown, poll, writev.
  uint64_t other = 0;

  uint64_t Total() const { return setsockopt + getsockopt + other; }
  std::string ToString() const;
  SyscallCounts operator-(const SyscallCounts& o) const {
    return {setsockopt - o.setsockopt, getsockopt - o.getsockopt,
            other - o.other};
  }
};

SyscallCounts CurrentSyscalls();

// The per-connection counters of the idle benchmarks that count calls this
// way: s_per_conn (of the timed time), syscalls, setsockopt, getsockopt,
// cpu_s_per_conn (`cpu_seconds` over all iterations) and the label.
void SetPerConnection(benchmark::State& state, double connections_per_iter,
                      const SyscallCounts& calls, double cpu_seconds);

}  // namespace soccr::bench

#endif  // SOCCR_BENCH_SYSCALL_COUNT_H_
