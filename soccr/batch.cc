#include "soccr/batch.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "soccr/internal/batched_repair.h"
#include "soccr/internal/parallel.h"
#include "soccr/internal/sock_diag.h"
#include "soccr/restore.h"

namespace soccr {

int BatchThreads(size_t n, const BatchOptions& options) {
  return internal::ThreadsFor(n, options.threads, options.min_per_thread);
}

namespace {

// A sock_diag socket for each thread of one batch call: the TCP-MD5 check
// of each checkpoint on that thread asks through it (send and recv)
// instead of opening and closing one of its own. Opened on first use; all
// closed when the call returns.
class BatchSockDiag {
 public:
  internal::SockDiagSocket* ForThisThread() {
    thread_local uint64_t batch = 0;
    thread_local internal::SockDiagSocket* mine = nullptr;
    if (batch != id_) {
      std::lock_guard<std::mutex> lock(mu_);
      sockets_.push_back(std::make_unique<internal::SockDiagSocket>());
      mine = sockets_.back().get();
      batch = id_;
    }
    return mine;
  }

 private:
  static std::atomic<uint64_t> next_id_;
  const uint64_t id_ = ++next_id_;
  std::mutex mu_;
  std::vector<std::unique_ptr<internal::SockDiagSocket>> sockets_;
};

std::atomic<uint64_t> BatchSockDiag::next_id_{0};

// Socket options read ahead, one per socket or none.
absl::Status CheckReadAhead(size_t n, const BatchOptions& options) {
  if (!options.read_ahead.empty() && options.read_ahead.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: ", options.read_ahead.size(),
                     " sockets read ahead for ", n, " sockets"));
  }
  if (options.socket_options_read_ahead.empty() ||
      options.socket_options_read_ahead.size() == n) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("checkpoint: ", options.socket_options_read_ahead.size(),
                   " sets of socket options read ahead for ", n, " sockets"));
}

// Socket i's pause: through the batch (`batched`), or with SO_REUSEADDR
// read ahead, or plain.
absl::StatusOr<PausedSocket> PauseOne(
    BorrowedFd fd, size_t i, const BatchOptions& options,
    std::vector<absl::StatusOr<PausedSocket>>& batched, const sys::Sys& sys) {
  if (!batched.empty()) return std::move(batched[i]);
  if (!options.read_ahead.empty()) {
    return PausedSocket::Pause(fd, options.read_ahead[i].reuse_addr, sys);
  }
  return PausedSocket::Pause(fd, sys);
}

// Socket i's checkpoint options: what was read ahead of it, if anything.
CheckpointOptions CheckpointOptionsFor(size_t i, const BatchOptions& options) {
  CheckpointOptions checkpoint = options.checkpoint;
  if (!options.read_ahead.empty()) {
    checkpoint.read_ahead = &options.read_ahead[i];
  } else if (!options.socket_options_read_ahead.empty()) {
    checkpoint.socket_options_read_ahead =
        &options.socket_options_read_ahead[i];
  }
  return checkpoint;
}

}  // namespace

std::vector<absl::StatusOr<PausedCheckpoint>> CheckpointMany(
    absl::Span<const BorrowedFd> fds, const BatchOptions& options,
    const sys::Sys& sys) {
  std::vector<absl::StatusOr<PausedCheckpoint>> out(fds.size());
  if (absl::Status r = CheckReadAhead(fds.size(), options); !r.ok()) {
    for (auto& o : out) o = r;
    return out;
  }
  BatchSockDiag diag;
  // Repair mode through another process: switched for all at once.
  std::vector<absl::StatusOr<PausedSocket>> batched;
  if (sys.BatchesRepair()) batched = internal::PauseEach(fds, sys);
  internal::ParallelFor(
      fds.size(), options.threads, options.min_per_thread, [&](size_t i) {
        const internal::ScopedSockDiag scope(diag.ForThisThread());
        absl::StatusOr<PausedSocket> paused =
            PauseOne(fds[i], i, options, batched, sys);
        if (!paused.ok()) {
          out[i] = paused.status();
          return;
        }
        absl::StatusOr<ConnectionState> state =
            Checkpoint(*paused, CheckpointOptionsFor(i, options));
        if (!state.ok()) {
          out[i] = state.status();  // `paused` resumes the socket.
          return;
        }
        out[i] = PausedCheckpoint{*std::move(paused), *std::move(state)};
      });
  return out;
}

