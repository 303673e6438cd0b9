// Drives the real binary: `soccr dump` takes a connection this test holds,
// `soccr restore` hands it to a program (testing/fd3_peer) as fd 3, and the
// peer, here, checks that nothing was lost, duplicated or noticed.

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/image/image.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/testing/checkpoint_util.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"
#include "tools/image_file.h"
#include "tools/testing/run_program.h"

namespace soccr::tools {
namespace {

using loopback::Pattern;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ProgramResult;
using testing::RunProgram;
using testing::SoccrPath;

constexpr size_t kDown = 1000;      // server -> client, left unread
constexpr size_t kUp = 8 << 20;     // client -> server, mostly stuck
constexpr size_t kMoreDown = 5000;  // sent after the move

// One line on stderr, ending in a newline: the CLI's error convention.
MATCHER(IsOneLine, "") {
  return !arg.empty() && arg.back() == '\n' && arg.find('\n') == arg.size() - 1;
}

class DumpRestoreTest : public testing::NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    dir_ = testing::TempDir();
    // A bounded receive buffer on the server: most of the client's stream
    // stays in the client's send queue, some of it never sent. (Not much
    // smaller: a restored connection whose peer's largest window is under
    // twice the MSS crawls at the persist timer's pace.)
    ASSERT_OK_AND_ASSIGN(
        pair, loopback::ConnectedPair(loopback::Family::kV4, 0, 256 << 10));
    pair_ = std::move(pair);
    ASSERT_OK(loopback::WriteAll(server(), Pattern(kDown, 1)));
    ASSERT_OK(loopback::WaitInq(client(), kDown));
    ASSERT_OK_AND_ASSIGN(written,
                         loopback::WriteSome(client(), Pattern(kUp, 2)));
    up_written_ = written;
    ASSERT_LT(up_written_, kUp);
    ASSERT_OK(loopback::WaitNothingInFlight(client()));
    server_inq_ = loopback::InqLen(server());
  }

  BorrowedFd client() const { return pair_.client.borrow(); }
  BorrowedFd server() const { return pair_.server.borrow(); }
  uint16_t ServerPort() const {
    struct sockaddr_storage ss = {};
    socklen_t len = sizeof(ss);
    ::getsockname(pair_.server.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    return SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len)
        ->port();
  }

