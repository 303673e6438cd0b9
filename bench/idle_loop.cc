#include "bench/idle_loop.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench/syscall_count.h"
#include "soccr/loopback/tcp_pair.h"

namespace soccr::bench {

std::optional<IdleConnections> IdleConnectionsOrSkip(benchmark::State& state,
                                                     size_t n) {
  if (absl::Status s = UseDefaultNamespace(); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return std::nullopt;
  }
  absl::StatusOr<IdleConnections> conns = MakeIdleConnections(n);
  if (!conns.ok()) {
    state.SkipWithError(conns.status().ToString().c_str());
    return std::nullopt;
  }
  return *std::move(conns);
}

void MoveOneRepeatedly(benchmark::State& state,
                       absl::FunctionRef<int(int)> move_once, const char* what,
                       bool warm_up) {
  if (absl::Status s = UseDefaultNamespace(); !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  absl::StatusOr<loopback::TcpPair> pair =
      loopback::ConnectedPair(loopback::Family::kV4);
  if (!pair.ok()) return state.SkipWithError(pair.status().ToString().c_str());
  int fd = pair->client.release();
  if (warm_up) fd = move_once(fd);
  if (fd < 0) return state.SkipWithError(absl::StrCat(what, " failed").c_str());
  const SyscallCounts before = CurrentSyscalls();
  fd = move_once(fd);
  const SyscallCounts calls = CurrentSyscalls() - before;
  double cpu = 0;
  for (auto _ : state) {
    if (fd < 0) break;
    const double cpu_start = ThreadCpuSeconds();
    const double start = WallSeconds();
    fd = move_once(fd);
    state.SetIterationTime(WallSeconds() - start);
    cpu += ThreadCpuSeconds() - cpu_start;
  }
  if (fd < 0) {
    return state.SkipWithError(absl::StrCat(what, " failed").c_str());
  }
  // The move was real: the last copy still talks to the peer.
  if (absl::Status s = CarriesAByte(BorrowedFd(fd), pair->server.borrow());
      !s.ok()) {
    state.SkipWithError(
        absl::StrCat("moved connection: ", s.ToString()).c_str());
  }
  CloseSilently(OwnedFd(fd));
  SetPerConnection(state, 1, calls, cpu);
}

}  // namespace soccr::bench
