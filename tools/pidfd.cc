#include "tools/pidfd.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"

// glibc 2.36 has no wrappers for these; the numbers are the same on every
// architecture (they were added after the syscall tables were unified).
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

namespace soccr::tools {
namespace {

absl::Status CallError(absl::StatusCode code, absl::string_view what,
                       absl::string_view call, int err, absl::string_view why) {
  return absl::Status(
      code, absl::StrCat(what, ": ", call, ": ", ::strerror(err),
                         why.empty() ? "" : " (", why, why.empty() ? "" : ")"));
}

// The same, with the code soccr gives `err` (soccr/internal/status_code.h).
absl::Status CallError(absl::string_view what, absl::string_view call, int err,
                       absl::string_view why) {
  return CallError(internal::StatusCodeForErrno(err), what, call, err, why);
}

// What a descriptor that is not a TCP socket is, for the error message.
std::string Describe(BorrowedFd fd) {
  struct stat st = {};
  if (::fstat(fd.get(), &st) != 0) return "a descriptor fstat cannot read";
  if (S_ISREG(st.st_mode)) return "a regular file";
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (S_ISFIFO(st.st_mode)) return "a pipe";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (S_ISBLK(st.st_mode)) return "a block device";
  if (!S_ISSOCK(st.st_mode)) return "not a socket (an anonymous inode?)";
  int domain = 0, type = 0, protocol = 0;
  socklen_t len = sizeof(int);
  (void)::getsockopt(fd.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len);
  len = sizeof(int);
  (void)::getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &type, &len);
  len = sizeof(int);
  (void)::getsockopt(fd.get(), SOL_SOCKET, SO_PROTOCOL, &protocol, &len);
  if (domain == AF_UNIX) return "a Unix domain socket";
  if (domain != AF_INET && domain != AF_INET6) {
    return absl::StrCat("a socket of address family ", domain);
  }
  if (type == SOCK_DGRAM) {
    return protocol == IPPROTO_UDP ? "a UDP socket" : "a datagram socket";
  }
  if (type == SOCK_RAW) return "a raw IP socket";
  if (protocol == IPPROTO_MPTCP) {
    return "an MPTCP socket (the kernel has no repair mode for MPTCP)";
  }
  return absl::StrCat("a socket of type ", type, " and protocol ", protocol);
}

}  // namespace

absl::StatusOr<OwnedFd> TakeDescriptor(pid_t pid, int fd) {
  const std::string what = absl::StrCat("take fd ", fd, " of process ", pid);
  if (pid <= 0 || fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": not a process id and descriptor number"));
  }
  OwnedFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    const int err = errno;
    switch (err) {
      case ESRCH:
        return CallError(what, "pidfd_open", err, "no such process");
      case ENOSYS:
        return CallError(what, "pidfd_open", err, "needs Linux 5.3");
      default:
        return CallError(what, "pidfd_open", err, "");
    }
  }
  OwnedFd copy(
      static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0)));
  if (!copy) {
    const int err = errno;
    switch (err) {
      case EBADF:
        // Not a bad argument of ours (the pidfd is good): the descriptor
        // number names nothing in that process.
        return CallError(absl::StatusCode::kNotFound, what, "pidfd_getfd", err,
                         "the process has no such descriptor");
      case ESRCH:
        return CallError(what, "pidfd_getfd", err, "the process has exited");
      case EPERM:
        return CallError(
            what, "pidfd_getfd", err,
            "it needs ptrace access to the process: run as its user where "
            "kernel.yama.ptrace_scope allows it, or with CAP_SYS_PTRACE");
      case ENOSYS:
        return CallError(what, "pidfd_getfd", err, "needs Linux 5.6");
      default:
        return CallError(what, "pidfd_getfd", err, "");
    }
  }
  return copy;
}

absl::Status CheckTcpSocket(BorrowedFd fd, absl::string_view name) {
  struct stat st = {};
  if (::fstat(fd.get(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    int domain = 0, type = 0, protocol = 0;
    socklen_t len = sizeof(int);
    const bool ok =
        ::getsockopt(fd.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
        (len = sizeof(int),
         ::getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &type, &len) == 0) &&
        (len = sizeof(int),
         ::getsockopt(fd.get(), SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0);
    if (ok && (domain == AF_INET || domain == AF_INET6) &&
        type == SOCK_STREAM && protocol == IPPROTO_TCP) {
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(name, " is not a TCP socket: it is ", Describe(fd)));
}

}  // namespace soccr::tools
