// tools/pidfd.h: taking a copy of another process's descriptor, and
// telling what a descriptor is.
//
//   absl::StatusOr<soccr::OwnedFd> copy = soccr::tools::TakeDescriptor(pid, 5);
//   if (!copy.ok()) return copy.status();  // PermissionDenied: no ptrace
//                                          // access
//   absl::Status tcp =
//       soccr::tools::CheckTcpSocket(copy->borrow(), "fd 5 of process 42");
//
// The copy (pidfd_getfd) refers to the same open socket as the original:
// whatever is done to the socket through it (repair mode, a checkpoint),
// the other process sees. Only closing the copy is private to it.

#ifndef SOCCR_TOOLS_PIDFD_H_
#define SOCCR_TOOLS_PIDFD_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "soccr/fd.h"

namespace soccr::tools {

// Duplicates descriptor `fd` of process `pid` into this process
// (pidfd_open, then pidfd_getfd; Linux 5.6+), close-on-exec. Needs ptrace
// access to the process (PTRACE_MODE_ATTACH_REALCREDS: the same user and
// nothing stopping ptrace, or CAP_SYS_PTRACE over its user namespace).
// Errors: NotFound for a process that does not exist or has no such
// descriptor; PermissionDenied without ptrace access; Unimplemented for a
// kernel without the calls; each naming the call and the errno.
[[nodiscard]] absl::StatusOr<OwnedFd> TakeDescriptor(pid_t pid, int fd);

// OK if `fd` is a TCP socket (AF_INET or AF_INET6, SOCK_STREAM,
// IPPROTO_TCP). Otherwise InvalidArgument saying what it is instead ("a
// pipe", "a UDP socket", ...), prefixed with `name`.
[[nodiscard]] absl::Status CheckTcpSocket(BorrowedFd fd,
                                          absl::string_view name);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_PIDFD_H_
