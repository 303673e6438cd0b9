// Checkpoint and restore of unix sockets against the real kernel: every
// queue is compared byte for byte and boundary for boundary with what the
// kernel hands a reader, of the original (a checkpoint consumes nothing)
// and of the restored socket.

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/fd.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"
#include "soccr/testing/status_matchers.h"
#include "soccr/unix/checkpoint.h"
#include "soccr/unix/restore.h"

namespace soccr {
namespace {

using ::soccr::testing::StatusIs;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// Like ASSERT_OK_AND_ASSIGN, into an existing variable.
#define ASSIGN_OR_FAIL(lhs, expr)                                \
  do {                                                           \
    auto assign_or_fail = (expr);                                \
    ASSERT_TRUE(assign_or_fail.ok()) << assign_or_fail.status(); \
    lhs = *std::move(assign_or_fail);                            \
  } while (0)

struct Pair {
  OwnedFd a, b;
};

Pair SocketPair(int type) {
  int sv[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0) {
    ADD_FAILURE() << "socketpair: " << strerror(errno);
    return {};
  }
  return {OwnedFd(sv[0]), OwnedFd(sv[1])};
}

void Send(int fd, const std::string& data, int type) {
  size_t sent = 0;
  do {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    ASSERT_GE(n, 0) << "send: " << strerror(errno);
    sent += static_cast<size_t>(n);
  } while (type == SOCK_STREAM && sent < data.size());
}

// Reads everything `fd` has, as a reader would, one recv per message
// (dgram, seqpacket). SO_PASSCRED is turned on for the read so that a
// seqpacket socket's end of file (0, no credentials) is told apart from an
// empty message (0, with credentials).
std::vector<std::string> Drain(int fd, int type) {
  std::vector<std::string> out;
  int one = 1;
  int old = 0;
  socklen_t len = sizeof(old);
  ::getsockopt(fd, SOL_SOCKET, SO_PASSCRED, &old, &len);
  ::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
  std::string stream;
  std::vector<char> buf(1 << 20);
  for (;;) {
    struct iovec iov = {buf.data(), buf.size()};
    alignas(struct cmsghdr) char control[256];
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      EXPECT_EQ(errno, EAGAIN) << strerror(errno);
      break;
    }
    if (n == 0 && (type == SOCK_STREAM || CMSG_FIRSTHDR(&msg) == nullptr)) {
      break;
    }
    EXPECT_EQ(msg.msg_flags & MSG_TRUNC, 0);
    if (type == SOCK_STREAM) {
      stream.append(buf.data(), static_cast<size_t>(n));
    } else {
      out.emplace_back(buf.data(), static_cast<size_t>(n));
    }
  }
  ::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &old, sizeof(old));
  if (type == SOCK_STREAM && !stream.empty()) out.push_back(stream);
  return out;
}

std::vector<std::string> Messages(const UnixSocketState& s) {
  std::vector<std::string> out;
  if (s.type == UnixType::kStream) {
    std::string all;
    for (const UnixMessage& m : s.queue) all += m.data;
    if (!all.empty()) out.push_back(all);
    return out;
  }
  for (const UnixMessage& m : s.queue) out.push_back(m.data);
  return out;
}

int PeekOffset(int fd) {
  int v = -2;
  socklen_t len = sizeof(v);
  EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &v, &len), 0);
  return v;
}

int OpenFdCount() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

std::string Bytes(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 7);
  return s;
}

// Messages of every kind of length: empty ones, tiny ones, one larger than
// a page and one larger than the checkpoint's first peek buffer (64 KiB).
std::vector<std::string> AwkwardMessages(char seed) {
  return {"", "x", Bytes(5000, seed), "", Bytes(70000, seed + 1), "end", ""};
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& m : v) s += m;
  return s;
}

class UnixSocketTest : public soccr::testing::NetnsTest,
                       public ::testing::WithParamInterface<int> {
 protected:
  // sun_path holds 107 bytes: Bazel's TEST_TMPDIR is often longer.
  std::string TempPath(const std::string& name) {
    char dir[] = "/tmp/soccr-unix-XXXXXX";
    EXPECT_NE(::mkdtemp(dir), nullptr) << strerror(errno);
    dirs_.push_back(dir);
    return absl::StrCat(dir, "/", name);
  }
  void TearDown() override {
    for (const std::string& d : dirs_) ::rmdir(d.c_str());
  }
  std::vector<std::string> dirs_;
};

