// Writes the golden image of unix socket records (format 1.1) from a real
// checkpoint, in a private user + network namespace:
//
//   ./bazelw run //soccr/unix:make_golden -- $PWD/testdata/image/v1
//
// testdata/image/v1/unix_pair.soccr: both ends of a seqpacket socketpair
// with messages queued both ways (an empty one, one of 5,000 bytes), the
// receiver of one side with SO_PASSCRED (its messages carry credentials),
// the other side shut for writing; then a stream socket listening on an
// abstract name. The golden test checks what it decodes to and that
// writing it again gives the same bytes.

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <string>

#include "soccr/fd.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/unix/checkpoint.h"
#include "soccr/unix/image.h"

namespace {

int Fail(const char* what, const absl::Status& s) {
  fprintf(stderr, "make_golden: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_golden DIR\n");
    return 2;
  }
  if (absl::Status s = soccr::loopback::EnterPrivateNetns(); !s.ok()) {
    return Fail("private namespace", s);
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    perror("socketpair");
    return 1;
  }
  soccr::OwnedFd a(sv[0]), b(sv[1]);
  const int one = 1;
  ::setsockopt(a.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
  const std::string big(5000, 'g');
  ::send(b.get(), "golden", 6, 0);
  ::send(b.get(), "", 0, 0);
  ::send(b.get(), big.data(), big.size(), 0);
  ::send(a.get(), "reply", 5, 0);
  ::shutdown(b.get(), SHUT_WR);

  soccr::OwnedFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  const char name[] = "soccr-golden";
  memcpy(sa.sun_path + 1, name, sizeof(name) - 1);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&sa),
             offsetof(struct sockaddr_un, sun_path) + sizeof(name)) != 0 ||
      ::listen(listener.get(), 16) != 0) {
    perror("bind/listen");
    return 1;
  }
  absl::StatusOr<soccr::UnixPairState> pair =
      soccr::CheckpointUnixPair(a.borrow(), b.borrow());
  if (!pair.ok()) return Fail("checkpoint pair", pair.status());
  absl::StatusOr<soccr::UnixSocketState> l =
      soccr::CheckpointUnixSocket(listener.borrow());
  if (!l.ok()) return Fail("checkpoint listener", l.status());
  const std::string path = std::string(argv[1]) + "/unix_pair.soccr";
  soccr::OwnedFd out(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out) {
    perror(path.c_str());
    return 1;
  }
  if (absl::Status s =
          soccr::WriteUnixImage(out.borrow(), {pair->a, pair->b, *l});
      !s.ok()) {
    return Fail("write", s);
  }
  printf("wrote %s\n", path.c_str());
  return 0;
}
