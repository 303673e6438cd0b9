#include "soccr/restore.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/paused_socket_access.h"
#include "soccr/internal/pending_resume.h"
#include "soccr/internal/restore_onto.h"
#include "soccr/internal/status_code.h"
#include "soccr/restore_plan.h"
#include "soccr/status_macros.h"

namespace soccr {
namespace {

using internal::ErrorContext;
using internal::PendingResume;

}  // namespace

absl::StatusOr<RestoredSocket> Restore(const ConnectionState& state,
                                       const sys::Sys& sys) {
  SOCCR_ASSIGN_OR_RETURN(const RestorePlan plan, PlanRestore(state));
  const ErrorContext ctx("restore", plan.local, plan.peer);

  // From here on, an early return closes the socket; it is in repair mode
  // as soon as that succeeds, so closing it sends nothing. Listeners and
  // sockets never connected need no repair mode: they send nothing until
  // resumed either.
  SOCCR_ASSIGN_OR_RETURN(
      OwnedFd fd, ctx.Check("create socket",
                            sys.Socket(plan.family, SOCK_STREAM | SOCK_CLOEXEC,
                                       IPPROTO_TCP)));
  const bool repair = plan.kind == RestoreKind::kConnection ||
                      plan.kind == RestoreKind::kSynSent;
  const sys::Result<void> on =
      repair ? sys.SetRepair(fd.borrow(), sys::RepairMode::kOn)
             : sys::Result<void>{};
  if (!on.ok()) {
    return ctx.SysError(on.err == EPERM
                            ? "enter repair mode (needs CAP_NET_ADMIN in this "
                              "network namespace)"
                            : "enter repair mode",
                        on);
  }
  SOCCR_ASSIGN_OR_RETURN(std::unique_ptr<PendingResume> pending,
                         internal::RestoreOnto(sys, fd.borrow(), plan));
  return internal::PausedSocketAccess::MakeRestored(std::move(fd), sys,
                                                    std::move(pending), repair);
}

absl::StatusOr<FreshSocket> MakeFreshSocket(int family, const sys::Sys& sys) {
  if (family != AF_INET && family != AF_INET6) {
    return absl::InvalidArgumentError(
        absl::StrCat("fresh socket: address family ", family,
                     " (a TCP socket is AF_INET or AF_INET6)"));
  }
  sys::Result<OwnedFd> fd =
      sys.Socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (!fd.ok()) {
    return internal::ErrnoStatus(
        fd.op, fd.err,
        absl::StrCat("fresh socket: create socket: ", sys::OpName(fd.op)));
  }
  const sys::Result<void> on =
      sys.SetRepair(fd.value.borrow(), sys::RepairMode::kOn);
  if (!on.ok()) {
    return internal::ErrnoStatus(
        on.op, on.err,
        absl::StrCat("fresh socket: enter repair mode",
                     on.err == EPERM ? " (needs CAP_NET_ADMIN in this "
                                       "network namespace)"
                                     : "",
                     ": ", sys::OpName(on.op)));
  }
  return FreshSocket(std::move(fd.value), family);
}

absl::Status AllowNonlocalBind(FreshSocket& socket, const sys::Sys& sys) {
  if (!socket) {
    return absl::InvalidArgumentError(
        "fresh socket: allow a non-local address: the socket was already "
        "used");
  }
  const bool v4 = socket.family() == AF_INET;
  const sys::Result<void> r =
      sys.SetSockOptInt(socket.fd_.borrow(), v4 ? SOL_IP : SOL_IPV6,
                        v4 ? IP_TRANSPARENT : IPV6_TRANSPARENT, 1);
  if (!r.ok()) {
    return internal::ErrnoStatus(
        r.op, r.err,
        absl::StrCat("fresh socket: allow a non-local address: set ",
                     v4 ? "IP_TRANSPARENT" : "IPV6_TRANSPARENT", ": ",
                     sys::OpName(r.op)));
  }
  return absl::OkStatus();
}

absl::StatusOr<RestoredSocket> Restore(FreshSocket socket,
                                       const ConnectionState& state,
                                       const sys::Sys& sys) {
  SOCCR_ASSIGN_OR_RETURN(const RestorePlan plan, PlanRestore(state));
  const ErrorContext ctx("restore", plan.local, plan.peer);
  if (!socket) {
    return ctx.Error(absl::StatusCode::kInvalidArgument,
                     "the fresh socket was already used");
  }
  if (plan.family != socket.family()) {
    return ctx.Error(
        absl::StatusCode::kInvalidArgument,
        absl::StrCat("the state is of address family ", plan.family,
                     ", the fresh socket of ", socket.family()));
  }
  // In repair mode from its making: an early return closes it silently.
  // RestoreOnto takes listeners and sockets never connected out of it.
  const bool repair = plan.kind == RestoreKind::kConnection ||
                      plan.kind == RestoreKind::kSynSent;
  OwnedFd fd = std::move(socket.fd_);
  SOCCR_ASSIGN_OR_RETURN(std::unique_ptr<PendingResume> pending,
                         internal::RestoreOnto(sys, fd.borrow(), plan));
  return internal::PausedSocketAccess::MakeRestored(std::move(fd), sys,
                                                    std::move(pending), repair);
}

}  // namespace soccr