// Both directions queued; the checkpoint sees them, consumes nothing, and
// the restored pair holds the same queues with the same boundaries.
TEST_P(UnixSocketTest, PairWithDataBothWays) {
  const int type = GetParam();
  Pair p = SocketPair(type);
  std::vector<std::string> to_a = AwkwardMessages('a');
  std::vector<std::string> to_b = AwkwardMessages('k');
  to_b.push_back(Bytes(3, 'z'));
  if (type == SOCK_STREAM) {
    // A stream carries no empty messages; its checkpoint holds bytes.
    to_a = {Joined(to_a)};
    to_b = {Joined(to_b)};
  }
  for (const auto& m : to_a) Send(p.b.get(), m, type);
  for (const auto& m : to_b) Send(p.a.get(), m, type);

  ASSERT_OK_AND_ASSIGN(st, CheckpointUnixPair(p.a.borrow(), p.b.borrow()));
  EXPECT_EQ(SockType(st.a.type), type);
  EXPECT_EQ(st.a.state, UnixSocketState::State::kConnected);
  EXPECT_FALSE(st.a.local.named());
  EXPECT_FALSE(st.a.peer.named());
  EXPECT_THAT(Messages(st.a), ElementsAreArray(to_a));
  EXPECT_THAT(Messages(st.b), ElementsAreArray(to_b));
  EXPECT_EQ(PeekOffset(p.a.get()), -1);

  ASSERT_OK_AND_ASSIGN(r, RestoreUnixPair(st));
  // The originals still hold everything.
  EXPECT_THAT(Drain(p.a.get(), type), ElementsAreArray(to_a));
  EXPECT_THAT(Drain(p.b.get(), type), ElementsAreArray(to_b));
  // And so do the restored ends, which are each other's peer.
  ASSERT_OK_AND_ASSIGN(again, CheckpointUnixPair(r.a.borrow(), r.b.borrow()));
  EXPECT_EQ(again.a.type, st.a.type);
  EXPECT_THAT(Drain(r.a.get(), type), ElementsAreArray(to_a));
  EXPECT_THAT(Drain(r.b.get(), type), ElementsAreArray(to_b));
  Send(r.a.get(), "after", type);
  EXPECT_THAT(Drain(r.b.get(), type), ElementsAreArray({"after"}));
}

// A peek offset the application set is recorded, put back on the original
// and re-created on the restored socket; options likewise.
TEST_P(UnixSocketTest, PeekOffsetAndOptions) {
  const int type = GetParam();
  Pair p = SocketPair(type);
  Send(p.b.get(), "hello", type);
  Send(p.b.get(), "world", type);
  const int off = 2;
  ASSERT_EQ(::setsockopt(p.a.get(), SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)),
            0);
  const int one = 1;
  ASSERT_EQ(::setsockopt(p.a.get(), SOL_SOCKET, SO_PASSSEC, &one, sizeof(one)),
            0);
  const int rcvbuf = 50000;
  ASSERT_EQ(
      ::setsockopt(p.a.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)),
      0);
  ASSERT_OK_AND_ASSIGN(st, CheckpointUnixPair(p.a.borrow(), p.b.borrow()));
  EXPECT_EQ(st.a.peek_offset, 2);
  EXPECT_EQ(PeekOffset(p.a.get()), 2);
  EXPECT_TRUE(st.a.pass_security);
  EXPECT_FALSE(st.a.pass_credentials);
  EXPECT_EQ(st.a.receive_buffer, 100000);  // the kernel doubles it
  if (type == SOCK_STREAM) {
    EXPECT_THAT(Messages(st.a), ElementsAreArray({"helloworld"}));
  } else {
    EXPECT_THAT(Messages(st.a), ElementsAreArray({"hello", "world"}));
  }
  ASSERT_OK_AND_ASSIGN(r, RestoreUnixPair(st));
  ASSERT_OK_AND_ASSIGN(ra, CheckpointUnixSocket(r.a.borrow()));
  EXPECT_EQ(ra.peek_offset, 2);
  EXPECT_TRUE(ra.pass_security);
  EXPECT_EQ(ra.receive_buffer, 100000);
  EXPECT_EQ(ra.send_buffer, st.a.send_buffer);
  // The peek offset means the same on both: the reader's next peek starts
  // at byte 2 of the queue.
  char orig[16] = {}, rest[16] = {};
  ASSERT_EQ(::recv(p.a.get(), orig, sizeof(orig), MSG_PEEK | MSG_DONTWAIT),
            ::recv(r.a.get(), rest, sizeof(rest), MSG_PEEK | MSG_DONTWAIT));
  EXPECT_STREQ(orig, rest);
}

