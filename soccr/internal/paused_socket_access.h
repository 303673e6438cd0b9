// soccr/internal/paused_socket_access.h: how Checkpoint() and Restore() reach
// the private parts of the socket handles.

#ifndef SOCCR_INTERNAL_PAUSED_SOCKET_ACCESS_H_
#define SOCCR_INTERNAL_PAUSED_SOCKET_ACCESS_H_

#include <memory>
#include <optional>
#include <utility>

#include "soccr/internal/pending_resume.h"
#include "soccr/paused_socket.h"

namespace soccr::internal {

struct PausedSocketAccess {
  static const PendingResume* Pending(const PausedSocket& p) {
    return p.pending_.get();
  }
  // SO_REUSEADDR as it was before repair mode (which reads it as 2).
  static int ReuseAddr(const PausedSocket& p) { return p.reuse_addr_; }
  // Hands a paused socket (a caller's socket the C API restored onto) the
  // work its resume must do.
  static void SetPending(PausedSocket& p,
                         std::unique_ptr<PendingResume> pending) {
    if (pending != nullptr) p.reuse_addr_ = pending->reuse_addr;
    p.pending_ = std::move(pending);
  }
  // A socket its caller already put into repair mode (a batch switches
  // many at once, soccr/internal/batched_repair.h); `reuse_addr` is
  // SO_REUSEADDR as read before that.
  static PausedSocket MakePaused(BorrowedFd fd, const sys::Sys& sys,
                                 int reuse_addr) {
    return PausedSocket(fd, &sys, nullptr, true, reuse_addr);
  }
  // RestoredSocket::Resume() in two halves around leaving repair mode, for
  // a batch that leaves it for many sockets at once
  // (soccr/internal/batched_repair.h): the mode to leave with (nullopt:
  // not in repair mode), then the rest, which on success hands over the
  // socket.
  static absl::StatusOr<std::optional<sys::RepairMode>> PrepareRepairOff(
      RestoredSocket& r, const ResumeOptions& options) {
    return r.paused_.PrepareRepairOff(options);
  }
  static absl::StatusOr<OwnedFd> FinishResume(RestoredSocket& r) {
    if (absl::Status s = r.paused_.FinishResume(); !s.ok()) return s;
    r.paused_.Disarm();
    return std::move(r.fd_);
  }
  // `in_repair`: whether Restore() put the socket in repair mode (not for
  // listening and unconnected sockets).
  static RestoredSocket MakeRestored(OwnedFd fd, const sys::Sys& sys,
                                     std::unique_ptr<PendingResume> pending,
                                     bool in_repair = true) {
    const int reuse_addr = pending != nullptr ? pending->reuse_addr : 0;
    PausedSocket paused(fd.borrow(), &sys, std::move(pending), in_repair,
                        reuse_addr);
    return RestoredSocket(std::move(fd), std::move(paused));
  }
};

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_PAUSED_SOCKET_ACCESS_H_
