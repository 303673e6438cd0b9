// soccr dump / inspect / restore of unix sockets, through the soccr binary:
// a pair held by this process, restored in another (soccr restore's CMD,
// a Python script reading descriptors 3 and 4); a lone client of a server
// reconnected; a refusal.

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/fd.h"
#include "soccr/testing/netns.h"
#include "tools/testing/run_program.h"

namespace soccr {
namespace {

using ::soccr::testing::RunProgram;
using ::soccr::testing::SoccrPath;
using ::testing::HasSubstr;

class UnixCliTest : public soccr::testing::NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    dir_ = soccr::testing::TempDir();
  }
  std::string dir_;
};

// `json` is one JSON object (python3's parser) for which the Python
// expression `check` (over it as `d`) holds.
void ExpectJson(const std::string& json, const std::string& check) {
  absl::StatusOr<soccr::testing::ProgramResult> r =
      RunProgram({"/usr/bin/python3", "-c",
                  "import json, sys\n"
                  "d = json.loads(sys.argv[1])\n"
                  "sys.exit(0 if (" +
                      check + ") else 1)\n",
                  json});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_status, 0) << r->err << "\n" << check << "\n" << json;
}

// Prints the lengths of the messages on fd 3, then those on fd 4.
constexpr char kReadPair[] = R"(
import socket
keep = []  # a socket object closes its descriptor when collected
def drain(fd):
    s = socket.socket(fileno=fd)
    keep.append(s)
    out = []
    while True:
        try:
            out.append(s.recv(1 << 20, socket.MSG_DONTWAIT))
        except BlockingIOError:
            return out
a, b = drain(3), drain(4)
print(",".join(str(len(m)) for m in a) + "|" + ",".join(m.decode("latin1")[:8] for m in b))
print("big-ok" if a[2] == bytes((i * 7) % 251 for i in range(5000)) else "big-bad")
)";

TEST_F(UnixCliTest, PairDumpedInspectedAndRestoredInAnotherProcess) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  OwnedFd a(sv[0]), b(sv[1]);
  std::string big(5000, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>((i * 7) % 251);
  ASSERT_EQ(::send(b.get(), "", 0, 0), 0);
  ASSERT_EQ(::send(b.get(), "hello", 5, 0), 5);
  ASSERT_EQ(::send(b.get(), big.data(), big.size(), 0), 5000);
  ASSERT_EQ(::send(a.get(), "world", 5, 0), 5);
  const std::string image = dir_ + "/pair.soccr";
  absl::StatusOr<soccr::testing::ProgramResult> r = RunProgram(
      {SoccrPath(), "dump", "--pid", absl::StrCat(::getpid()), "--fd",
       absl::StrCat(a.get()), "--fd", absl::StrCat(b.get()), "-o", image});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_status, 0) << r->err;
  EXPECT_THAT(r->out, HasSubstr("unix seqpacket"));
  EXPECT_THAT(r->out, HasSubstr("3 message(s), 5005 bytes"));
  // The original still has its first (empty) message.
  char c;
  EXPECT_EQ(::recv(a.get(), &c, 1, MSG_PEEK | MSG_DONTWAIT), 0);

  r = RunProgram({SoccrPath(), "inspect", image});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_status, 0) << r->err;
  EXPECT_THAT(r->out, HasSubstr("2 unix socket(s)"));
  EXPECT_THAT(r->out, HasSubstr("[2] 5000 bytes"));

  // --json of both, parsed by python3's json module (docs/json-output.md).
  r = RunProgram({SoccrPath(), "inspect", "--json", image});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_status, 0) << r->err;
  ExpectJson(r->out,
             "d['format_version'].startswith('1.') and "
             "d['checksums_verified'] and len(d['sockets']) == 2 and "
             "[s['type'] for s in d['sockets']] == ['seqpacket'] * 2 and "
             "[m['bytes'] for m in d['sockets'][0]['messages']] == "
             "[0, 5, 5000] and d['sockets'][0]['local'] is None and "
             "d['sockets'][1]['messages'][0]['head_hex'] == '776f726c64' and "
             "d['sockets'][0]['state'] == 'connected'");

  a.reset();
  b.reset();
  r = RunProgram({SoccrPath(), "restore", image, "--", "/usr/bin/python3", "-c",
                  kReadPair});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_status, 0) << r->err;
  EXPECT_EQ(r->out, "0,5,5000|world\nbig-ok\n");
}

// Sends "new" on fd 3 and prints the unread messages of fd 4.
constexpr char kReconnected[] = R"(
import os, socket
s = socket.socket(fileno=3)
s.send(b"new")
unread = os.read(4, 1 << 20)
print(os.environ["SOCCR_UNREAD_MESSAGES"], unread)
)";

