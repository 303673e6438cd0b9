#include "soccr/paused_socket.h"

#include <errno.h>
#include <netinet/tcp.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "soccr/internal/buffers.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/pending_resume.h"
#include "soccr/tcp_state.h"

namespace soccr {

using internal::ErrorContext;

PausedSocket::PausedSocket(BorrowedFd fd, const sys::Sys* sys,
                           std::unique_ptr<internal::PendingResume> pending)
    : fd_(fd), sys_(sys), pending_(std::move(pending)) {}

PausedSocket::PausedSocket(PausedSocket&& other) noexcept
    : fd_(other.fd_), sys_(other.sys_), pending_(std::move(other.pending_)) {
  other.Disarm();
}

PausedSocket& PausedSocket::operator=(PausedSocket&& other) noexcept {
  if (this != &other) {
    ReleaseRepair();
    fd_ = other.fd_;
    sys_ = other.sys_;
    pending_ = std::move(other.pending_);
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
  if (fd_ && sys_ != nullptr) {
    // Nowhere to report a failure from here: the descriptor is the caller's
    // and was most likely closed under us.
    (void)sys_->SetRepair(fd_, sys::RepairMode::kOff);
  }
  Disarm();
}

absl::StatusOr<PausedSocket> PausedSocket::Pause(BorrowedFd fd,
                                                 const sys::Sys& sys) {
  const ErrorContext ctx("pause", fd);
  const sys::Result<void> r = sys.SetRepair(fd, sys::RepairMode::kOn);
  if (r.ok()) return PausedSocket(fd, &sys, nullptr);
  switch (r.err) {
    case EPERM: {
      // The kernel refuses listening sockets with EPERM too; tell them apart.
      const sys::Result<struct tcp_info> info = sys.GetTcpInfo(fd);
      if (info.ok() &&
          info.value.tcpi_state == static_cast<uint8_t>(TcpState::kListen)) {
        return ctx.Error(absl::StatusCode::kFailedPrecondition,
                         "a listening socket cannot enter repair mode");
      }
      return ctx.SysError(
          "enter repair mode (needs CAP_NET_ADMIN in the socket's network "
          "namespace)",
          sys::Op::kSetRepair, r.err);
    }
    case ENOPROTOOPT:
    case EOPNOTSUPP:
    case ENOTSOCK:
      return absl::InvalidArgumentError(
          ctx.SysError("enter repair mode (not a TCP socket)",
                       sys::Op::kSetRepair, r.err)
              .message());
    default:
      return ctx.SysError("enter repair mode", sys::Op::kSetRepair, r.err);
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
  const sys::Result<void> off = sys_->SetRepair(
      fd_, options.window_probe ? sys::RepairMode::kOff
                                : sys::RepairMode::kOffNoWindowProbe);
  if (!off.ok()) {
    return ctx.SysError("leave repair mode", sys::Op::kSetRepair, off.err);
  }
  if (pending_ == nullptr) return absl::OkStatus();

  // The data the original had not sent: now a normal send, so it leaves
  // under the restored window. The restore sized the send buffer for it.
  internal::PendingResume& p = *pending_;
  size_t done = 0;
  while (done < p.unsent.size()) {
    const sys::Result<size_t> w =
        sys_->Send(fd_, p.unsent.span().subspan(done));
    if (w.ok() && w.value > 0) {
      done += w.value;
      continue;
    }
    if (!w.ok() && w.err == EINTR) continue;
    // Keep what was queued, hold the rest, and go back into repair mode so
    // that the caller still has a paused socket.
    p.unsent = p.unsent.Subrange(done, p.unsent.size() - done);
    (void)sys_->SetRepair(fd_, sys::RepairMode::kOn);
    const std::string step = absl::StrCat(
        "queue unsent data (", done, " bytes queued, ", p.unsent.size(),
        " left)");
    if (!w.ok()) return ctx.SysError(step, sys::Op::kSend, w.err);
    return ctx.Error(absl::StatusCode::kResourceExhausted,
                     absl::StrCat(step, ": the send buffer is full"));
  }
  p.unsent = QueueBytes();

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

absl::StatusOr<OwnedFd> RestoredSocket::Resume(const ResumeOptions& options) && {
  if (absl::Status s = paused_.ResumeImpl(options); !s.ok()) return s;
  paused_.Disarm();
  return std::move(fd_);
}

OwnedFd RestoredSocket::ReleaseInRepairMode() && {
  paused_.Disarm();
  return std::move(fd_);
}

}  // namespace soccr