// A checkpoint changes nothing a reader receives: the reader still gets
// every message. Kernel fact, checked here: a zero-length message that was
// peeked once (by anyone: the kernel marks it, skb->peeked) is skipped by
// every later peek at an offset (__skb_try_recv_from_queue), so a second
// checkpoint cannot see the empty messages the first one saw. Where one is
// at the head of the queue (a peek without an offset still returns it) the
// checkpoint is refused instead of losing it; a stream has no empty
// messages and checkpoints the same twice.
TEST_P(UnixSocketTest, RepeatedCheckpoint) {
  const int type = GetParam();
  Pair p = SocketPair(type);
  std::vector<std::string> msgs = AwkwardMessages('q');
  if (type == SOCK_STREAM) msgs = {Joined(msgs)};
  for (const auto& m : msgs) Send(p.b.get(), m, type);
  ASSERT_OK_AND_ASSIGN(first, CheckpointUnixSocket(p.a.borrow()));
  EXPECT_THAT(Messages(first), ElementsAreArray(msgs));
  absl::StatusOr<UnixSocketState> second = CheckpointUnixSocket(p.a.borrow());
  if (type == SOCK_STREAM) {
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_THAT(Messages(*second), ElementsAreArray(msgs));
  } else {
    EXPECT_THAT(second, StatusIs(absl::StatusCode::kFailedPrecondition,
                                 HasSubstr("empty message peeked before")));
  }
  EXPECT_EQ(PeekOffset(p.a.get()), -1);
  EXPECT_THAT(Drain(p.a.get(), type), ElementsAreArray(msgs));
}

// The application peeked an empty message at the head itself: refused, not
// lost.
TEST_P(UnixSocketTest, EmptyHeadPeekedByTheApplicationRefused) {
  const int type = GetParam();
  if (type == SOCK_STREAM) GTEST_SKIP() << "a stream has no empty messages";
  Pair p = SocketPair(type);
  Send(p.b.get(), "", type);
  Send(p.b.get(), "after", type);
  char c;
  ASSERT_EQ(::recv(p.a.get(), &c, 1, MSG_PEEK | MSG_DONTWAIT), 0);
  EXPECT_THAT(CheckpointUnixSocket(p.a.borrow()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("head of the receive queue")));
  EXPECT_THAT(Drain(p.a.get(), type), ElementsAreArray({"", "after"}));
}

void SendWithFd(int fd, const std::string& data, int passed) {
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &passed, sizeof(int));
  ASSERT_EQ(::sendmsg(fd, &msg, MSG_DONTWAIT),
            static_cast<ssize_t>(data.size()))
      << strerror(errno);
}

