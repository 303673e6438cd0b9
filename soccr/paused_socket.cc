#include "soccr/paused_socket.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <utility>

#include "soccr/internal/error_context.h"
#include "soccr/internal/in_flight.h"
#include "soccr/internal/pending_resume.h"
#include "soccr/status_macros.h"
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

void PausedSocket::PutBackInFlight() {
  if (!fd_ || sys_ == nullptr || !repair_ || pending_ == nullptr) return;
  const ErrorContext ctx("release", fd_);
  // Nowhere to report a failure: the caller gives the socket up as it is.
  (void)internal::SettleInFlight(*sys_, fd_, *pending_, absl::ZeroDuration(),
                                 ctx);
}

void PausedSocket::ReleaseRepair() {
  PutBackInFlight();
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
  return Pause(fd, reuse.value, sys);
}

absl::StatusOr<PausedSocket> PausedSocket::Pause(BorrowedFd fd, int reuse_addr,
                                                 const sys::Sys& sys) {
  const ErrorContext ctx("pause", fd);
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
  SOCCR_ASSIGN_OR_RETURN(const std::optional<sys::RepairMode> mode,
                         PrepareRepairOff(options));
  if (mode.has_value()) {
    const sys::Result<void> off = sys_->SetRepair(fd_, *mode);
    if (!off.ok()) {
      return ErrorContext("resume", fd_).SysError("leave repair mode", off);
    }
  }
  return FinishResume();
}

absl::StatusOr<std::optional<sys::RepairMode>> PausedSocket::PrepareRepairOff(
    const ResumeOptions& options) {
  if (!fd_) {
    return absl::FailedPreconditionError(
        "resume: this handle no longer holds a socket");
  }
  const ErrorContext ctx("resume", fd_);
  // Data and our FIN in flight: ask the peer what it has, still in repair
  // mode (soccr/internal/in_flight.h). Once its answer settled everything,
  // the kernel's own window probe has nothing left to learn.
  bool settled = false;
  if (repair_ && pending_ != nullptr) {
    absl::StatusOr<bool> s = internal::SettleInFlight(
        *sys_, fd_, *pending_,
        options.window_probe ? options.in_flight_probe_timeout
                             : absl::ZeroDuration(),
        ctx);
    if (!s.ok()) return s.status();
    settled = *s;
  }
  if (!repair_) return std::optional<sys::RepairMode>();
  return std::optional<sys::RepairMode>(
      options.window_probe && !settled ? sys::RepairMode::kOff
                                       : sys::RepairMode::kOffNoWindowProbe);
}

absl::Status PausedSocket::FinishResume() {
  if (repair_) RestoreReuseAddr(*sys_, fd_, reuse_addr_);
  if (pending_ == nullptr) return absl::OkStatus();
  const ErrorContext ctx("resume", fd_);
  if (absl::Status s = pending_->Finish(*sys_, fd_, ctx); !s.ok()) {
    // Back into repair mode, so that the caller still holds a paused
    // socket, with what is left to do.
    if (repair_) (void)sys_->SetRepair(fd_, sys::RepairMode::kOn);
    return s;
  }
  return absl::OkStatus();
}

absl::Status PausedSocket::DisconnectSilently() && {
  if (!fd_) {
    return absl::FailedPreconditionError(
        "disconnect: this handle no longer holds a socket");
  }
  const ErrorContext ctx("disconnect", fd_);
  const sys::Sys& sys = *sys_;
  const BorrowedFd fd = fd_;
  const bool repair = repair_;
  Disarm();  // whatever happens now, the socket is the caller's again
  SOCCR_RETURN_IF_ERROR(
      ctx.Check("drop the connection silently (the socket stays in repair "
                "mode)",
                sys.Disconnect(fd)));
  if (repair) (void)sys.SetRepair(fd, sys::RepairMode::kOffNoWindowProbe);
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
  SOCCR_RETURN_IF_ERROR(paused_.ResumeImpl(options));
  paused_.Disarm();
  return std::move(fd_);
}

OwnedFd RestoredSocket::ReleaseInRepairMode() && {
  paused_.PutBackInFlight();
  paused_.Disarm();
  return std::move(fd_);
}

}  // namespace soccr