  absl::StatusOr<ProgramResult> Dump(std::vector<std::string> extra,
                                     int fd = -1) {
    std::vector<std::string> argv = {
        SoccrPath(), "dump",
        "--pid",     absl::StrCat(::getpid()),
        "--fd",      absl::StrCat(fd >= 0 ? fd : pair_.client.get()),
        "-o",        image()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunProgram(argv);
  }

  std::string image() const { return dir_ + "/conn.soccr"; }

  absl::StatusOr<ConnectionState> ReadImage() {
    absl::StatusOr<ImageFile> file = ImageFile::Read(image());
    if (!file.ok()) return file.status();
    absl::StatusOr<ImageReader> reader =
        ImageReader::Open(file->bytes(), file->owner());
    if (!reader.ok()) return reader.status();
    if (reader->size() != 1) return absl::InternalError("not 1 connection");
    return reader->Read(0);
  }

  // The peer saw nothing: still ESTABLISHED (no FIN, no reset) and no new
  // data since SetUp.
  void ExpectPeerNoticedNothing() {
    EXPECT_EQ(loopback::TcpStateNumber(server()),
              static_cast<int>(TcpState::kEstablished));
    EXPECT_EQ(loopback::InqLen(server()), server_inq_);
  }

  // Restores the image with `soccr restore` running fd3_peer, which
  // signals once it holds the live connection, writes the rest of the
  // client's stream, and reads the server's (the unread kDown bytes, then
  // kMoreDown). This side, the peer, stays quiet until the signal (a
  // packet to the closed original would be answered with a reset), then
  // reads the client's whole stream and sends kMoreDown.
  // With `flags` given to `soccr restore` before the image; its stderr
  // goes to *err.
  void RestoreAndContinue(std::vector<std::string> flags = {},
                          std::string* err = nullptr) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    OwnedFd ready_read(ready[0]);
    ASSERT_EQ(::fcntl(ready[0], F_SETFD, FD_CLOEXEC), 0);
    std::vector<std::string> argv = {SoccrPath(), "restore"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const std::vector<std::string> rest = {
        image(),
        "--",
        testing::Runfile("tools/testing/fd3_peer"),
        absl::StrCat(ready[1]),
        absl::StrCat(ServerPort()),
        absl::StrCat(kDown + kMoreDown),
        "1",
        "0",
        absl::StrCat(kUp - up_written_),
        "2",
        absl::StrCat(up_written_)};
    argv.insert(argv.end(), rest.begin(), rest.end());
    absl::StatusOr<testing::RunningProgram> running =
        testing::StartProgram(argv);
    ::close(ready[1]);
    ASSERT_TRUE(running.ok()) << running.status();
    char c = 0;
    const bool live = ::read(ready[0], &c, 1) == 1;
    if (live) {
      absl::StatusOr<std::string> up = loopback::ReadExactly(server(), kUp);
      EXPECT_TRUE(up.ok()) << up.status();
      if (up.ok()) {
        EXPECT_TRUE(*up == Pattern(kUp, 2)) << "the client's stream differs";
        EXPECT_OK(loopback::WriteAll(server(), Pattern(kMoreDown, 1, kDown)));
      }
    }
    ASSERT_OK_AND_ASSIGN(result, running->Wait());
    EXPECT_TRUE(live) << "fd3_peer never got the connection";
    EXPECT_EQ(result.exit_status, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr("all as expected"));
    EXPECT_OK(loopback::ExpectEof(server()));
    if (err != nullptr) *err = result.err;
  }

  // `json` is one JSON object with the fields `specs` name, as python3's
  // json module parses it (tools/testing/check_json.py).
  void ExpectJson(const std::string& json,
                  const std::vector<std::string>& specs) {
    const std::string path = dir_ + "/report.json";
    FILE* f = ::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(::fwrite(json.data(), 1, json.size(), f), json.size());
    ASSERT_EQ(::fclose(f), 0);
    std::vector<std::string> argv = {
        "/usr/bin/python3", testing::Runfile("tools/testing/check_json.py"),
        path};
    argv.insert(argv.end(), specs.begin(), specs.end());
    ASSERT_OK_AND_ASSIGN(r, RunProgram(argv));
    EXPECT_EQ(r.exit_status, 0) << r.err;
  }

  std::string dir_;
  loopback::TcpPair pair_;
  size_t up_written_ = 0;
  int server_inq_ = 0;
};

TEST_F(DumpRestoreTest, DefaultResumesTheOriginalAndTheImageRestores) {
  ASSERT_OK_AND_ASSIGN(r, Dump({}));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("dumped fd ", pair_.client.get(),
                                            " of process ", ::getpid(),
                                            ": ESTABLISHED 127.0.0.1:")));
  EXPECT_THAT(r.out, HasSubstr("original  resumed"));

  // The image holds exactly what the queues held.
  ASSERT_OK_AND_ASSIGN(state, ReadImage());
  EXPECT_EQ(state.state, TcpState::kEstablished);
  EXPECT_EQ(state.inq_len, kDown);
  EXPECT_TRUE(state.recv_queue.view() == Pattern(kDown, 1));
  ASSERT_GT(state.outq_len, 0u);
  EXPECT_GT(state.unsent_len, 0u);
  EXPECT_TRUE(
      state.send_queue.view() ==
      Pattern(kUp, 2).substr(up_written_ - state.outq_len, state.outq_len));
  EXPECT_EQ(state.peer.port(), ServerPort());

  // The original carries on as if nothing happened, both ways.
  ASSERT_OK_AND_ASSIGN(down, loopback::ReadExactly(client(), kDown));
  EXPECT_TRUE(down == Pattern(kDown, 1));
  ASSERT_OK_AND_ASSIGN(up, loopback::ReadExactly(server(), up_written_));
  EXPECT_TRUE(up == Pattern(up_written_, 2));
  ASSERT_OK(loopback::WriteAll(server(), "and back"));
  ASSERT_OK_AND_ASSIGN(back, loopback::ReadExactly(client(), 8));
  EXPECT_EQ(back, "and back");

  // And the image restores to the same state (in a namespace of its own:
  // the original still holds its addresses here).
  ASSERT_OK(loopback::EnterPrivateNetns());
  ASSERT_OK_AND_ASSIGN(restored, Restore(state));
  ASSERT_OK_AND_ASSIGN(again, Checkpoint(restored.paused()));
  testing::ExpectSameState(state, again);
}

TEST_F(DumpRestoreTest, CloseThenRestoreMovesTheConnection) {
  ASSERT_OK_AND_ASSIGN(r, Dump({"--close"}));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("original  closed silently"));

  // The owner's descriptor is still open, on a closed socket.
  char c;
  EXPECT_EQ(::recv(client().get(), &c, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, ECONNABORTED);
  EXPECT_EQ(loopback::TcpStateNumber(client()),
            static_cast<int>(TcpState::kClose));
  ExpectPeerNoticedNothing();

  // Its addresses are free: the restore takes them in this namespace.
  RestoreAndContinue();
}

