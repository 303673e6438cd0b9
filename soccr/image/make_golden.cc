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
#include <unistd.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/image/format.h"
#include "soccr/image/image.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/testing/netns.h"

namespace soccr {
namespace {

using ::soccr::loopback::Family;

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

// Checkpoints `fd` and closes it silently. Its congestion control is
// pinned to reno, which every kernel has built in, so that the golden state
// restores anywhere (the namespace's default may be a module).
absl::StatusOr<ConnectionState> Take(OwnedFd& fd, bool socket_options) {
  if (::setsockopt(fd.get(), SOL_TCP, TCP_CONGESTION, "reno", 4) != 0) {
    return absl::ErrnoToStatus(errno, "set TCP_CONGESTION");
  }
  absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd.borrow());
  if (!paused.ok()) return paused.status();
  CheckpointOptions options;
  options.socket_options = socket_options;
  absl::StatusOr<ConnectionState> s = Checkpoint(*paused, options);
  if (!s.ok()) return s.status();
  std::move(*paused).LeaveInRepairMode();
  fd.reset();
  return s;
}

absl::StatusOr<ConnectionState> Take(soccr::loopback::TcpPair& pair,
                                     bool socket_options) {
  return Take(pair.client, socket_options);
}

// The server sends `data`, which stays unread in the client's receive
// queue; returns once all of it is there and acknowledged.
absl::Status ServerSendsUnread(const soccr::loopback::TcpPair& pair,
                               absl::string_view data) {
  if (absl::Status st = soccr::loopback::WriteAll(pair.server.borrow(), data);
      !st.ok()) {
    return st;
  }
  if (absl::Status st =
          soccr::loopback::WaitInq(pair.client.borrow(), data.size());
      !st.ok()) {
    return st;
  }
  return soccr::loopback::WaitNothingInFlight(pair.server.borrow());
}

// A small IPv4 connection: a few bytes unread, a few in flight (the peer
// drops them), socket options set.
absl::StatusOr<ConnectionState> SmallV4() {
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(Family::kV4);
  if (!pair.ok()) return pair.status();
  const BorrowedFd c = pair->client.borrow();
  const std::string to_client = GoldenText("golden receive queue|", 21);
  if (absl::Status st = ServerSendsUnread(*pair, to_client); !st.ok()) {
    return st;
  }
  if (absl::Status st = soccr::loopback::DropIncoming(pair->server.borrow());
      !st.ok()) {
    return st;
  }
  for (absl::Status st : {SetInt(c, SOL_TCP, TCP_NODELAY, 1),
                          SetInt(c, SOL_SOCKET, SO_KEEPALIVE, 1),
                          SetInt(c, SOL_TCP, TCP_KEEPIDLE, 600)}) {
    if (!st.ok()) return st;
  }
  const std::string to_server = GoldenText("golden send queue|", 27);
  if (absl::Status st = soccr::loopback::WriteAll(c, to_server); !st.ok()) {
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
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(family, 0, /*server_rcvbuf=*/1024);
  if (!pair.ok()) return pair.status();
  const BorrowedFd c = pair->client.borrow();
  const std::string to_client =
      GoldenText(absl::StrCat(label, " receive|"), 300);
  if (absl::Status st = ServerSendsUnread(*pair, to_client); !st.ok()) {
    return st;
  }
  const std::string to_server = GoldenText(absl::StrCat(label, " send|"), 6000);
  absl::StatusOr<size_t> n = soccr::loopback::WriteSome(c, to_server);
  if (!n.ok()) return n.status();
  if (absl::Status st = Check(*n == to_server.size(), "writing 6000 bytes");
      !st.ok()) {
    return st;
  }
  if (absl::Status st = soccr::loopback::WaitNothingInFlight(c); !st.ok()) {
    return st;
  }
  return Take(*pair, socket_options);
}

// A listener on 127.0.0.1 with backlog 7.
absl::StatusOr<ConnectionState> Listener() {
  OwnedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const SocketAddress any = SocketAddress::Loopback4(0);
  if (!fd || ::bind(fd.get(), any.sockaddr(), any.length()) != 0 ||
      ::listen(fd.get(), 7) != 0) {
    return absl::ErrnoToStatus(errno, "listen");
  }
  return Take(fd, /*socket_options=*/true);
}

// A socket bound to [::1] and never connected.
absl::StatusOr<ConnectionState> Unconnected() {
  OwnedFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const SocketAddress any = SocketAddress::Loopback6(0);
  if (!fd || ::bind(fd.get(), any.sockaddr(), any.length()) != 0) {
    return absl::ErrnoToStatus(errno, "bind");
  }
  return Take(fd, /*socket_options=*/true);
}

// CLOSE_WAIT: the peer sent 40 bytes and its FIN; nothing read yet.
absl::StatusOr<ConnectionState> CloseWait() {
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(Family::kV4);
  if (!pair.ok()) return pair.status();
  const std::string data = GoldenText("golden close wait|", 40);
  if (absl::Status st = soccr::loopback::WriteAll(pair->server.borrow(), data);
      !st.ok()) {
    return st;
  }
  if (::shutdown(pair->server.get(), SHUT_WR) != 0) {
    return absl::ErrnoToStatus(errno, "shutdown");
  }
  if (absl::Status st = soccr::loopback::WaitTcpState(
          pair->client.borrow(), static_cast<int>(TcpState::kCloseWait));
      !st.ok()) {
    return st;
  }
  if (absl::Status st =
          soccr::loopback::WaitNothingInFlight(pair->server.borrow());
      !st.ok()) {
    return st;
  }
  return Take(*pair, /*socket_options=*/true);
}

// FIN_WAIT1: we sent 30 bytes and our FIN, and the peer dropped both.
absl::StatusOr<ConnectionState> FinWait1() {
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(Family::kV4);
  if (!pair.ok()) return pair.status();
  if (absl::Status st = soccr::loopback::DropIncoming(pair->server.borrow());
      !st.ok()) {
    return st;
  }
  const std::string data = GoldenText("golden fin wait 1|", 30);
  if (absl::Status st = soccr::loopback::WriteAll(pair->client.borrow(), data);
      !st.ok()) {
    return st;
  }
  if (::shutdown(pair->client.get(), SHUT_WR) != 0) {
    return absl::ErrnoToStatus(errno, "shutdown");
  }
  absl::SleepFor(absl::Milliseconds(20));  // let it go out (and be dropped)
  if (soccr::loopback::TcpStateNumber(pair->client.borrow()) !=
      static_cast<int>(TcpState::kFinWait1)) {
    return absl::InternalError("not in FIN_WAIT1");
  }
  return Take(*pair, /*socket_options=*/true);
}

// CLOSE after a reset, over IPv6, with 50 bytes unread: ECONNRESET pending.
absl::StatusOr<ConnectionState> ClosedByReset() {
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(Family::kV6);
  if (!pair.ok()) return pair.status();
  const std::string data = GoldenText("golden unread before reset|", 50);
  if (absl::Status st = soccr::loopback::WriteAll(pair->server.borrow(), data);
      !st.ok()) {
    return st;
  }
  if (absl::Status st =
          soccr::loopback::WaitInq(pair->client.borrow(), data.size());
      !st.ok()) {
    return st;
  }
  const struct linger abort = {1, 0};
  if (::setsockopt(pair->server.get(), SOL_SOCKET, SO_LINGER, &abort,
                   sizeof(abort)) != 0) {
    return absl::ErrnoToStatus(errno, "SO_LINGER");
  }
  pair->server.reset();  // sends a reset
  if (absl::Status st = soccr::loopback::WaitTcpState(
          pair->client.borrow(), static_cast<int>(TcpState::kClose));
      !st.ok()) {
    return st;
  }
  return Take(*pair, /*socket_options=*/true);
}

// Writes a golden image, never over an existing one: a golden file is
// written once, when its version is new, and kept forever.
using States = absl::StatusOr<std::vector<ConnectionState>>;

absl::Status Write(const std::string& path,
                   const std::function<States()>& make) {
  if (::access(path.c_str(), F_OK) == 0) {
    printf("%s exists: left as it is\n", path.c_str());
    return absl::OkStatus();
  }
  const States states = make();
  if (!states.ok()) return states.status();
  OwnedFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  if (absl::Status st = WriteImage(fd.borrow(), *states); !st.ok()) return st;
  for (const ConnectionState& s : *states) {
    printf("%s: %s\n", path.c_str(), s.ToString().c_str());
  }
  return absl::OkStatus();
}

// Writes `bytes` (an image made by `make`) to `path` unless it exists.
absl::Status WriteBytes(
    const std::string& path,
    const std::function<absl::StatusOr<std::string>()>& make) {
  if (::access(path.c_str(), F_OK) == 0) {
    printf("%s exists: left as it is\n", path.c_str());
    return absl::OkStatus();
  }
  const absl::StatusOr<std::string> bytes = make();
  if (!bytes.ok()) return bytes.status();
  OwnedFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  if (::write(fd.get(), bytes->data(), bytes->size()) !=
      static_cast<ssize_t>(bytes->size())) {
    return absl::ErrnoToStatus(errno, absl::StrCat("write ", path));
  }
  printf("%s: %zu bytes\n", path.c_str(), bytes->size());
  return absl::OkStatus();
}

// SmallV4's image as a later soccr, whose option table has a row this one
// lacks, could write it: its TCP_NODELAY (level 6, name 1) becomes option
// (6, 4242), with both checksums computed again. A reader must skip it.
absl::StatusOr<std::string> WithUnknownSocketOption() {
  namespace fmt = image_format;
  absl::StatusOr<ConnectionState> s = SmallV4();
  if (!s.ok()) return s.status();
  absl::StatusOr<std::string> image = SerializeImage({*s});
  if (!image.ok()) return image.status();
  std::string& b = *image;
  const std::string nodelay("\x06\0\0\0\x01\0\0\0\x04\0\0\0\x01\0\0\0", 16);
  const size_t at = b.find(nodelay);
  if (at == std::string::npos || b.find(nodelay, at + 1) != std::string::npos) {
    return absl::InternalError("TCP_NODELAY=1 is not in the image once");
  }
  uint8_t* p = reinterpret_cast<uint8_t*>(b.data());
  fmt::Store32(p + at + 4, 4242);
  const uint32_t header_length = fmt::Load32(p + fmt::kOffHeaderLength);
  uint8_t* entry = p + header_length;  // the one connection's index entry
  fmt::Store64(entry + 16,
               XXH3_64bits(p + fmt::Load64(entry), fmt::Load64(entry + 8)));
  fmt::Store64(p + fmt::kOffChecksum, 0);
  fmt::Store64(p + fmt::kOffChecksum,
               XXH3_64bits(p, header_length + fmt::kIndexEntryLength));
  return image;
}

template <typename... F>
States All(F... make) {
  std::vector<ConnectionState> out;
  for (auto* f : {make...}) {
    absl::StatusOr<ConnectionState> s = f();
    if (!s.ok()) return s.status();
    out.push_back(*std::move(s));
  }
  return out;
}

States ThreeWithUnsent() {
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
  return three;
}

absl::Status Main(const std::string& dir) {
  if (absl::Status st = soccr::loopback::EnterPrivateNetns(); !st.ok()) {
    return st;
  }
  for (const auto& [name, make] :
       std::vector<std::pair<std::string, std::function<States()>>>{
           {"established_v4.soccr", [] { return All(SmallV4); }},
           {"three_connections.soccr", ThreeWithUnsent},
           {"other_states.soccr",
            [] {
              return All(Listener, Unconnected, CloseWait, FinWait1,
                         ClosedByReset);
            }},
       }) {
    if (absl::Status st = Write(dir + "/" + name, make); !st.ok()) return st;
  }
  // Format 1.0 as it stands since issue 11: readers skip the socket
  // options they do not know.
  return WriteBytes(dir + "/unknown_socket_option.soccr",
                    WithUnknownSocketOption);
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
