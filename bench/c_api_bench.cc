// Idle connections through the libsoccr C API, as a C caller (CRIU) writes
// the calls, in the namespace with the kernel's default TCP sysctls:
//
// CIdleCheckpoint: libsoccr_pause + libsoccr_save + both addresses
//   (libsoccr_get_addr, SOCCR_MEM_EXCL); the resume after is not timed.
// CIdleRestore: socket + libsoccr_pause + set_queue_bytes (both, empty) +
//   set_addr (both) + libsoccr_restore + libsoccr_resume, of a connection
//   checkpointed and closed silently before; closing the copy is not timed.
// CIdleMigrate: one connection moved again and again: the checkpoint above
//   with both queues, libsoccr_release, close, and the restore above.
// CIdleMigrateSerial/conns:N: N connections moved once each, one after the
//   other (the "10,000 connections, serial").
// CIdleCheckpointKept, CIdleMigrateKept: CIdleCheckpoint and CIdleMigrate
//   with soccr_sock_diag_keep(1) (<soccr/move.h>): the thread's
//   checkpoints ask sock_diag on one netlink socket kept open, made by an
//   untimed, uncounted checkpoint first.
//
// All wall-clock (manual time, CLOCK_MONOTONIC) with the thread's CPU time
// as the counter cpu_s_per_conn, over blocks of 100 connections where the
// clock would otherwise weigh. Kernel calls per connection (setsockopt,
// getsockopt and the other socket calls, bench/syscall_count.h) are counted
// in one untimed round first: counters setsockopt, getsockopt, syscalls.

#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "bench/cold.h"
#include "bench/fixtures.h"
#include "bench/idle_loop.h"
#include "bench/registry.h"
#include "bench/syscall_count.h"
#include "benchmark/benchmark.h"
#include "soccr_c/move.h"
#include "soccr_c/soccr.h"

namespace soccr::bench {
namespace {

constexpr size_t kBlock = 100;

struct Checkpointed {
  libsoccr_sk* handle = nullptr;
  libsoccr_sk_data data = {};
  libsoccr_addr* self = nullptr;
  libsoccr_addr* peer = nullptr;
};

// pause + save + addresses: what CRIU's figure of 3.2 µs covers.
bool CheckpointIdle(int fd, Checkpointed* out) {
  out->handle = libsoccr_pause(fd);
  if (out->handle == nullptr) return false;
  if (libsoccr_save(out->handle, &out->data, sizeof(out->data)) < 0) {
    return false;
  }
  out->self = libsoccr_get_addr(out->handle, 1, SOCCR_MEM_EXCL);
  out->peer = libsoccr_get_addr(out->handle, 0, SOCCR_MEM_EXCL);
  return out->self != nullptr && out->peer != nullptr;
}

void Discard(Checkpointed& c) {
  if (c.handle != nullptr) libsoccr_resume(c.handle);
  free(c.self);
  free(c.peer);
  c = Checkpointed{};
}

// soccr_sock_diag_keep(1) while it lives, if `keep`.
class KeptSockDiag {
 public:
  explicit KeptSockDiag(bool keep) : keep_(keep) {
    if (keep_) (void)soccr_sock_diag_keep(1);
  }
  KeptSockDiag(const KeptSockDiag&) = delete;
  KeptSockDiag& operator=(const KeptSockDiag&) = delete;
  ~KeptSockDiag() {
    if (keep_) (void)soccr_sock_diag_keep(0);
  }