// Descriptors in flight are refused, and the failed checkpoint leaves the
// socket as it was: peek offset, queue (descriptor included), and no
// descriptor left open in the checkpointing process.
TEST_P(UnixSocketTest, DescriptorsInFlightRefused) {
  const int type = GetParam();
  Pair p = SocketPair(type);
  Send(p.b.get(), "one", type);
  Send(p.b.get(), "two", type);
  OwnedFd passed(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  SendWithFd(p.b.get(), "fd!", passed.get());
  Send(p.b.get(), "three", type);
  const int off = 1;
  ASSERT_EQ(::setsockopt(p.a.get(), SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)),
            0);
  const int fds_before = OpenFdCount();
  EXPECT_THAT(
      CheckpointUnixSocket(p.a.borrow()),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("SCM_RIGHTS")));
  EXPECT_EQ(OpenFdCount(), fds_before);
  EXPECT_EQ(PeekOffset(p.a.get()), 1);
  const int off_again = -1;
  ASSERT_EQ(::setsockopt(p.a.get(), SOL_SOCKET, SO_PEEK_OFF, &off_again,
                         sizeof(off_again)),
            0);
  // The descriptor is still there for the reader.
  char buf[64];
  struct iovec iov = {buf, sizeof(buf)};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  int received_fds = 0;
  std::string got;
  for (;;) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n =
        ::recvmsg(p.a.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    for (struct cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr;
         cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_type == SCM_RIGHTS) {
        int fd;
        memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
        ::close(fd);
        ++received_fds;
      }
    }
  }
  EXPECT_EQ(got, "onetwofd!three");
  EXPECT_EQ(received_fds, 1);
}

// Shut down one way: the kernel's sk_shutdown of both ends (sock_diag) is
// recorded and re-created; data queued before the shutdown still arrives.
TEST_P(UnixSocketTest, HalfShutPair) {
  const int type = GetParam();
  Pair p = SocketPair(type);
  std::vector<std::string> to_b = {"before", ""};
  if (type == SOCK_STREAM) to_b = {"before"};
  for (const auto& m : to_b) Send(p.a.get(), m, type);
  Send(p.b.get(), "reply", type);
  ASSERT_EQ(::shutdown(p.a.get(), SHUT_WR), 0);
  ASSERT_OK_AND_ASSIGN(st, CheckpointUnixPair(p.a.borrow(), p.b.borrow()));
  EXPECT_TRUE(st.a.shutdown_send);
  EXPECT_FALSE(st.a.shutdown_receive);
  EXPECT_FALSE(st.b.shutdown_send);
  // For stream and seqpacket the kernel shuts the peer's receive side too;
  // a dgram peer is not told.
  EXPECT_EQ(st.b.shutdown_receive, type != SOCK_DGRAM);
  EXPECT_THAT(Messages(st.b), ElementsAreArray(to_b));
  ASSERT_OK_AND_ASSIGN(r, RestoreUnixPair(st));
  ASSERT_OK_AND_ASSIGN(again, CheckpointUnixPair(r.a.borrow(), r.b.borrow()));
  EXPECT_EQ(again.a.shutdown_send, st.a.shutdown_send);
  EXPECT_EQ(again.a.shutdown_receive, st.a.shutdown_receive);
  EXPECT_EQ(again.b.shutdown_send, st.b.shutdown_send);
  EXPECT_EQ(again.b.shutdown_receive, st.b.shutdown_receive);
  EXPECT_THAT(Drain(r.b.get(), type), ElementsAreArray(to_b));
  EXPECT_THAT(Drain(r.a.get(), type), ElementsAreArray({"reply"}));
  EXPECT_EQ(::send(r.a.get(), "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL), -1);
  EXPECT_EQ(errno, EPIPE);
  if (type != SOCK_DGRAM) {
    char c;
    EXPECT_EQ(::recv(r.b.get(), &c, 1, MSG_DONTWAIT), 0);  // end of file
  }
}

// Restore in another process than the checkpoint.
TEST_P(UnixSocketTest, RestoreInAnotherProcess) {
  const int type = GetParam();
  std::vector<std::string> to_a = AwkwardMessages('f');
  if (type == SOCK_STREAM) to_a = {Joined(to_a)};
  UnixPairState st;
  {
    Pair p = SocketPair(type);
    for (const auto& m : to_a) Send(p.b.get(), m, type);
    Send(p.a.get(), "back", type);
    ASSIGN_OR_FAIL(st, CheckpointUnixPair(p.a.borrow(), p.b.borrow()));
  }  // the originals are gone
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<RestoredUnixPair> r = RestoreUnixPair(st);
    if (!r.ok()) _exit(2);
    if (Drain(r->a.get(), type) != to_a) _exit(3);
    if (Drain(r->b.get(), type) != std::vector<std::string>{"back"}) _exit(4);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// Named ends: a connection accepted on a listener (path or abstract name).
// The restore binds the name again for a moment; the path's file it made is
// removed after.
TEST_P(UnixSocketTest, NamedPairPathAndAbstract) {
  const int type = GetParam();
  if (type == SOCK_DGRAM) GTEST_SKIP() << "dgram: NamedDgramPair";
  for (const bool abstract : {false, true}) {
    SCOPED_TRACE(abstract ? "abstract" : "path");
    const std::string name = abstract ? absl::StrCat("soccr-unix-", getpid())
                                      : TempPath("pair.sock");
    struct sockaddr_un sa = {};
    sa.sun_family = AF_UNIX;
    socklen_t len;
    if (abstract) {
      memcpy(sa.sun_path + 1, name.data(), name.size());
      len = offsetof(struct sockaddr_un, sun_path) + 1 + name.size();
    } else {
      memcpy(sa.sun_path, name.data(), name.size());
      len = offsetof(struct sockaddr_un, sun_path) + name.size() + 1;
    }
    UnixPairState st;
    {
      OwnedFd listener(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
      ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&sa), len),
                0)
          << strerror(errno);
      ASSERT_EQ(::listen(listener.get(), 4), 0);
      ASSERT_OK_AND_ASSIGN(ls, CheckpointUnixSocket(listener.borrow()));
      EXPECT_EQ(ls.state, UnixSocketState::State::kListening);
      EXPECT_EQ(ls.backlog, 4u);
      OwnedFd client(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
      ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&sa), len),
                0);
      // A connection waits in the backlog: the listener is refused.
      EXPECT_THAT(CheckpointUnixSocket(listener.borrow()),
                  StatusIs(absl::StatusCode::kFailedPrecondition,
                           HasSubstr("backlog")));
      OwnedFd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      ASSERT_TRUE(server);
      Send(client.get(), "to server", type);
      Send(server.get(), "to client", type);
      ASSIGN_OR_FAIL(st, CheckpointUnixPair(client.borrow(), server.borrow()));
      EXPECT_EQ(st.b.local.kind, abstract ? UnixAddress::Kind::kAbstract
                                          : UnixAddress::Kind::kPath);
      EXPECT_EQ(st.b.local.name, name);
      EXPECT_EQ(st.a.peer, st.b.local);
      EXPECT_FALSE(st.a.local.named());
      // The listener still holds the name: a restore cannot bind it.
      EXPECT_THAT(RestoreUnixPair(st),
                  StatusIs(absl::StatusCode::kFailedPrecondition,
                           HasSubstr("Address already in use")));
    }
    if (!abstract) {
      ASSERT_EQ(::unlink(name.c_str()), 0);
    }
    ASSERT_OK_AND_ASSIGN(r, RestoreUnixPair(st));
    ASSERT_OK_AND_ASSIGN(again, CheckpointUnixPair(r.a.borrow(), r.b.borrow()));
    EXPECT_EQ(again.b.local, st.b.local);
    EXPECT_EQ(again.a.peer, st.a.peer);
    EXPECT_EQ(again.a.local, st.a.local);
    struct stat ignored;
    EXPECT_NE(::stat(name.c_str(), &ignored), 0) << "left behind: " << name;
    EXPECT_THAT(Drain(r.a.get(), type), ElementsAreArray({"to client"}));
    EXPECT_THAT(Drain(r.b.get(), type), ElementsAreArray({"to server"}));
  }
}

