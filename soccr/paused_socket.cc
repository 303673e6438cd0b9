#include "soccr/paused_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "soccr/internal/buffers.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/pending_resume.h"
#include "soccr/internal/status_macros.h"
#include "soccr/internal/step_runner.h"
#include "soccr/tcp_state.h"

namespace soccr {

using internal::ErrorContext;

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

namespace {

// Best effort, for paths that cannot fail any more: SO_REUSEADDR as it was
// before repair mode, which leaving repair mode clears.
void RestoreReuseAddr(const sys::Sys& sys, BorrowedFd fd, int reuse_addr) {
  if (reuse_addr != 0) {
    (void)sys.SetSockOptInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  }
}

}  // namespace

PausedSocket::PausedSocket(BorrowedFd fd, const sys::Sys* sys,
                           std::unique_ptr<internal::PendingResume> pending,
                           bool repair, int reuse_addr)
    : fd_(fd),
      sys_(sys),
      pending_(std::move(pending)),
      repair_(repair),
      reuse_addr_(reuse_addr) {}

PausedSocket::PausedSocket(PausedSocket&& other) noexcept
    : fd_(other.fd_),
      sys_(other.sys_),
      pending_(std::move(other.pending_)),
      repair_(other.repair_),
      reuse_addr_(other.reuse_addr_) {
  other.Disarm();
}

PausedSocket& PausedSocket::operator=(PausedSocket&& other) noexcept {
  if (this != &other) {
    ReleaseRepair();
    fd_ = other.fd_;
    sys_ = other.sys_;
    pending_ = std::move(other.pending_);
    repair_ = other.repair_;
    reuse_addr_ = other.reuse_addr_;
    other.Disarm();
  }
  return *this;
}

PausedSocket::~PausedSocket() { ReleaseRepair(); }

void PausedSocket::Disarm() {
  fd_ = BorrowedFd();
  pending_.reset();
}

void PausedSocket::ReleaseRepair() {
  if (fd_ && sys_ != nullptr && repair_) {
    // Nowhere to report a failure from here: the descriptor is the caller's
    // and was most likely closed under us.
    if (sys_->SetRepair(fd_, sys::RepairMode::kOff).ok()) {
      RestoreReuseAddr(*sys_, fd_, reuse_addr_);
    }
  }
  Disarm();
}

absl::StatusOr<PausedSocket> PausedSocket::Pause(BorrowedFd fd,
                                                 const sys::Sys& sys) {
  const ErrorContext ctx("pause", fd);
  const sys::Result<int> reuse =
      sys.GetSockOptInt(fd, SOL_SOCKET, SO_REUSEADDR);
  if (!reuse.ok()) {
    return ctx.SysError(reuse.err == ENOTSOCK
                            ? "read SO_REUSEADDR (not a socket)"
                            : "read SO_REUSEADDR",
                        reuse);
  }
  const int reuse_addr = reuse.value;
  const sys::Result<void> r = sys.SetRepair(fd, sys::RepairMode::kOn);
  if (r.ok()) return PausedSocket(fd, &sys, nullptr, true, reuse_addr);
  switch (r.err) {
    case EPERM: {
      // The kernel refuses listening sockets with EPERM too; they need no
      // repair mode.
      SOCCR_ASSIGN_OR_RETURN(
          const struct tcp_info info,
          ctx.Check("read the state (repair mode was refused)",
                    sys.GetTcpInfo(fd)));
      if (info.tcpi_state == static_cast<uint8_t>(TcpState::kListen)) {
        return PausedSocket(fd, &sys, nullptr, false, reuse_addr);
      }
      return ctx.SysError(
          "enter repair mode (needs CAP_NET_ADMIN in the socket's network "
          "namespace)",
          r);
    }
    case ENOPROTOOPT:
    case EOPNOTSUPP: {
      const sys::Result<int> proto =
          sys.GetSockOptInt(fd, SOL_SOCKET, SO_PROTOCOL);
      if (proto.ok() && proto.value == IPPROTO_MPTCP) {
        return ctx.Error(absl::StatusCode::kUnimplemented,
                         "an MPTCP socket cannot be paused: the kernel has "
                         "no repair mode for MPTCP (setsockopt(TCP_REPAIR) "
                         "is refused), so its subflows cannot be saved");
      }
      // InvalidArgument (StatusCodeForErrno): not a TCP socket.
      return ctx.SysError("enter repair mode (not a TCP socket)", r);
    }
    case ENOTSOCK:
      return ctx.SysError("enter repair mode (not a TCP socket)", r);
    default:
      return ctx.SysError("enter repair mode", r);
  }
}

absl::Status PausedSocket::Resume(const ResumeOptions& options) && {
  absl::Status s = ResumeImpl(options);
  if (s.ok()) Disarm();
  return s;
}

absl::Status PausedSocket::ResumeImpl(const ResumeOptions& options) {
  if (!fd_) {
    return absl::FailedPreconditionError(
        "resume: this handle no longer holds a socket");
  }
  const ErrorContext ctx("resume", fd_);
  if (repair_) {
    const sys::Result<void> off = sys_->SetRepair(
        fd_, options.window_probe ? sys::RepairMode::kOff
                                  : sys::RepairMode::kOffNoWindowProbe);
    if (!off.ok()) return ctx.SysError("leave repair mode", off);
    RestoreReuseAddr(*sys_, fd_, reuse_addr_);
  }
  if (pending_ == nullptr) return absl::OkStatus();
  internal::PendingResume& p = *pending_;
  // On failure: back into repair mode, so that the caller still holds a
  // paused socket, with what is left to do.
  auto fail = [&](absl::Status status) {
    if (repair_) (void)sys_->SetRepair(fd_, sys::RepairMode::kOn);
    return status;
  };

  // SYN_SENT: connect() sends the SYN; it must not wait for the answer,
  // whatever the descriptor's blocking mode, so O_NONBLOCK is set around it
  // (and the flags to put back are kept until they are).
  if (p.connect) {
    const sys::Result<int> flags = sys_->GetFileFlags(fd_);
    if (!flags.ok()) {
      return fail(ctx.SysError("read the file flags", flags));
    }
    if ((flags.value & O_NONBLOCK) == 0) {
      const sys::Result<void> nb =
          sys_->SetFileFlags(fd_, flags.value | O_NONBLOCK);
      if (!nb.ok()) {
        return fail(ctx.SysError("make connect() non-blocking", nb));
      }
      p.file_flags = flags.value;
    }
    const sys::Result<void> c = sys_->Connect(fd_, p.peer);
    // EALREADY/EISCONN: a resume that failed after connect() already sent
    // the SYN.
    if (!c.ok() && c.err != EINPROGRESS && c.err != EALREADY &&
        c.err != EISCONN) {
      if (p.file_flags.has_value()) {
        (void)sys_->SetFileFlags(fd_, *p.file_flags);
        p.file_flags.reset();
      }
      return fail(ctx.SysError("send the SYN again", c));
    }
    p.connect = false;
  }
  if (p.file_flags.has_value()) {
    const sys::Result<void> r = sys_->SetFileFlags(fd_, *p.file_flags);
    if (!r.ok()) {
      return fail(ctx.SysError("restore the file flags after connect()", r));
    }
    p.file_flags.reset();
  }
  if (p.listen_backlog.has_value()) {
    const sys::Result<void> l = sys_->Listen(fd_, *p.listen_backlog);
    if (!l.ok()) {
      return fail(ctx.SysError("listen", l));
    }
    p.listen_backlog.reset();
  }

  // The data the original had not sent: now a normal send, so it leaves
  // under the restored window. The restore sized the send buffer for it.
  size_t done = 0;
  while (done < p.unsent.size()) {
    const sys::Result<size_t> w =
        sys_->Send(fd_, p.unsent.span().subspan(done));
    if (w.ok() && w.value > 0) {
      done += w.value;
      continue;
    }
    if (!w.ok() && w.err == EINTR) continue;
    // Keep what was queued and hold the rest.
    p.unsent = p.unsent.Subrange(done, p.unsent.size() - done);
    const std::string step =
        absl::StrCat("queue unsent data (", done, " bytes queued, ",
                     p.unsent.size(), " left)");
    if (!w.ok()) return fail(ctx.SysError(step, w));
    return fail(ctx.Error(absl::StatusCode::kResourceExhausted,
                          absl::StrCat(step, ": the send buffer is full")));
  }
  p.unsent = QueueBytes();

  // Our FIN after that data (and for CLOSING the peer's FIN after ours).
  if (p.steps_done < p.steps.size()) {
    size_t n = 0;
    absl::Status s = internal::RunStateSteps(
        *sys_, fd_, absl::MakeConstSpan(p.steps).subspan(p.steps_done),
        p.segment_params, /*in_repair=*/false, ctx, &n);
    p.steps_done += n;
    if (!s.ok()) return fail(s);
  }

  // Tuning that must come after the data; the values were validated when
  // the restore was planned, and the kernel clamps rather than refuses them.
  for (const SocketOption& o : p.after_resume) {
    (void)sys_->SetSockOpt(
        fd_, o.level, o.name,
        absl::Span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(o.value.data()), o.value.size()));
  }
  internal::ApplyFinalBuffer(*sys_, fd_, internal::BufferKind::kSend,
                             p.final_buffers);
  if (p.sndbuf_raised || p.rcvbuf_raised) {
    internal::ApplyBufferLocks(*sys_, fd_, p.final_buffers);
  }
  return absl::OkStatus();
}

RestoredSocket::RestoredSocket(OwnedFd fd, PausedSocket paused)
    : fd_(std::move(fd)), paused_(std::move(paused)) {}

RestoredSocket& RestoredSocket::operator=(RestoredSocket&& other) noexcept {
  if (this != &other) {
    paused_.Disarm();  // Our socket closes silently, still in repair mode.
    paused_ = std::move(other.paused_);
    fd_ = std::move(other.fd_);
  }
  return *this;
}

RestoredSocket::~RestoredSocket() { paused_.Disarm(); }

absl::StatusOr<OwnedFd> RestoredSocket::Resume(
    const ResumeOptions& options) && {
  if (absl::Status s = paused_.ResumeImpl(options); !s.ok()) return s;
  paused_.Disarm();
  return std::move(fd_);
}

OwnedFd RestoredSocket::ReleaseInRepairMode() && {
  paused_.Disarm();
  return std::move(fd_);
}

}  // namespace soccr
