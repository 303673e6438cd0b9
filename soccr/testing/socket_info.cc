#include "soccr/testing/socket_info.h"

#include <errno.h>
#include <sys/socket.h>

namespace soccr::testing {

int GetIntOpt(BorrowedFd fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof(v);
  if (::getsockopt(fd.get(), level, name, &v, &len) != 0) return -errno;
  return v;
}

struct tcp_info TcpInfo(BorrowedFd fd) {
  struct tcp_info ti = {};
  socklen_t len = sizeof(ti);
  if (::getsockopt(fd.get(), SOL_TCP, TCP_INFO, &ti, &len) != 0) return {};
  return ti;
}

}  // namespace soccr::testing