INSTANTIATE_TEST_SUITE_P(Types, UnixSocketTest,
                         ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET,
                                           SOCK_DGRAM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           switch (info.param) {
                             case SOCK_STREAM:
                               return std::string("Stream");
                             case SOCK_SEQPACKET:
                               return std::string("Seqpacket");
                             default:
                               return std::string("Dgram");
                           }
                         });

class UnixSocketSingleTest : public soccr::testing::NetnsTest {};

UnixAddress Abstract(const std::string& name) {
  UnixAddress a;
  a.kind = UnixAddress::Kind::kAbstract;
  a.name = name;
  return a;
}

OwnedFd BoundSocket(int type, const std::string& abstract_name) {
  OwnedFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path + 1, abstract_name.data(), abstract_name.size());
  const socklen_t len =
      offsetof(struct sockaddr_un, sun_path) + 1 + abstract_name.size();
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len), 0)
      << strerror(errno);
  return fd;
}

void ConnectAbstract(int fd, const std::string& name) {
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path + 1, name.data(), name.size());
  const socklen_t len =
      offsetof(struct sockaddr_un, sun_path) + 1 + name.size();
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), len), 0)
      << strerror(errno);
}

// A dgram pair with names on both ends, connected to each other.
TEST_F(UnixSocketSingleTest, NamedDgramPair) {
  UnixPairState st;
  std::vector<std::string> to_a = AwkwardMessages('d');
  {
    OwnedFd a = BoundSocket(SOCK_DGRAM, "dgram-a");
    OwnedFd b = BoundSocket(SOCK_DGRAM, "dgram-b");
    ConnectAbstract(a.get(), "dgram-b");
    ConnectAbstract(b.get(), "dgram-a");
    for (const auto& m : to_a) Send(b.get(), m, SOCK_DGRAM);
    ASSIGN_OR_FAIL(st, CheckpointUnixPair(a.borrow(), b.borrow()));
    EXPECT_EQ(st.a.local, Abstract("dgram-a"));
    EXPECT_EQ(st.a.peer, Abstract("dgram-b"));
  }
  ASSERT_OK_AND_ASSIGN(r, RestoreUnixPair(st));
  ASSERT_OK_AND_ASSIGN(again, CheckpointUnixPair(r.a.borrow(), r.b.borrow()));
  EXPECT_EQ(again.a.local, st.a.local);
  EXPECT_EQ(again.b.local, st.b.local);
  EXPECT_THAT(Drain(r.a.get(), SOCK_DGRAM), ElementsAreArray(to_a));
}

