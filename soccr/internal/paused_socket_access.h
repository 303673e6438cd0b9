// soccr/internal/paused_socket_access.h: how Checkpoint() and Restore() reach
// the private parts of the socket handles.

#ifndef SOCCR_INTERNAL_PAUSED_SOCKET_ACCESS_H_
#define SOCCR_INTERNAL_PAUSED_SOCKET_ACCESS_H_

#include <memory>
#include <utility>

#include "soccr/internal/pending_resume.h"
#include "soccr/paused_socket.h"

namespace soccr::internal {

struct PausedSocketAccess {
  static const PendingResume* Pending(const PausedSocket& p) {
    return p.pending_.get();
  }
  // Hands a paused socket (a caller's socket the C API restored onto) the
  // work its resume must do.
  static void SetPending(PausedSocket& p,
                         std::unique_ptr<PendingResume> pending) {
    p.pending_ = std::move(pending);
  }
  static RestoredSocket MakeRestored(OwnedFd fd, const sys::Sys& sys,
                                     std::unique_ptr<PendingResume> pending) {
    PausedSocket paused(fd.borrow(), &sys, std::move(pending));
    return RestoredSocket(std::move(fd), std::move(paused));
  }
};

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_PAUSED_SOCKET_ACCESS_H_