std::vector<absl::StatusOr<ConnectionState>> CheckpointAndCloseMany(
    absl::Span<OwnedFd> fds, const BatchOptions& options, const sys::Sys& sys) {
  std::vector<absl::StatusOr<ConnectionState>> out(fds.size());
  if (absl::Status r = CheckReadAhead(fds.size(), options); !r.ok()) {
    for (auto& o : out) o = r;
    return out;
  }
  BatchSockDiag diag;
  std::vector<absl::StatusOr<PausedSocket>> batched;
  if (sys.BatchesRepair()) {
    std::vector<BorrowedFd> borrowed;
    borrowed.reserve(fds.size());
    for (const OwnedFd& fd : fds) borrowed.push_back(fd.borrow());
    batched = internal::PauseEach(borrowed, sys);
  }
  internal::ParallelFor(
      fds.size(), options.threads, options.min_per_thread, [&](size_t i) {
        const internal::ScopedSockDiag scope(diag.ForThisThread());
        absl::StatusOr<PausedSocket> paused =
            PauseOne(fds[i].borrow(), i, options, batched, sys);
        if (!paused.ok()) {
          out[i] = paused.status();
          return;
        }
        absl::StatusOr<ConnectionState> state =
            Checkpoint(*paused, CheckpointOptionsFor(i, options));
        if (!state.ok()) {
          out[i] = state.status();  // `paused` resumes the socket.
          return;
        }
        std::move(*paused).LeaveInRepairMode();
        fds[i].reset();  // In repair mode: closing sends nothing.
        out[i] = *std::move(state);
      });
  return out;
}

std::vector<absl::StatusOr<RestoredSocket>> RestoreMany(
    absl::Span<const ConnectionState> states, const BatchOptions& options,
    const sys::Sys& sys) {
  if (sys.BatchesRepair()) {
    return internal::RestoreEach(states, options.threads,
                                 options.min_per_thread, sys);
  }
  std::vector<absl::StatusOr<RestoredSocket>> out(states.size());
  internal::ParallelFor(states.size(), options.threads, options.min_per_thread,
                        [&](size_t i) { out[i] = Restore(states[i], sys); });
  return out;
}

std::vector<absl::StatusOr<FreshSocket>> MakeFreshSockets(
    absl::Span<const int> families, const BatchOptions& options,
    const sys::Sys& sys) {
  std::vector<absl::StatusOr<FreshSocket>> out(families.size());
  internal::ParallelFor(
      families.size(), options.threads, options.min_per_thread,
      [&](size_t i) { out[i] = MakeFreshSocket(families[i], sys); });
  return out;
}

std::vector<absl::StatusOr<RestoredSocket>> RestoreMany(
    absl::Span<FreshSocket> sockets, absl::Span<const ConnectionState> states,
    const BatchOptions& options, const sys::Sys& sys) {
  std::vector<absl::StatusOr<RestoredSocket>> out(states.size());
  internal::ParallelFor(
      states.size(), options.threads, options.min_per_thread, [&](size_t i) {
        if (i >= sockets.size()) {
          out[i] = absl::InvalidArgumentError("restore: no fresh socket");
          return;
        }
        out[i] = Restore(std::move(sockets[i]), states[i], sys);
      });
  return out;
}

std::vector<absl::StatusOr<OwnedFd>> RestoreAndResumeMany(
    absl::Span<const ConnectionState> states, const BatchOptions& options,
    const sys::Sys& sys) {
  if (sys.BatchesRepair()) {
    // Repair mode through another process: switched on and off for all at
    // once. A connection whose resume fails is closed with `restored`.
    std::vector<absl::StatusOr<RestoredSocket>> restored =
        internal::RestoreEach(states, options.threads, options.min_per_thread,
                              sys);
    return internal::ResumeEach(absl::MakeSpan(restored), options.resume,
                                options.threads, options.min_per_thread, sys);
  }
  std::vector<absl::StatusOr<OwnedFd>> out(states.size());
  internal::ParallelFor(
      states.size(), options.threads, options.min_per_thread, [&](size_t i) {
        absl::StatusOr<RestoredSocket> restored = Restore(states[i], sys);
        if (!restored.ok()) {
          out[i] = restored.status();
          return;
        }
        // On failure `restored` still owns the socket and closes it, in
        // repair mode, when it goes out of scope.
        out[i] = std::move(*restored).Resume(options.resume);
      });
  return out;
}

std::vector<absl::StatusOr<OwnedFd>> ResumeMany(
    absl::Span<RestoredSocket> restored, const BatchOptions& options) {
  std::vector<absl::StatusOr<OwnedFd>> out(restored.size());
  internal::ParallelFor(
      restored.size(), options.threads, options.min_per_thread, [&](size_t i) {
        out[i] = std::move(restored[i]).Resume(options.resume);
      });
  return out;
}

void ForEachConnection(size_t n, const BatchOptions& options,
                       absl::FunctionRef<void(size_t)> fn) {
  // A caller's own per-connection steps may check what a restore cannot
  // carry (CheckCarriable) too.
  BatchSockDiag diag;
  internal::ParallelFor(
      n, options.threads, options.min_per_thread, [&](size_t i) {
        const internal::ScopedSockDiag scope(diag.ForThisThread());
        fn(i);
      });
}

}  // namespace soccr