 private:
  bool keep_;
};

void BM_CIdleCheckpoint(benchmark::State& state, bool keep) {
  std::optional<IdleConnections> conns = IdleConnectionsOrSkip(state, kBlock);
  if (!conns.has_value()) return;
  const std::vector<OwnedFd>& fds = conns->clients;
  const KeptSockDiag kept(keep);
  if (keep) {  // The kept socket is made here, uncounted.
    Checkpointed c;
    const bool ok = CheckpointIdle(fds[0].get(), &c);
    Discard(c);
    if (!ok) return state.SkipWithError("libsoccr checkpoint failed");
  }
  SyscallCounts calls;
  {
    Checkpointed c;
    const SyscallCounts before = CurrentSyscalls();
    const bool ok = CheckpointIdle(fds[0].get(), &c);
    calls = CurrentSyscalls() - before;
    Discard(c);
    if (!ok) return state.SkipWithError("libsoccr checkpoint failed");
  }
  std::vector<Checkpointed> saved(kBlock);
  double cpu = 0;
  for (auto _ : state) {
    const double cpu_start = ThreadCpuSeconds();
    const double start = WallSeconds();
    bool ok = true;
    for (size_t i = 0; i < kBlock; ++i) {
      ok &= CheckpointIdle(fds[i].get(), &saved[i]);
    }
    state.SetIterationTime(WallSeconds() - start);
    cpu += ThreadCpuSeconds() - cpu_start;
    for (Checkpointed& c : saved) Discard(c);  // Resumes, untimed.
    if (!ok) {
      state.SkipWithError("libsoccr checkpoint failed");
      break;
    }
  }
  SetPerConnection(state, kBlock, calls, cpu);
}

// Checkpoints each connection with both queues, releases it and closes it.
absl::Status CheckpointAndClose(
    std::vector<OwnedFd>& fds, std::vector<std::unique_ptr<CCheckpoint>>* out) {
  for (OwnedFd& fd : fds) {
    auto c = std::make_unique<CCheckpoint>();
    if (absl::Status s = c->Take(fd.get(), /*release=*/true); !s.ok()) {
      return s;
    }
    fd.reset();
    out->push_back(std::move(c));
  }
  return absl::OkStatus();
}

void BM_CIdleRestore(benchmark::State& state) {
  std::optional<IdleConnections> conns = IdleConnectionsOrSkip(state, kBlock);
  if (!conns.has_value()) return;
  std::vector<std::unique_ptr<CCheckpoint>> saved;
  if (absl::Status s = CheckpointAndClose(conns->clients, &saved); !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  SyscallCounts calls;
  {
    const SyscallCounts before = CurrentSyscalls();
    absl::StatusOr<CRestored> r = CRestore(*saved[0]);
    if (r.ok()) libsoccr_resume(r->handle);
    calls = CurrentSyscalls() - before;
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
    CloseSilently(OwnedFd(r->fd));
  }
  std::vector<int> restored;
  restored.reserve(kBlock);
  double cpu = 0;
  for (auto _ : state) {
    const double cpu_start = ThreadCpuSeconds();
    const double start = WallSeconds();
    bool ok = true;
    for (const std::unique_ptr<CCheckpoint>& c : saved) {
      absl::StatusOr<CRestored> r = CRestore(*c);
      if (!r.ok()) {
        ok = false;
        continue;
      }
      libsoccr_resume(r->handle);
      restored.push_back(r->fd);
    }
    state.SetIterationTime(WallSeconds() - start);
    cpu += ThreadCpuSeconds() - cpu_start;
    for (int fd : restored) CloseSilently(OwnedFd(fd));  // Untimed.
    restored.clear();
    if (!ok) {
      state.SkipWithError("libsoccr restore failed");
      break;
    }
  }
  SetPerConnection(state, kBlock, calls, cpu);
}

// One whole move through the C API; returns the new descriptor or -1.
int MigrateOnce(int fd) {
  CCheckpoint c;
  if (!c.Take(fd, /*release=*/true).ok()) return -1;
  ::close(fd);
  absl::StatusOr<CRestored> r = CRestore(c);
  if (!r.ok()) return -1;
  libsoccr_resume(r->handle);
  return r->fd;
}

void BM_CIdleMigrate(benchmark::State& state, bool keep) {
  const KeptSockDiag kept(keep);
  MoveOneRepeatedly(state, MigrateOnce, "libsoccr move", /*warm_up=*/keep);
}

void BM_CIdleMigrateSerial(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::optional<IdleConnections> conns = IdleConnectionsOrSkip(state, n);
  if (!conns.has_value()) return;
  std::vector<int> fds;
  for (OwnedFd& fd : conns->clients) fds.push_back(fd.release());
  SyscallCounts calls;
  {
    const SyscallCounts before = CurrentSyscalls();
    fds[0] = MigrateOnce(fds[0]);
    calls = CurrentSyscalls() - before;
  }
  double cpu = 0;
  bool ok = fds[0] >= 0;
  for (auto _ : state) {
    if (!ok) break;
    const double cpu_start = ThreadCpuSeconds();
    const double start = WallSeconds();
    for (int& fd : fds) {
      fd = MigrateOnce(fd);
      ok &= fd >= 0;
    }
    state.SetIterationTime(WallSeconds() - start);
    cpu += ThreadCpuSeconds() - cpu_start;
  }
  if (!ok) state.SkipWithError("libsoccr move failed");
  for (int fd : fds) {
    if (fd >= 0) CloseSilently(OwnedFd(fd));
  }
  SetPerConnection(state, static_cast<double>(n), calls, cpu);
}

}  // namespace

void RegisterCApiBenchmarks(const Config& config) {
  benchmark::RegisterBenchmark("CIdleCheckpoint", BM_CIdleCheckpoint, false)
      ->UseManualTime();
  benchmark::RegisterBenchmark("CIdleCheckpointKept", BM_CIdleCheckpoint, true)
      ->UseManualTime();
  benchmark::RegisterBenchmark("CIdleRestore", BM_CIdleRestore)
      ->UseManualTime();
  benchmark::RegisterBenchmark("CIdleMigrate", BM_CIdleMigrate, false)
      ->UseManualTime();
  benchmark::RegisterBenchmark("CIdleMigrateKept", BM_CIdleMigrate, true)
      ->UseManualTime();
  auto* serial =
      benchmark::RegisterBenchmark("CIdleMigrateSerial", BM_CIdleMigrateSerial)
          ->ArgName("conns")
          ->Unit(benchmark::kMillisecond)
          ->UseManualTime();
  for (int64_t n : config.batch_connections) serial->Arg(n);
}

}  // namespace soccr::bench
