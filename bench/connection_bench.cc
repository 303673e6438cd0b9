// Idle connections: the fixed cost of moving one, alone and in batches.
//
// IdleCheckpoint: PausedSocket::Pause + Checkpoint (the resume that follows
// is not timed). IdleRestore: Restore (closing the copy is not timed). Both
// are timed in CPU time of the benchmark thread over blocks of 100
// connections (nothing in them blocks, so on a quiet machine that is
// wall-clock time; on a shared one it leaves out other processes' turns).
// IdleMigrate (wall-clock): the whole move, serially: pause, checkpoint, close
// the original in repair mode, restore, resume; the restored socket is the next
// iteration's original. BatchMigrate: the same for N connections with
// CheckpointAndCloseMany and RestoreAndResumeMany (soccr/batch.h),
// wall-clock (the point is to use every CPU).
//
// They run in a namespace with the kernel's default TCP sysctls (the
// syscall counts depend on the buffer sizes), and report "s_per_conn"
// (seconds per connection) and "syscalls" (kernel calls per connection,
// counted with CountingSys in one extra untimed round before the timed
// ones).
// The "/options:1" variants save and restore socket options (the default);
// "/options:0" saves exactly what libsoccr saves.
// IdleCheckpointSession and IdleMigrateSession: the same with a
// SockDiagSession (CheckpointOptions::sock_diag) kept across the
// checkpoints, as a caller moving connections one after another keeps one;
// its netlink socket is opened before the counted round, so the count is
// the steady state's.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/fixtures.h"
#include "bench/registry.h"
#include "benchmark/benchmark.h"
#include "soccr/batch.h"
#include "soccr/checkpoint.h"
#include "soccr/paused_socket.h"
#include "soccr/restore.h"
#include "soccr/sock_diag_session.h"
#include "soccr/sys/counting_sys.h"

