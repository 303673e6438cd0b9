#include "soccr/internal/pending_resume.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "soccr/internal/restore_buffers.h"
#include "soccr/status_macros.h"

namespace soccr::internal {
namespace {

// Runs connect(), which for a restored SYN_SENT socket sends the SYN. It
// must not wait for the answer, whatever the descriptor's blocking mode,
// so O_NONBLOCK is set around it (and the flags to put back are kept in
// `file_flags` until they are).
absl::Status ConnectWithoutBlocking(const sys::Sys& sys, BorrowedFd fd,
                                    const SocketAddress& peer,
                                    std::optional<int>& file_flags,
                                    const ErrorContext& ctx) {
  SOCCR_ASSIGN_OR_RETURN(
      const int flags, ctx.Check("read the file flags", sys.GetFileFlags(fd)));
  if ((flags & O_NONBLOCK) == 0) {
    SOCCR_RETURN_IF_ERROR(ctx.Check("make connect() non-blocking",
                                    sys.SetFileFlags(fd, flags | O_NONBLOCK)));
    file_flags = flags;
  }
  const sys::Result<void> c = sys.Connect(fd, peer);
  // EALREADY/EISCONN: a resume that failed after connect() already sent
  // the SYN.
  if (!c.ok() && c.err != EINPROGRESS && c.err != EALREADY &&
      c.err != EISCONN) {
    if (file_flags.has_value()) {
      (void)sys.SetFileFlags(fd, *file_flags);
      file_flags.reset();
    }
    return ctx.SysError("send the SYN again", c);
  }
  return absl::OkStatus();
}

// Sends all of `q` without blocking; on error keeps what was not queued.
absl::Status SendQueued(const sys::Sys& sys, BorrowedFd fd, QueueBytes& q,
                        absl::string_view what, const ErrorContext& ctx) {
  size_t done = 0;
  while (done < q.size()) {
    const sys::Result<size_t> w = sys.Send(fd, q.span().subspan(done));
    if (w.ok() && w.value > 0) {
      done += w.value;
      continue;
    }
    if (!w.ok() && w.err == EINTR) continue;
    // Keep what was queued and hold the rest.
    q = q.Subrange(done, q.size() - done);
    const std::string step =
        absl::StrCat(what, " (", done, " bytes queued, ", q.size(), " left)");
    if (!w.ok()) return ctx.SysError(step, w);
    return ctx.Error(absl::StatusCode::kResourceExhausted,
                     absl::StrCat(step, ": the send buffer is full"));
  }
  q = QueueBytes();
  return absl::OkStatus();
}

}  // namespace

absl::Status PendingResume::Finish(const sys::Sys& sys, BorrowedFd fd,
                                   const ErrorContext& ctx) {
  if (connect) {
    SOCCR_RETURN_IF_ERROR(
        ConnectWithoutBlocking(sys, fd, peer, file_flags, ctx));
    connect = false;
  }
  if (file_flags.has_value()) {
    SOCCR_RETURN_IF_ERROR(ctx.Check("restore the file flags after connect()",
                                    sys.SetFileFlags(fd, *file_flags)));
    file_flags.reset();
  }
  if (listen_backlog.has_value()) {
    SOCCR_RETURN_IF_ERROR(ctx.Check("listen", sys.Listen(fd, *listen_backlog)));
    listen_backlog.reset();
  }

  // The data the peer lacks and the data the original had not sent: now
  // normal sends, so they leave under the restored window. The restore
  // sized the send buffer for them; a caller that set it smaller since
  // gets its size back once they are in.
  const bool queueing = !requeue.empty() || !unsent.empty();
  SOCCR_RETURN_IF_ERROR(ReadCallersBuffers(sys, fd, queueing, ctx));
  if (queueing && callers.sndbuf.has_value() && !callers.sndbuf_regrown &&
      static_cast<uint64_t>(*callers.sndbuf) < restored.queued_sndbuf) {
    SOCCR_RETURN_IF_ERROR(
        EnsureBuffer(sys, fd, BufferKind::kSend, restored.queued_sndbuf,
                     restored.queued_sndbuf, requeue.size() + unsent.size(),
                     ctx, &callers.sndbuf_regrown));
  }
  SOCCR_RETURN_IF_ERROR(
      SendQueued(sys, fd, requeue, "queue the data the peer lacks", ctx));
  SOCCR_RETURN_IF_ERROR(SendQueued(sys, fd, unsent, "queue unsent data", ctx));

  // Our FIN after that data (and for CLOSING the peer's FIN after ours).
  if (steps_done < steps.size()) {
    size_t n = 0;
    const absl::Status s =
        RunStateSteps(sys, fd, absl::MakeConstSpan(steps).subspan(steps_done),
                      segment_params, /*in_repair=*/false, ctx, &n);
    steps_done += n;
    SOCCR_RETURN_IF_ERROR(s);
  }

  // Tuning that must come after the data; the values were validated when
  // the restore was planned, and the kernel clamps rather than refuses them.
  for (const SocketOption& o : after_resume) {
    (void)sys.SetSockOpt(
        fd, o.level, o.name,
        absl::Span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(o.value.data()), o.value.size()));
  }
  if (!callers.sndbuf.has_value()) {
    ApplyFinalBuffer(sys, fd, BufferKind::kSend, final_buffers);
  } else if (callers.sndbuf_regrown) {
    // Below what is queued now: the kernel keeps the data and takes more
    // once it has gone.
    SetBufferSize(sys, fd, BufferKind::kSend,
                  static_cast<uint64_t>(*callers.sndbuf));
  }
  if (restored.sndbuf_raised || restored.rcvbuf_raised ||
      callers.sndbuf_regrown) {
    ApplyBufferLocks(
        sys, fd, final_buffers,
        (callers.sndbuf.has_value() ? 1 : 0) | (callers.rcvbuf ? 2 : 0),
        callers.locks);
  }
  return absl::OkStatus();
}

