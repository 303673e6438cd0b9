// soccr/internal/sock_diag_session_scope.h: a checkpoint's use of a
// caller's SockDiagSession (soccr/sock_diag_session.h).
//
//   const internal::SockDiagSessionScope scope(options.sock_diag);
//
// While it lives, the calling thread's sock_diag questions go to the
// session's netlink socket (ScopedSockDiag), if the session was given, is
// not moved from and no other thread is using it; otherwise nothing
// changes (the thread's own socket, or one per question).

#ifndef SOCCR_INTERNAL_SOCK_DIAG_SESSION_SCOPE_H_
#define SOCCR_INTERNAL_SOCK_DIAG_SESSION_SCOPE_H_

#include <optional>

#include "soccr/internal/sock_diag.h"
#include "soccr/sock_diag_session.h"

namespace soccr::internal {

class SockDiagSessionScope {
 public:
  // `session` may be null. Not owned; must outlive the scope.
  explicit SockDiagSessionScope(SockDiagSession* session);
  SockDiagSessionScope(const SockDiagSessionScope&) = delete;
  SockDiagSessionScope& operator=(const SockDiagSessionScope&) = delete;
  ~SockDiagSessionScope();

  // Whether this scope took the session (false: none given, moved from, or
  // in use on another thread).
  [[nodiscard]] bool holds() const { return held_ != nullptr; }

 private:
  SockDiagSession::State* held_ = nullptr;
  std::optional<ScopedSockDiag> scope_;
};

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_SOCK_DIAG_SESSION_SCOPE_H_
