#include "soccr/loopback/private_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "soccr/fd.h"
#include "soccr/status_macros.h"

namespace soccr::loopback {
namespace {

absl::Status WriteFile(const std::string& path, absl::string_view data) {
  OwnedFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  const ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("write ", path));
  if (static_cast<size_t>(n) != data.size()) {
    return absl::InternalError(absl::StrCat("short write to ", path));
  }
  return absl::OkStatus();
}

absl::Status EnterUserNamespaceOnce() {
  static bool entered = false;
  if (entered) return absl::OkStatus();
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER) != 0) {
    return absl::ErrnoToStatus(
        errno,
        "unshare(CLONE_NEWUSER) (the process must be single-threaded and "
        "user namespaces enabled)");
  }
  // Map ourselves to root inside, so /proc/sys/net files are writable.
  absl::Status s = WriteFile("/proc/self/setgroups", "deny");
  if (s.ok())
    s = WriteFile("/proc/self/uid_map", absl::StrCat("0 ", uid, " 1"));
  if (s.ok())
    s = WriteFile("/proc/self/gid_map", absl::StrCat("0 ", gid, " 1"));
  if (!s.ok()) return s;
  entered = true;
  return absl::OkStatus();
}

absl::Status BringLoopbackUp() {
  OwnedFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return absl::ErrnoToStatus(errno, "socket for SIOCSIFFLAGS");
  struct ifreq ifr = {};
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd.get(), SIOCGIFFLAGS, &ifr) != 0) {
    return absl::ErrnoToStatus(errno, "ioctl(SIOCGIFFLAGS, lo)");
  }
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(fd.get(), SIOCSIFFLAGS, &ifr) != 0) {
    return absl::ErrnoToStatus(errno, "ioctl(SIOCSIFFLAGS, lo up)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnterPrivateNetns() {
  SOCCR_RETURN_IF_ERROR(EnterUserNamespaceOnce());
  if (::unshare(CLONE_NEWNET) != 0) {
    return absl::ErrnoToStatus(errno, "unshare(CLONE_NEWNET)");
  }
  return BringLoopbackUp();
}

absl::Status SetSysctl(absl::string_view name, absl::string_view value) {
  return WriteFile(absl::StrCat("/proc/sys/", name), value);
}

absl::Status SetLoopbackMtu(int mtu) {
  OwnedFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return absl::ErrnoToStatus(errno, "socket for SIOCSIFMTU");
  struct ifreq ifr = {};
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  ifr.ifr_mtu = mtu;
  if (::ioctl(fd.get(), SIOCSIFMTU, &ifr) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("ioctl(SIOCSIFMTU, lo, ", mtu, ")"));
  }
  return absl::OkStatus();
}

absl::Status RaiseTcpBuffers(int64_t initial_bytes, int64_t max_bytes) {
  const std::string value =
      absl::StrCat("4096 ", initial_bytes, " ", max_bytes);
  SOCCR_RETURN_IF_ERROR(SetSysctl("net/ipv4/tcp_rmem", value));
  return SetSysctl("net/ipv4/tcp_wmem", value);
}

}  // namespace soccr::loopback
