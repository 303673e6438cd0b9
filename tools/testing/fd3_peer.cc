// fd3_peer: the program `soccr restore` runs in the tests. It checks that
// descriptor 3 is the restored connection, live and ready to use, says so
// by writing a byte to READY_FD (and closing it), then carries on the
// conversation: writes its own bytes, and reads the bytes its peer sends
// (checking each).
//
//   fd3_peer READY_FD PEER_PORT RECV_BYTES RECV_SEED RECV_OFFSET
//            SEND_BYTES SEND_SEED SEND_OFFSET
//
// The bytes are soccr::loopback::Pattern(n, seed, offset), so a test can
// say which part of which stream comes next. Exit status 0 when all is
// well; otherwise 1 with one line on stderr saying what was wrong.

#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/tcp_state.h"
#include "tools/pidfd.h"

namespace {

int Fail(const std::string& why) {
  fprintf(stderr, "fd3_peer: %s\n", why.c_str());
  return 1;
}

int Main(int argc, char** argv) {
  uint64_t v[7];
  int ready = -1;
  if (argc != 9) return Fail("wants 8 arguments");
  if (!absl::SimpleAtoi(argv[1], &ready)) return Fail("bad READY_FD");
  for (int i = 0; i < 7; ++i) {
    if (!absl::SimpleAtoi(argv[i + 2], &v[i])) {
      return Fail(absl::StrCat("bad number ", argv[i + 2]));
    }
  }
  const soccr::BorrowedFd fd(3);
  if (absl::Status s = soccr::tools::CheckTcpSocket(fd, "fd 3"); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  const int fd_flags = ::fcntl(3, F_GETFD);
  const int fl_flags = ::fcntl(3, F_GETFL);
  if (fd_flags < 0 || (fd_flags & FD_CLOEXEC) != 0) {
    return Fail("fd 3 is close-on-exec");
  }
  if (fl_flags < 0 || (fl_flags & O_NONBLOCK) != 0) {
    return Fail("fd 3 is non-blocking");
  }
  const int state = soccr::loopback::TcpStateNumber(fd);
  if (state != static_cast<int>(soccr::TcpState::kEstablished)) {
    return Fail(absl::StrCat("fd 3 is in TCP state ", state));
  }
  struct sockaddr_storage ss = {};
  socklen_t len = sizeof(ss);
  if (::getpeername(3, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return Fail("getpeername(3) failed");
  }
  absl::StatusOr<soccr::SocketAddress> peer =
      soccr::SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  if (!peer.ok() || peer->port() != v[0]) {
    return Fail(absl::StrCat("fd 3's peer is not port ", v[0]));
  }
  if (::write(ready, "R", 1) != 1 || ::close(ready) != 0) {
    return Fail("cannot write to READY_FD");
  }
  if (absl::Status s = soccr::loopback::WriteAll(
          fd, soccr::loopback::Pattern(v[4], v[5], v[6]));
      !s.ok()) {
    return Fail(std::string(s.message()));
  }
  absl::StatusOr<std::string> got = soccr::loopback::ReadExactly(fd, v[1]);
  if (!got.ok()) return Fail(std::string(got.status().message()));
  if (*got != soccr::loopback::Pattern(v[1], v[2], v[3])) {
    return Fail("the bytes read differ from the peer's stream");
  }
  printf("fd3_peer: read %lu bytes, wrote %lu, all as expected\n",
         static_cast<unsigned long>(v[1]), static_cast<unsigned long>(v[4]));
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