absl::Status PendingResume::ReadCallersBuffers(const sys::Sys& sys,
                                               BorrowedFd fd, bool queueing,
                                               const ErrorContext& ctx) {
  if (callers.read) return absl::OkStatus();
  // Only where something here would change a buffer: the send buffer for
  // the queued data or its final size, the locks after a raise.
  const bool sndbuf_locked_later =
      final_buffers.has_value() && final_buffers->sndbuf_locked;
  if (restored.sndbuf_left.has_value() &&
      (queueing || restored.sndbuf_raised || restored.rcvbuf_raised ||
       sndbuf_locked_later)) {
    SOCCR_ASSIGN_OR_RETURN(
        const int now, ctx.Check("read the send buffer size",
                                 sys.GetSockOptInt(fd, SOL_SOCKET, SO_SNDBUF)));
    if (now != *restored.sndbuf_left) callers.sndbuf = now;
  }
  if (restored.rcvbuf_left.has_value() &&
      (restored.sndbuf_raised || restored.rcvbuf_raised)) {
    SOCCR_ASSIGN_OR_RETURN(
        const int now, ctx.Check("read the receive buffer size",
                                 sys.GetSockOptInt(fd, SOL_SOCKET, SO_RCVBUF)));
    callers.rcvbuf = now != *restored.rcvbuf_left;
  }
  // The locks of the buffers the caller sized are the caller's too: its
  // SO_*BUF set them, and it may have cleared them with SO_BUF_LOCK after
  // (CRIU restores the original's lock bits that way). A buffer the
  // restore did not raise was not locked, and the kernel may have
  // autotuned it since: without a lock, its new size is not the caller's.
  // Where SO_BUF_LOCK cannot be read (before Linux 5.14, which cannot set
  // it either) the size alone decides, and SO_*BUF's lock stands.
  if (callers.sndbuf.has_value() || callers.rcvbuf) {
#ifndef SO_BUF_LOCK
    constexpr int SO_BUF_LOCK = 72;
#endif
    const sys::Result<int> locks =
        sys.GetSockOptInt(fd, SOL_SOCKET, SO_BUF_LOCK);
    callers.locks = locks.ok() ? locks.value : 3;
    if (locks.ok()) {
      if (!restored.sndbuf_raised && (locks.value & 1) == 0)
        callers.sndbuf.reset();
      if (!restored.rcvbuf_raised && (locks.value & 2) == 0)
        callers.rcvbuf = false;
    }
  }
  callers.read = true;
  return absl::OkStatus();
}

}  // namespace soccr::internal
