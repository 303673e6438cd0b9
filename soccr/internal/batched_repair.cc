#include "soccr/internal/batched_repair.h"

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <utility>

#include "soccr/internal/error_context.h"
#include "soccr/internal/parallel.h"
#include "soccr/internal/paused_socket_access.h"
#include "soccr/internal/pending_resume.h"
#include "soccr/internal/restore_onto.h"
#include "soccr/restore.h"
#include "soccr/restore_plan.h"

namespace soccr::internal {

std::vector<absl::StatusOr<PausedSocket>> PauseEach(
    absl::Span<const BorrowedFd> fds, const sys::Sys& sys) {
  // SO_REUSEADDR first: repair mode makes it read 2, and leaving repair
  // mode clears it (see PausedSocket::Pause).
  std::vector<int> reuse(fds.size(), 0);
  std::vector<BorrowedFd> batch;
  std::vector<size_t> index;
  batch.reserve(fds.size());
  index.reserve(fds.size());
  for (size_t i = 0; i < fds.size(); ++i) {
    const sys::Result<int> r =
        sys.GetSockOptInt(fds[i], SOL_SOCKET, SO_REUSEADDR);
    if (!r.ok()) continue;  // Pause() reports it below
    reuse[i] = r.value;
    batch.push_back(fds[i]);
    index.push_back(i);
  }
  const std::vector<sys::Result<void>> on =
      sys.SetRepairEach(batch, sys::RepairMode::kOn);
  std::vector<bool> switched(fds.size(), false);
  for (size_t j = 0; j < index.size(); ++j) switched[index[j]] = on[j].ok();
  std::vector<absl::StatusOr<PausedSocket>> out;
  out.reserve(fds.size());
  for (size_t i = 0; i < fds.size(); ++i) {
    if (switched[i]) {
      out.push_back(PausedSocketAccess::MakePaused(fds[i], sys, reuse[i]));
    } else {
      out.push_back(PausedSocket::Pause(fds[i], sys));
    }
  }
  return out;
}

namespace {

// A restore up to the point where its socket needs repair mode.
struct Prepared {
  RestorePlan plan;
  OwnedFd fd;
  bool repair = false;
};

}  // namespace

std::vector<absl::StatusOr<RestoredSocket>> RestoreEach(
    absl::Span<const ConnectionState> states, int threads,
    size_t min_per_thread, const sys::Sys& sys) {
  const size_t n = states.size();
  std::vector<absl::StatusOr<RestoredSocket>> out(n);
  std::vector<std::optional<Prepared>> prepared(n);
  // What Restore() does before repair mode: the plan, the socket.
  ParallelFor(n, threads, min_per_thread, [&](size_t i) {
    absl::StatusOr<RestorePlan> plan = PlanRestore(states[i]);
    if (!plan.ok()) {
      out[i] = plan.status();
      return;
    }
    const ErrorContext ctx("restore", plan->local, plan->peer);
    sys::Result<OwnedFd> fd =
        sys.Socket(plan->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (!fd.ok()) {
      out[i] = ctx.SysError("create socket", fd);
      return;
    }
    const bool repair = plan->kind == RestoreKind::kConnection ||
                        plan->kind == RestoreKind::kSynSent;
    prepared[i] = Prepared{*std::move(plan), std::move(fd.value), repair};
  });
  // Repair mode for all of them at once.
  std::vector<BorrowedFd> batch;
  std::vector<size_t> index;
  for (size_t i = 0; i < n; ++i) {
    if (prepared[i].has_value() && prepared[i]->repair) {
      batch.push_back(prepared[i]->fd.borrow());
      index.push_back(i);
    }
  }
  const std::vector<sys::Result<void>> on =
      sys.SetRepairEach(batch, sys::RepairMode::kOn);
  for (size_t j = 0; j < index.size(); ++j) {
    if (on[j].ok()) continue;
    Prepared& p = *prepared[index[j]];
    const ErrorContext ctx("restore", p.plan.local, p.plan.peer);
    // As Restore() words it; the socket, never in repair mode, closes
    // without having sent anything.
    out[index[j]] = ctx.SysError(
        on[j].err == EPERM ? "enter repair mode (needs CAP_NET_ADMIN in this "
                             "network namespace)"
                           : "enter repair mode",
        on[j]);
    prepared[index[j]].reset();
  }
  // The rest of Restore(), per connection.
  ParallelFor(n, threads, min_per_thread, [&](size_t i) {
    if (!prepared[i].has_value()) return;
    Prepared& p = *prepared[i];
    absl::StatusOr<std::unique_ptr<PendingResume>> pending =
        RestoreOnto(sys, p.fd.borrow(), p.plan);
    if (!pending.ok()) {
      out[i] = pending.status();  // closing p.fd sends nothing
      return;
    }
    out[i] = PausedSocketAccess::MakeRestored(std::move(p.fd), sys,
                                              *std::move(pending), p.repair);
  });
  return out;
}

std::vector<absl::StatusOr<OwnedFd>> ResumeEach(
    absl::Span<absl::StatusOr<RestoredSocket>> restored,
    const ResumeOptions& options, int threads, size_t min_per_thread,
    const sys::Sys& sys) {
  const size_t n = restored.size();
  std::vector<absl::StatusOr<OwnedFd>> out(n);
  std::vector<std::optional<sys::RepairMode>> mode(n);
  // Not vector<bool>: its elements share words, and the threads below
  // write them concurrently.
  std::vector<uint8_t> ready(n, 0);
  // The in-flight probes (if any) and the mode each leaves repair mode
  // with.
  ParallelFor(n, threads, min_per_thread, [&](size_t i) {
    if (!restored[i].ok()) {
      out[i] = restored[i].status();
      return;
    }
    absl::StatusOr<std::optional<sys::RepairMode>> m =
        PausedSocketAccess::PrepareRepairOff(*restored[i], options);
    if (!m.ok()) {
      out[i] = m.status();
      return;
    }
    mode[i] = *m;
    ready[i] = 1;
  });
  // Leaving repair mode, for all of them at once per mode.
  for (const sys::RepairMode m :
       {sys::RepairMode::kOff, sys::RepairMode::kOffNoWindowProbe}) {
    std::vector<BorrowedFd> batch;
    std::vector<size_t> index;
    for (size_t i = 0; i < n; ++i) {
      if (ready[i] && mode[i] == m) {
        batch.push_back(restored[i]->fd());
        index.push_back(i);
      }
    }
    if (batch.empty()) continue;
    const std::vector<sys::Result<void>> off = sys.SetRepairEach(batch, m);
    for (size_t j = 0; j < index.size(); ++j) {
      if (off[j].ok()) continue;
      ready[index[j]] = 0;
      out[index[j]] = ErrorContext("resume", batch[j])
                          .SysError("leave repair mode", off[j]);
    }
  }
  ParallelFor(n, threads, min_per_thread, [&](size_t i) {
    if (ready[i]) out[i] = PausedSocketAccess::FinishResume(*restored[i]);
  });
  return out;
}

}  // namespace soccr::internal