// A client of a server outside: restored only with the caller's
// permission, by connecting again; what was queued for it is handed back.
TEST_F(UnixSocketSingleTest, ClientOfOutsideServerReconnected) {
  for (const int type : {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM}) {
    SCOPED_TRACE(type);
    const std::string name = absl::StrCat("server-", type);
    OwnedFd server = BoundSocket(type, name);
    if (type != SOCK_DGRAM) {
      ASSERT_EQ(::listen(server.get(), 4), 0);
    }
    UnixSocketState st;
    {
      OwnedFd client(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
      ConnectAbstract(client.get(), name);
      if (type != SOCK_DGRAM) {
        OwnedFd conn(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
        ASSERT_TRUE(conn);
        Send(conn.get(), "queued for the client", type);
        Send(conn.get(), Bytes(9000, 'c'), type);
      }
      ASSIGN_OR_FAIL(st, CheckpointUnixSocket(client.borrow()));
    }
    EXPECT_EQ(st.peer, Abstract(name));
    EXPECT_THAT(RestoreUnixReconnect(st, UnixReconnectOptions{}),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("reconnected")));
    UnixReconnectOptions allow;
    allow.allow_reconnect = true;
    ASSERT_OK_AND_ASSIGN(r, RestoreUnixReconnect(st, allow));
    if (type == SOCK_STREAM) {
      ASSERT_EQ(r.unread.size(), 1u);
      EXPECT_EQ(r.unread[0].data,
                absl::StrCat("queued for the client", Bytes(9000, 'c')));
    } else if (type == SOCK_SEQPACKET) {
      ASSERT_EQ(r.unread.size(), 2u);
      EXPECT_EQ(r.unread[0].data, "queued for the client");
      EXPECT_EQ(r.unread[1].data, Bytes(9000, 'c'));
    } else {
      EXPECT_TRUE(r.unread.empty());
    }
    Send(r.fd.get(), "new connection", type);
    if (type == SOCK_DGRAM) {
      EXPECT_THAT(Drain(server.get(), type),
                  ElementsAreArray({"new connection"}));
    } else {
      OwnedFd conn(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
      ASSERT_TRUE(conn);
      EXPECT_THAT(Drain(conn.get(), type),
                  ElementsAreArray({"new connection"}));
    }
    // Or to a place the caller names; nobody listens there.
    allow.address = Abstract("nobody-listens");
    EXPECT_THAT(
        RestoreUnixReconnect(st, allow),
        StatusIs(absl::StatusCode::kUnavailable, HasSubstr("nobody-listens")));
  }
}

// Credentials: recorded when the receiver has SO_PASSCRED, re-sent by the
// restore; another process's cannot be sent by this one (the kernel says
// EPERM), which is refused clearly.
TEST_F(UnixSocketSingleTest, Credentials) {
  Pair p = SocketPair(SOCK_SEQPACKET);
  const int one = 1;
  ASSERT_EQ(::setsockopt(p.a.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)),
            0);
  Send(p.b.get(), "mine", SOCK_SEQPACKET);
  ASSERT_OK_AND_ASSIGN(st, CheckpointUnixPair(p.a.borrow(), p.b.borrow()));
  ASSERT_EQ(st.a.queue.size(), 1u);
  ASSERT_TRUE(st.a.queue[0].credentials.has_value());
  EXPECT_EQ(st.a.queue[0].credentials->pid, getpid());
  EXPECT_EQ(st.a.queue[0].credentials->uid, getuid());
  ASSERT_OK_AND_ASSIGN(r, RestoreUnixPair(st));
  ASSERT_OK_AND_ASSIGN(again, CheckpointUnixPair(r.a.borrow(), r.b.borrow()));
  EXPECT_TRUE(again.a.pass_credentials);
  ASSERT_EQ(again.a.queue.size(), 1u);
  EXPECT_EQ(again.a.queue[0].credentials->pid, getpid());

  // A message from another process (now gone).
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    _exit(::send(p.b.get(), "theirs", 6, MSG_DONTWAIT) == 6 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  ASSERT_OK_AND_ASSIGN(theirs, CheckpointUnixPair(p.a.borrow(), p.b.borrow()));
  ASSERT_EQ(theirs.a.queue.size(), 2u);
  EXPECT_EQ(theirs.a.queue[1].credentials->pid, child);
  EXPECT_THAT(RestoreUnixPair(theirs),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("SCM_CREDENTIALS pid")));
}

// A sender with no pid in the checkpointer's pid namespace: its
// credentials cannot be sent again by any restore, so the checkpoint
// refuses (the kernel reports pid 0 for it, SCM_CREDENTIALS).
TEST_F(UnixSocketSingleTest, SenderOutsideThePidNamespaceRefused) {
  Pair p = SocketPair(SOCK_SEQPACKET);
  const int one = 1;
  ASSERT_EQ(::setsockopt(p.a.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)),
            0);
  Send(p.b.get(), "from outside", SOCK_SEQPACKET);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child's children start a new pid namespace, where this process
    // (the sender) has no number.
    if (::unshare(CLONE_NEWPID) != 0) _exit(10);
    const pid_t inner = ::fork();
    if (inner < 0) _exit(11);
    if (inner == 0) {
      absl::StatusOr<UnixSocketState> st = CheckpointUnixSocket(p.a.borrow());
      if (st.ok()) _exit(12);
      if (st.status().code() != absl::StatusCode::kFailedPrecondition)
        _exit(13);
      if (!absl::StrContains(st.status().message(), "pid 0")) _exit(14);
      // Refused, and left as it was: the message is still there.
      char buf[32];
      if (::recv(p.a.get(), buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) != 12) {
        _exit(15);
      }
      _exit(0);
    }
    int status = 0;
    if (::waitpid(inner, &status, 0) != inner || !WIFEXITED(status)) _exit(16);
    _exit(WEXITSTATUS(status));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // From this pid namespace the same socket checkpoints fine.
  ASSERT_OK_AND_ASSIGN(st, CheckpointUnixSocket(p.a.borrow()));
  ASSERT_EQ(st.queue.size(), 1u);
  EXPECT_EQ(st.queue[0].credentials->pid, getpid());
}

TEST_F(UnixSocketSingleTest, NotAUnixSocket) {
  OwnedFd tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_THAT(CheckpointUnixSocket(tcp.borrow()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a unix socket")));
  Pair p = SocketPair(SOCK_STREAM);
  Pair q = SocketPair(SOCK_STREAM);
  EXPECT_THAT(CheckpointUnixPair(p.a.borrow(), q.b.borrow()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not each other's peer")));
}

}  // namespace
}  // namespace soccr
