#include "bench/syscall_count.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"

namespace soccr::bench {
namespace {
// Per thread: a counter shared by the batch benchmarks' worker threads
// would bounce its cache line between the CPUs on every socket call (5% of
// a 2-thread BatchMigrate's samples in perf) and slow what is measured.
thread_local SyscallCounts counts;
}  // namespace

SyscallCounts CurrentSyscalls() { return counts; }

std::string SyscallCounts::ToString() const {
  return absl::StrCat(setsockopt, " setsockopt + ", getsockopt,
                      " getsockopt + ", other, " other");
}

void SetPerConnection(benchmark::State& state, double connections_per_iter,
                      const SyscallCounts& calls, double cpu_seconds) {
  state.counters["s_per_conn"] = benchmark::Counter(
      connections_per_iter, benchmark::Counter::kIsIterationInvariantRate |
                                benchmark::Counter::kInvert);
  state.counters["syscalls"] = static_cast<double>(calls.Total());
  state.counters["setsockopt"] = static_cast<double>(calls.setsockopt);
  state.counters["getsockopt"] = static_cast<double>(calls.getsockopt);
  if (state.iterations() > 0) {
    state.counters["cpu_s_per_conn"] = cpu_seconds /
                                       static_cast<double>(state.iterations()) /
                                       connections_per_iter;
  }
  state.SetLabel(calls.ToString());
}

void CountSetsockopt() { ++counts.setsockopt; }
void CountGetsockopt() { ++counts.getsockopt; }
void CountOther() { ++counts.other; }

}  // namespace soccr::bench

// The wrappers the linker puts in place of each call (-Wl,--wrap=NAME makes
// every undefined reference to NAME go to __wrap_NAME, and __real_NAME to
// the real one).
extern "C" {
int __real_setsockopt(int, int, int, const void*, socklen_t);
int __real_getsockopt(int, int, int, void*, socklen_t*);
int __real_socket(int, int, int);
int __real_bind(int, const struct sockaddr*, socklen_t);
int __real_connect(int, const struct sockaddr*, socklen_t);
int __real_listen(int, int);
int __real_ioctl(int, unsigned long, void*);
ssize_t __real_recv(int, void*, size_t, int);
ssize_t __real_recvfrom(int, void*, size_t, int, struct sockaddr*, socklen_t*);
ssize_t __real_recvmsg(int, struct msghdr*, int);
ssize_t __real_send(int, const void*, size_t, int);
ssize_t __real_sendto(int, const void*, size_t, int, const struct sockaddr*,
                      socklen_t);
ssize_t __real_sendmsg(int, const struct msghdr*, int);
int __real_getsockname(int, struct sockaddr*, socklen_t*);
int __real_getpeername(int, struct sockaddr*, socklen_t*);
int __real_shutdown(int, int);
int __real_poll(struct pollfd*, nfds_t, int);
ssize_t __real_writev(int, const struct iovec*, int);

int __wrap_setsockopt(int fd, int level, int name, const void* v,
                      socklen_t len) {
  soccr::bench::CountSetsockopt();
  return __real_setsockopt(fd, level, name, v, len);
}
int __wrap_getsockopt(int fd, int level, int name, void* v, socklen_t* len) {
  soccr::bench::CountGetsockopt();
  return __real_getsockopt(fd, level, name, v, len);
}
int __wrap_socket(int d, int t, int p) {
  soccr::bench::CountOther();
  return __real_socket(d, t, p);
}
int __wrap_bind(int fd, const struct sockaddr* a, socklen_t l) {
  soccr::bench::CountOther();
  return __real_bind(fd, a, l);
}
int __wrap_connect(int fd, const struct sockaddr* a, socklen_t l) {
  soccr::bench::CountOther();
  return __real_connect(fd, a, l);
}
int __wrap_listen(int fd, int b) {
  soccr::bench::CountOther();
  return __real_listen(fd, b);
}
// ioctl is variadic in <sys/ioctl.h>; every call soccr makes passes one
// pointer (or an int, which travels in the same register).
int __wrap_ioctl(int fd, unsigned long req, void* arg) {
  soccr::bench::CountOther();
  return __real_ioctl(fd, req, arg);
}
ssize_t __wrap_recv(int fd, void* b, size_t n, int f) {
  soccr::bench::CountOther();
  return __real_recv(fd, b, n, f);
}
ssize_t __wrap_recvfrom(int fd, void* b, size_t n, int f, struct sockaddr* a,
                        socklen_t* l) {
  soccr::bench::CountOther();
  return __real_recvfrom(fd, b, n, f, a, l);
}
ssize_t __wrap_recvmsg(int fd, struct msghdr* m, int f) {
  soccr::bench::CountOther();
  return __real_recvmsg(fd, m, f);
}
ssize_t __wrap_send(int fd, const void* b, size_t n, int f) {
  soccr::bench::CountOther();
  return __real_send(fd, b, n, f);
}
ssize_t __wrap_sendto(int fd, const void* b, size_t n, int f,
                      const struct sockaddr* a, socklen_t l) {
  soccr::bench::CountOther();
  return __real_sendto(fd, b, n, f, a, l);
}
ssize_t __wrap_sendmsg(int fd, const struct msghdr* m, int f) {
  soccr::bench::CountOther();
  return __real_sendmsg(fd, m, f);
}
int __wrap_getsockname(int fd, struct sockaddr* a, socklen_t* l) {
  soccr::bench::CountOther();
  return __real_getsockname(fd, a, l);
}
int __wrap_getpeername(int fd, struct sockaddr* a, socklen_t* l) {
  soccr::bench::CountOther();
  return __real_getpeername(fd, a, l);
}
int __wrap_shutdown(int fd, int how) {
  soccr::bench::CountOther();
  return __real_shutdown(fd, how);
}
int __wrap_poll(struct pollfd* p, nfds_t n, int t) {
  soccr::bench::CountOther();
  return __real_poll(p, n, t);
}
ssize_t __wrap_writev(int fd, const struct iovec* iov, int n) {
  soccr::bench::CountOther();
  return __real_writev(fd, iov, n);
}
}  // extern "C"
