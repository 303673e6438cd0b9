// make_golden: writes the golden images of the current format version from
// real checkpoints of real connections, in a private network namespace.
//
//   ./bazelw run //soccr/image:make_golden -- $PWD/testdata/image/v1
//
// Run it once per format version, check the files in, and never again for
// that version: golden_test loads them forever. The queue bytes are
// GoldenText(), which golden_test spells out again on its own.

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/image/image.h"
#include "soccr/soccr.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/tcp_pair.h"

namespace soccr {
namespace {

using ::soccr::testing::Family;

// `label` repeated and cut to `n` bytes.
std::string GoldenText(absl::string_view label, size_t n) {
  std::string s;
  while (s.size() < n) s.append(label.data(), label.size());
  s.resize(n);
  return s;
}

absl::Status Check(bool ok, absl::string_view what) {
  return ok ? absl::OkStatus()
            : absl::InternalError(absl::StrCat(what, " failed"));
}

absl::Status SetInt(BorrowedFd fd, int level, int name, int value) {
  return Check(::setsockopt(fd.get(), level, name, &value, sizeof(value)) == 0,
               absl::StrCat("setsockopt ", level, "/", name));
}

// Checkpoints `pair.client` and closes it silently. Its congestion control
// is pinned to reno, which every kernel has built in, so that the golden
// state restores anywhere (the namespace's default may be a module).
absl::StatusOr<ConnectionState> Take(soccr::testing::TcpPair& pair,
                                     bool socket_options) {
  if (::setsockopt(pair.client.get(), SOL_TCP, TCP_CONGESTION, "reno", 4) !=
      0) {
    return absl::ErrnoToStatus(errno, "set TCP_CONGESTION");
  }
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause(pair.client.borrow());
  if (!paused.ok()) return paused.status();
  CheckpointOptions options;
  options.socket_options = socket_options;
  absl::StatusOr<ConnectionState> s = Checkpoint(*paused, options);
  if (!s.ok()) return s.status();
  std::move(*paused).LeaveInRepairMode();
  pair.client.reset();
  return s;
}

// A small IPv4 connection: a few bytes unread, a few in flight (the peer
// drops them), socket options set.
absl::StatusOr<ConnectionState> SmallV4() {
  absl::StatusOr<soccr::testing::TcpPair> pair =
      soccr::testing::ConnectedPair(Family::kV4);
  if (!pair.ok()) return pair.status();
  const BorrowedFd c = pair->client.borrow();
  const std::string to_client = GoldenText("golden receive queue|", 21);
  if (absl::Status st =
          soccr::testing::WriteAll(pair->server.borrow(), to_client);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = soccr::testing::WaitInq(c, to_client.size());
      !st.ok()) {
    return st;
  }
  if (absl::Status st =
          soccr::testing::WaitNothingInFlight(pair->server.borrow());
      !st.ok()) {
    return st;
  }
  if (absl::Status st = soccr::testing::DropIncoming(pair->server.borrow());
      !st.ok()) {
    return st;
  }
  for (absl::Status st : {SetInt(c, SOL_TCP, TCP_NODELAY, 1),
                          SetInt(c, SOL_SOCKET, SO_KEEPALIVE, 1),
                          SetInt(c, SOL_TCP, TCP_KEEPIDLE, 600)}) {
    if (!st.ok()) return st;
  }
  const std::string to_server = GoldenText("golden send queue|", 27);
  if (absl::Status st = soccr::testing::WriteAll(c, to_server); !st.ok()) {
    return st;
  }
  absl::SleepFor(absl::Milliseconds(20));  // let it go out (and be dropped)
  return Take(*pair, /*socket_options=*/true);
}

// A connection whose send queue is partly unsent: the server's receive
// buffer is tiny and it reads nothing.
absl::StatusOr<ConnectionState> WithUnsent(Family family,
                                           absl::string_view label,
                                           bool socket_options) {
  absl::StatusOr<soccr::testing::TcpPair> pair =
      soccr::testing::ConnectedPair(family, 0, /*server_rcvbuf=*/1024);
  if (!pair.ok()) return pair.status();
  const BorrowedFd c = pair->client.borrow();
  const std::string to_client =
      GoldenText(absl::StrCat(label, " receive|"), 300);
  if (absl::Status st =
          soccr::testing::WriteAll(pair->server.borrow(), to_client);
      !st.ok()) {
    return st;
  }
  if (absl::Status st = soccr::testing::WaitInq(c, to_client.size());
      !st.ok()) {
    return st;
  }
  if (absl::Status st =
          soccr::testing::WaitNothingInFlight(pair->server.borrow());
      !st.ok()) {
    return st;
  }
  const std::string to_server = GoldenText(absl::StrCat(label, " send|"), 6000);
  absl::StatusOr<size_t> n = soccr::testing::WriteSome(c, to_server);
  if (!n.ok()) return n.status();
  if (absl::Status st = Check(*n == to_server.size(), "writing 6000 bytes");
      !st.ok()) {
    return st;
  }
  if (absl::Status st = soccr::testing::WaitNothingInFlight(c); !st.ok()) {
    return st;
  }
  return Take(*pair, socket_options);
}

absl::Status Write(const std::string& path,
                   const std::vector<ConnectionState>& states) {
  OwnedFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  if (absl::Status st = WriteImage(fd.borrow(), states); !st.ok()) return st;
  for (const ConnectionState& s : states) {
    printf("%s: %s\n", path.c_str(), s.ToString().c_str());
  }
  return absl::OkStatus();
}

absl::Status Main(const std::string& dir) {
  if (absl::Status st = soccr::testing::EnterPrivateNetns(); !st.ok()) {
    return st;
  }
  absl::StatusOr<ConnectionState> small = SmallV4();
  if (!small.ok()) return small.status();
  if (absl::Status st = Write(dir + "/established_v4.soccr", {*small});
      !st.ok()) {
    return st;
  }
  std::vector<ConnectionState> three;
  const std::pair<Family, const char*> kinds[] = {
      {Family::kV4, "v4"}, {Family::kV6, "v6"}, {Family::kMapped, "mapped"}};
  for (const auto& [family, label] : kinds) {
    // The IPv6 one without socket options: what libsoccr's state holds.
    absl::StatusOr<ConnectionState> s =
        WithUnsent(family, label, family != Family::kV6);
    if (!s.ok()) return s.status();
    three.push_back(*std::move(s));
  }
  return Write(dir + "/three_connections.soccr", three);
}

}  // namespace
}  // namespace soccr

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_golden OUTPUT_DIR\n");
    return 2;
  }
  if (absl::Status st = soccr::Main(argv[1]); !st.ok()) {
    fprintf(stderr, "make_golden: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