TEST_F(UnixCliTest, ClientOfAnOutsideServerReconnected) {
  OwnedFd server(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  const char name[] = "cli-server";
  memcpy(sa.sun_path + 1, name, sizeof(name) - 1);
  const socklen_t len = offsetof(struct sockaddr_un, sun_path) + sizeof(name);
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&sa), len), 0);
  ASSERT_EQ(::listen(server.get(), 4), 0);
  OwnedFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&sa), len), 0);
  OwnedFd conn(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_EQ(::send(conn.get(), "queued", 6, 0), 6);
  const std::string image = dir_ + "/client.soccr";
  absl::StatusOr<soccr::testing::ProgramResult> r =
      RunProgram({SoccrPath(), "dump", "--pid", absl::StrCat(::getpid()),
                  "--fd", absl::StrCat(client.get()), "-o", image});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_status, 0) << r->err;
  EXPECT_THAT(r->out, HasSubstr("-> @cli-server"));
  // --json: the same checkpoint again (a stream queue can be peeked any
  // number of times), as one object.
  r = RunProgram({SoccrPath(), "dump", "--json", "--pid",
                  absl::StrCat(::getpid()), "--fd", absl::StrCat(client.get()),
                  "-o", dir_ + "/again.soccr"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_status, 0) << r->err;
  ExpectJson(r->out,
             absl::StrCat(
                 "d['pid'] == ", ::getpid(), " and d['fds'] == [", client.get(),
                 "] and d['original'] == 'untouched' and d['image_bytes'] > 0 "
                 "and len(d['sockets']) == 1 and "
                 "d['sockets'][0]['type'] == 'stream' and "
                 "d['sockets'][0]['peer'] == {'kind': 'abstract', "
                 "'name': 'cli-server', 'text': '@cli-server'} and "
                 "d['sockets'][0]['queued_bytes'] == 6"));
  client.reset();
  conn.reset();

  // Without permission to reconnect: refused, nothing run.
  r = RunProgram({SoccrPath(), "restore", image, "--", "/bin/true"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_status, 1);
  EXPECT_THAT(r->err, HasSubstr("--reconnect"));

  r = RunProgram({SoccrPath(), "restore", "--json", "--reconnect", image, "--",
                  "/usr/bin/python3", "-c", kReconnected});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->exit_status, 0) << r->err;
  EXPECT_EQ(r->out, "1 b'queued'\n");
  // --json: what was restored, on stderr (stdout stays CMD's).
  ExpectJson(r->err,
             "d['fds'] == [3, 4] and d['reconnected'] and "
             "d['unread_messages'] == 1 and d['program'] == '/usr/bin/python3' "
             "and d['sockets'][0]['peer']['text'] == '@cli-server'");
  OwnedFd again(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(again);
  char buf[16] = {};
  EXPECT_EQ(::recv(again.get(), buf, sizeof(buf), 0), 3);
  EXPECT_STREQ(buf, "new");

  // To another server: `--reconnect PATH IMAGE` and `--reconnect=PATH`
  // (and the image's own peer is not what they reach).
  OwnedFd other(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const char other_name[] = "cli-other";
  memcpy(sa.sun_path + 1, other_name, sizeof(other_name) - 1);
  const socklen_t other_len =
      offsetof(struct sockaddr_un, sun_path) + sizeof(other_name);
  ASSERT_EQ(::bind(other.get(), reinterpret_cast<sockaddr*>(&sa), other_len),
            0);
  ASSERT_EQ(::listen(other.get(), 4), 0);
  for (const std::vector<std::string>& flags :
       std::vector<std::vector<std::string>>{{"--reconnect", "@cli-other"},
                                             {"--reconnect=@cli-other"}}) {
    SCOPED_TRACE(flags[0]);
    std::vector<std::string> argv = {SoccrPath(), "restore"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(),
                {image, "--", "/usr/bin/python3", "-c", kReconnected});
    r = RunProgram(argv);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_status, 0) << r->err;
    EXPECT_EQ(r->out, "1 b'queued'\n");
    OwnedFd there(::accept4(other.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(there);
    char got[16] = {};
    EXPECT_EQ(::recv(there.get(), got, sizeof(got), 0), 3);
    EXPECT_STREQ(got, "new");
  }
}

TEST_F(UnixCliTest, DescriptorsInFlightRefused) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  OwnedFd a(sv[0]), b(sv[1]);
  char data = 'x';
  struct iovec iov = {&data, 1};
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
  const int passed = a.get();
  memcpy(CMSG_DATA(cm), &passed, sizeof(int));
  ASSERT_EQ(::sendmsg(b.get(), &msg, 0), 1);
  absl::StatusOr<soccr::testing::ProgramResult> r =
      RunProgram({SoccrPath(), "dump", "--pid", absl::StrCat(::getpid()),
                  "--fd", absl::StrCat(a.get()), "-o", dir_ + "/x.soccr"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_status, 1);
  EXPECT_THAT(r->err, HasSubstr("SCM_RIGHTS"));
}

}  // namespace
}  // namespace soccr