// --json on both: one object each, with the documented fields
// (docs/json-output.md), parsed by python3.
TEST_F(DumpRestoreTest, JsonReportsWhatWasDumpedAndRestored) {
  ASSERT_OK_AND_ASSIGN(r, Dump({"--close", "--json"}));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string port = absl::StrCat(ServerPort());
  ExpectJson(
      r.out,
      {absl::StrCat("pid=", ::getpid()),
       absl::StrCat("fd=", pair_.client.get()), "image=" + image(),
       "image_bytes~[1-9][0-9]*", "repair=true", "original=closed",
       "checkpoint_us~[0-9]+", "write_us~[0-9]+", "paused_us~[0-9]+",
       "connection.state=ESTABLISHED", "connection.local.address=127.0.0.1",
       "connection.peer.port=" + port,
       absl::StrCat("connection.inq_len=", kDown),
       "connection.outq_len~[1-9][0-9]*"});
  ExpectPeerNoticedNothing();

  std::string err;
  RestoreAndContinue({"--json"}, &err);
  ExpectJson(
      err, {"image=" + image(), "index=0", "fd=3",
            "program~.*/tools/testing/fd3_peer", "connection.state=ESTABLISHED",
            "connection.peer.port=" + port,
            absl::StrCat("connection.inq_len=", kDown)});
}

TEST_F(DumpRestoreTest, LeavePausedThenCloseThenRestore) {
  ASSERT_OK_AND_ASSIGN(r, Dump({"--leave-paused"}));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("original  left in repair mode"));
  // In repair mode: reads are refused, nothing moves.
  char c;
  EXPECT_EQ(::recv(client().get(), &c, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EPERM);
  ExpectPeerNoticedNothing();
  // The owner closes it: silently.
  pair_.client.reset();
  ExpectPeerNoticedNothing();
  RestoreAndContinue();
}

TEST_F(DumpRestoreTest, FailedDumpLeavesTheOriginalUsable) {
  // The checkpoint succeeds, writing the image fails: the connection must
  // be resumed all the same.
  ASSERT_OK_AND_ASSIGN(
      r, RunProgram({SoccrPath(), "dump", "--pid", absl::StrCat(::getpid()),
                     "--fd", absl::StrCat(pair_.client.get()), "-o",
                     dir_ + "/no/such/dir/x.soccr", "--close"}));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_THAT(r.err, IsOneLine());
  EXPECT_THAT(r.err, HasSubstr("soccr dump: write image " + dir_ +
                               "/no/such/dir/x.soccr: mkostemp("));
  EXPECT_THAT(r.err, HasSubstr("No such file or directory"));
  ASSERT_OK_AND_ASSIGN(down, loopback::ReadExactly(client(), kDown));
  EXPECT_TRUE(down == Pattern(kDown, 1));
  ASSERT_OK_AND_ASSIGN(up, loopback::ReadExactly(server(), up_written_));
  EXPECT_TRUE(up == Pattern(up_written_, 2));
}

TEST_F(DumpRestoreTest, RefusesWhatIsNotATcpSocket) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  OwnedFd read_end(p[0]), write_end(p[1]);
  ASSERT_OK_AND_ASSIGN(r, Dump({}, p[0]));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_THAT(r.err, IsOneLine());
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("soccr dump: fd ", p[0],
                                            " of process ", ::getpid(),
                                            " is not a TCP socket: it is a "
                                            "pipe")));
  OwnedFd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_OK_AND_ASSIGN(r2, Dump({}, udp.get()));
  EXPECT_EQ(r2.exit_status, 1);
  EXPECT_THAT(r2.err, HasSubstr("is not a TCP socket: it is a UDP socket"));
  ASSERT_OK_AND_ASSIGN(r3, Dump({}, 1000));
  EXPECT_EQ(r3.exit_status, 1);
  EXPECT_THAT(r3.err, HasSubstr("take fd 1000 of process"));
  EXPECT_THAT(r3.err, HasSubstr("pidfd_getfd: Bad file descriptor (the "
                                "process has no such descriptor)"));
  // No image was written by any of them.
  EXPECT_EQ(::access(image().c_str(), F_OK), -1);
}

TEST_F(DumpRestoreTest, RefusesWithoutPtraceAccess) {
  // soccr in a user namespace of its own has no ptrace access to this
  // process, which lives in the parent namespace.
  ASSERT_OK_AND_ASSIGN(
      r, RunProgram({SoccrPath(), "dump", "--pid", absl::StrCat(::getpid()),
                     "--fd", absl::StrCat(pair_.client.get()), "-o", image()},
                    [] { return ::unshare(CLONE_NEWUSER) == 0; }));
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_THAT(r.err, IsOneLine());
  EXPECT_THAT(r.err, HasSubstr("pidfd_getfd: Operation not permitted (it "
                               "needs ptrace access to the process"));
  // And the connection was never touched.
  ASSERT_OK_AND_ASSIGN(down, loopback::ReadExactly(client(), kDown));
  EXPECT_TRUE(down == Pattern(kDown, 1));
}

