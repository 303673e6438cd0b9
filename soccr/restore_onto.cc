#include "soccr/restore_onto.h"

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "soccr/address.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/paused_socket_access.h"
#include "soccr/internal/pending_resume.h"
#include "soccr/internal/restore_onto.h"
#include "soccr/status_macros.h"
#include "soccr/tcp_state.h"

namespace soccr {

// One getsockname() answers both for a new socket: its family, and no local
// port, which every TCP socket in a state other than CLOSE has (its bind,
// connect or listen gave it one). Only a socket with a port needs its state
// read.
absl::Status CheckRestoreTarget(const PausedSocket& paused,
                                const RestorePlan& plan) {
  const sys::Sys& sys = paused.sys();
  const BorrowedFd fd = paused.fd();
  const internal::ErrorContext ctx("restore", plan.local, plan.peer);
  SOCCR_ASSIGN_OR_RETURN(
      const SocketAddress local,
      ctx.Check("read the socket's family", sys.GetSockName(fd)));
  const int domain = local.family();
  if (domain != plan.family) {
    auto name = [](int family) {
      return family == AF_INET    ? std::string("AF_INET")
             : family == AF_INET6 ? std::string("AF_INET6")
                                  : absl::StrCat("family ", family);
    };
    return ctx.Error(
        absl::StatusCode::kInvalidArgument,
        absl::StrCat("the socket is ", name(domain), " but the addresses are ",
                     name(plan.family),
                     ": create the socket with the addresses' family"));
  }
  if (local.port() == 0) return absl::OkStatus();
  SOCCR_ASSIGN_OR_RETURN(
      const struct tcp_info info,
      ctx.Check("read the socket's state", sys.GetTcpInfo(fd)));
  if (info.tcpi_state != static_cast<uint8_t>(TcpState::kClose)) {
    return ctx.Error(
        absl::StatusCode::kFailedPrecondition,
        absl::StrCat("the socket is ",
                     TcpStateName(static_cast<TcpState>(info.tcpi_state)),
                     ": a restore needs a new socket, never connected"));
  }
  return absl::OkStatus();
}

absl::Status RestoreOnto(PausedSocket& paused, const RestorePlan& plan) {
  SOCCR_ASSIGN_OR_RETURN(
      std::unique_ptr<internal::PendingResume> pending,
      internal::RestoreOnto(paused.sys(), paused.fd(), plan));
  // Unsent data is queued only on resume: keep a copy of borrowed bytes,
  // which are promised only for the call.
  if (pending->unsent.borrowed()) {
    pending->unsent = QueueBytes::Copy(pending->unsent.span());
  }
  internal::PausedSocketAccess::SetPending(paused, std::move(pending));
  return absl::OkStatus();
}

}  // namespace soccr