namespace soccr::bench {
namespace {

void SetPerConnection(benchmark::State& state, double connections_per_iter,
                      double syscalls_per_conn) {
  state.counters["s_per_conn"] = benchmark::Counter(
      connections_per_iter, benchmark::Counter::kIsIterationInvariantRate |
                                benchmark::Counter::kInvert);
  state.counters["syscalls"] = syscalls_per_conn;
}

CheckpointOptions OptionsArg(const benchmark::State& state) {
  CheckpointOptions o;
  o.socket_options = state.range(0) != 0;
  return o;
}

// Idle checkpoints and restores are timed in blocks of this many
// connections, so that reading the clock costs nothing next to them.
constexpr size_t kBlock = 100;

// Opens `session`'s netlink socket with one checkpoint of `fd` (resumed
// after), so that what follows is the steady state.
absl::Status OpenSession(BorrowedFd fd, SockDiagSession& session) {
  absl::StatusOr<PausedSocket> p = PausedSocket::Pause(fd);
  if (!p.ok()) return p.status();
  CheckpointOptions o;
  o.sock_diag = &session;
  absl::StatusOr<ConnectionState> s = Checkpoint(*p, o);
  if (!s.ok()) return s.status();
  return std::move(*p).Resume();
}

void BM_IdleCheckpoint(benchmark::State& state, bool with_session) {
  if (absl::Status s = UseDefaultNamespace(); !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  CheckpointOptions options = OptionsArg(state);
  absl::StatusOr<IdleConnections> conns = MakeIdleConnections(kBlock);
  if (!conns.ok()) {
    return state.SkipWithError(conns.status().ToString().c_str());
  }
  const std::vector<OwnedFd>& fds = conns->clients;
  SockDiagSession session;
  if (with_session) {
    options.sock_diag = &session;
    if (absl::Status s = OpenSession(fds[0].borrow(), session); !s.ok()) {
      return state.SkipWithError(s.ToString().c_str());
    }
  }

  sys::CountingSys counting;
  {
    absl::StatusOr<PausedSocket> p =
        PausedSocket::Pause(fds[0].borrow(), counting);
    if (!p.ok()) return state.SkipWithError(p.status().ToString().c_str());
    absl::StatusOr<ConnectionState> s = Checkpoint(*p, options);
    if (!s.ok()) return state.SkipWithError(s.status().ToString().c_str());
    std::move(*p).LeaveInRepairMode();  // Resumed below, not counted.
  }
  const uint64_t syscalls = counting.Total();
  state.SetLabel(counting.ToString());
  if (!sys::LinuxSys().SetRepair(fds[0].borrow(), sys::RepairMode::kOff).ok()) {
    return state.SkipWithError("cannot resume");
  }

  std::vector<absl::StatusOr<PausedSocket>> paused;
  std::vector<absl::StatusOr<ConnectionState>> states;
  paused.reserve(kBlock);
  states.reserve(kBlock);
  for (auto _ : state) {
    const double start = ThreadCpuSeconds();
    for (const OwnedFd& fd : fds) {
      paused.push_back(PausedSocket::Pause(fd.borrow()));
      states.push_back(paused.back().ok() ? Checkpoint(*paused.back(), options)
                                          : paused.back().status());
    }
    const double end = ThreadCpuSeconds();
    for (const absl::StatusOr<ConnectionState>& s : states) {
      if (!s.ok()) return state.SkipWithError(s.status().ToString().c_str());
    }
    state.SetIterationTime(end - start);
    paused.clear();  // Resumes every socket, untimed.
    states.clear();
  }
  SetPerConnection(state, kBlock, static_cast<double>(syscalls));
}

void BM_IdleRestore(benchmark::State& state) {
  if (absl::Status s = UseDefaultNamespace(); !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  BatchOptions checkpoint;
  checkpoint.threads = 1;
  checkpoint.checkpoint = OptionsArg(state);
  absl::StatusOr<IdleConnections> conns = MakeIdleConnections(kBlock);
  if (!conns.ok()) {
    return state.SkipWithError(conns.status().ToString().c_str());
  }
  std::vector<ConnectionState> saved;
  for (absl::StatusOr<ConnectionState>& s :
       CheckpointAndCloseMany(absl::MakeSpan(conns->clients), checkpoint)) {
    if (!s.ok()) return state.SkipWithError(s.status().ToString().c_str());
    saved.push_back(*std::move(s));
  }
  sys::CountingSys counting;
  {
    absl::StatusOr<RestoredSocket> r = Restore(saved[0], counting);
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
  }
  const uint64_t syscalls = counting.Total();
  state.SetLabel(counting.ToString());

  std::vector<absl::StatusOr<RestoredSocket>> restored;
  restored.reserve(kBlock);
  for (auto _ : state) {
    const double start = ThreadCpuSeconds();
    for (const ConnectionState& s : saved) restored.push_back(Restore(s));
    const double end = ThreadCpuSeconds();
    for (const absl::StatusOr<RestoredSocket>& r : restored) {
      if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
    }
    state.SetIterationTime(end - start);
    restored.clear();  // Closes every socket in repair mode, untimed.
  }
  SetPerConnection(state, kBlock, static_cast<double>(syscalls));
}

// One whole move of `fd`'s connection; returns the restored socket.
absl::StatusOr<OwnedFd> MigrateOnce(OwnedFd fd, const CheckpointOptions& co,
                                    const sys::Sys& sys) {
  absl::StatusOr<PausedSocket> p = PausedSocket::Pause(fd.borrow(), sys);
  if (!p.ok()) return p.status();
  absl::StatusOr<ConnectionState> s = Checkpoint(*p, co);
  if (!s.ok()) return s.status();
  std::move(*p).LeaveInRepairMode();
  fd.reset();
  absl::StatusOr<RestoredSocket> r = Restore(*s, sys);
  if (!r.ok()) return r.status();
  return std::move(*r).Resume();
}

void BM_IdleMigrate(benchmark::State& state, bool with_session) {
  if (absl::Status s = UseDefaultNamespace(); !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  CheckpointOptions options = OptionsArg(state);
  absl::StatusOr<loopback::TcpPair> pair =
      loopback::ConnectedPair(loopback::Family::kV4);
  if (!pair.ok()) return state.SkipWithError(pair.status().ToString().c_str());
  OwnedFd fd = std::move(pair->client);
  SockDiagSession session;
  if (with_session) {
    options.sock_diag = &session;
    if (absl::Status s = OpenSession(fd.borrow(), session); !s.ok()) {
      return state.SkipWithError(s.ToString().c_str());
    }
  }
  sys::CountingSys counting;
  absl::StatusOr<OwnedFd> moved = MigrateOnce(std::move(fd), options, counting);
  if (!moved.ok())
    return state.SkipWithError(moved.status().ToString().c_str());
  fd = *std::move(moved);
  const uint64_t syscalls = counting.Total();

  for (auto _ : state) {
    absl::StatusOr<OwnedFd> next =
        MigrateOnce(std::move(fd), options, sys::LinuxSys());
    if (!next.ok()) {
      state.SkipWithError(next.status().ToString().c_str());
      break;
    }
    fd = *std::move(next);
  }
  SetPerConnection(state, 1, static_cast<double>(syscalls));
}

// Moves every connection in `conns` once; the restored sockets replace the
// originals.
absl::Status MigrateBatch(std::vector<OwnedFd>& conns,
                          const BatchOptions& options, const sys::Sys& sys) {
  std::vector<absl::StatusOr<ConnectionState>> states =
      CheckpointAndCloseMany(absl::MakeSpan(conns), options, sys);
  std::vector<ConnectionState> ok;
  ok.reserve(states.size());
  for (absl::StatusOr<ConnectionState>& s : states) {
    if (!s.ok()) return s.status();
    ok.push_back(*std::move(s));
  }
  std::vector<absl::StatusOr<OwnedFd>> live =
      RestoreAndResumeMany(ok, options, sys);
  for (size_t i = 0; i < live.size(); ++i) {
    if (!live[i].ok()) return live[i].status();
    conns[i] = *std::move(live[i]);
  }
  return absl::OkStatus();
}

void BM_BatchMigrate(benchmark::State& state) {
  if (absl::Status s = UseDefaultNamespace(); !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  const size_t n = static_cast<size_t>(state.range(0));
  BatchOptions options;
  options.threads = static_cast<int>(state.range(1));
  options.checkpoint.socket_options = state.range(2) != 0;
  absl::StatusOr<IdleConnections> conns = MakeIdleConnections(n);
  if (!conns.ok()) {
    return state.SkipWithError(conns.status().ToString().c_str());
  }
  sys::CountingSys counting;
  if (absl::Status s = MigrateBatch(conns->clients, options, counting);
      !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  const double syscalls =
      static_cast<double>(counting.Total()) / static_cast<double>(n);
  // CPU time of every thread (the process's): the work itself, which the
  // load of a shared machine does not inflate.
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    if (absl::Status s = MigrateBatch(conns->clients, options, sys::LinuxSys());
        !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  const double cpu = ProcessCpuSeconds() - cpu_start;
  SetPerConnection(state, static_cast<double>(n), syscalls);
  if (state.iterations() > 0) {
    state.counters["cpu_s_per_conn"] =
        cpu / static_cast<double>(state.iterations()) / static_cast<double>(n);
  }
  state.counters["threads"] = static_cast<double>(BatchThreads(n, options));
}

}  // namespace

void RegisterConnectionBenchmarks(const Config& config) {
  for (bool session : {false, true}) {
    benchmark::RegisterBenchmark(
        session ? "IdleCheckpointSession" : "IdleCheckpoint", BM_IdleCheckpoint,
        session)
        ->ArgName("options")
        ->Arg(1)
        ->Arg(0)
        ->UseManualTime();
  }
  benchmark::RegisterBenchmark("IdleRestore", BM_IdleRestore)
      ->ArgName("options")
      ->Arg(1)
      ->Arg(0)
      ->UseManualTime();
  for (bool session : {false, true}) {
    benchmark::RegisterBenchmark(session ? "IdleMigrateSession" : "IdleMigrate",
                                 BM_IdleMigrate, session)
        ->ArgName("options")
        ->Arg(1)
        ->Arg(0)
        ->UseRealTime();
  }
  auto* batch = benchmark::RegisterBenchmark("BatchMigrate", BM_BatchMigrate)
                    ->ArgNames({"conns", "threads", "options"})
                    ->Unit(benchmark::kMillisecond)
                    ->UseRealTime();  // Wall time: the work is on threads.
  for (int64_t n : config.batch_connections) {
    for (int64_t t : config.batch_threads) {
      for (int64_t o : {1, 0}) batch->Args({n, t, o});
    }
  }
}

}  // namespace soccr::bench