TEST_F(DumpRestoreTest, RefusesAProcessThatIsGone) {
  const pid_t child = ::fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  ASSERT_OK_AND_ASSIGN(
      r, RunProgram({SoccrPath(), "dump", "--pid", absl::StrCat(child), "--fd",
                     "0", "-o", image()}));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_THAT(r.err, HasSubstr("pidfd_open: No such process"));
}

TEST_F(DumpRestoreTest, ListenerIsSavedAndCloseStopsIt) {
  OwnedFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const SocketAddress addr = SocketAddress::Loopback4(0);
  ASSERT_EQ(::bind(listener.get(), addr.sockaddr(), addr.length()), 0);
  ASSERT_EQ(::listen(listener.get(), 3), 0);
  ASSERT_OK_AND_ASSIGN(r, Dump({}, listener.get()));
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("original  a listener: never in repair mode, "
                               "carries on\n"));
  ASSERT_OK_AND_ASSIGN(state, ReadImage());
  EXPECT_EQ(state.state, TcpState::kListen);
  EXPECT_EQ(state.listen_backlog, 3u);

  ASSERT_OK_AND_ASSIGN(r2, Dump({"--close"}, listener.get()));
  ASSERT_EQ(r2.exit_status, 0) << r2.err;
  EXPECT_THAT(r2.out, HasSubstr("(but stopped listening, --close)"));
  EXPECT_EQ(::accept(listener.get(), nullptr, nullptr), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(DumpRestoreTest, UsageErrors) {
  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{
           {"dump", "--fd", "3", "-o", "x"},
           {"dump", "--pid", "abc", "--fd", "3", "-o", "x"},
           {"dump", "--pid", "1", "--fd", "3", "-o", "x", "--close",
            "--leave-paused"},
           {"dump", "--pid", "1", "--fd", "3", "-o", "x", "extra"},
           {"restore", "x.soccr"},
           {"restore", "--index", "-1", "x.soccr", "--", "true"},
       }) {
    std::vector<std::string> full = {SoccrPath()};
    full.insert(full.end(), argv.begin(), argv.end());
    ASSERT_OK_AND_ASSIGN(r, RunProgram(full));
    EXPECT_EQ(r.exit_status, 2) << argv[1] << ": " << r.err;
    EXPECT_THAT(r.err, IsOneLine());
  }
}

TEST_F(DumpRestoreTest, RestoreErrors) {
  ASSERT_OK_AND_ASSIGN(r, Dump({"--close"}));
  ASSERT_EQ(r.exit_status, 0) << r.err;

  // A command that does not exist: nothing is restored (127).
  ASSERT_OK_AND_ASSIGN(r1, RunProgram({SoccrPath(), "restore", image(), "--",
                                       "/no/such/program"}));
  EXPECT_EQ(r1.exit_status, 127);
  EXPECT_THAT(r1.err, HasSubstr("soccr restore: /no/such/program: No such "
                                "file or directory"));
  ASSERT_OK_AND_ASSIGN(r2, RunProgram({SoccrPath(), "restore", image(), "--",
                                       "no-such-program-in-path"}));
  EXPECT_EQ(r2.exit_status, 127);
  EXPECT_THAT(r2.err, HasSubstr("command not found in PATH"));
  // Not executable (126).
  ASSERT_OK_AND_ASSIGN(
      r3, RunProgram({SoccrPath(), "restore", image(), "--", image()}));
  EXPECT_EQ(r3.exit_status, 126);
  ExpectPeerNoticedNothing();

  // An index past the end.
  ASSERT_OK_AND_ASSIGN(r4, RunProgram({SoccrPath(), "restore", "--index", "5",
                                       image(), "--", "/bin/true"}));
  EXPECT_EQ(r4.exit_status, 1);
  EXPECT_THAT(r4.err, IsOneLine());
  EXPECT_THAT(r4.err, HasSubstr("connection 5 does not exist: the image "
                                "holds 1"));

  // A damaged image: the parser's error.
  const std::string damaged = dir_ + "/damaged.soccr";
  ASSERT_OK_AND_ASSIGN(file, ImageFile::Read(image()));
  std::string bytes(reinterpret_cast<const char*>(file.bytes().data()),
                    file.bytes().size());
  bytes[bytes.size() - 1] ^= 1;  // the last queue byte
  {
    OwnedFd out(::open(damaged.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_EQ(::write(out.get(), bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }
  ASSERT_OK_AND_ASSIGN(
      r5, RunProgram({SoccrPath(), "restore", damaged, "--", "/bin/true"}));
  EXPECT_EQ(r5.exit_status, 1);
  EXPECT_THAT(r5.err, IsOneLine());
  EXPECT_THAT(r5.err, HasSubstr("checksum mismatch"));
  ExpectPeerNoticedNothing();

  // After all that, the image still restores and the connection goes on.
  RestoreAndContinue();
}

}  // namespace
}  // namespace soccr::tools
