// Images through descriptors: files (written, then mapped and read in
// place), pipes and sockets (written in pieces), and write errors.

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/image/image.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::testing::HasSubstr;

std::string Bytes(size_t n, uint8_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + seed);
  return s;
}

ConnectionState State(size_t recv, size_t send, uint16_t port) {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = SocketAddress::Loopback4(port);
  s.peer = SocketAddress::V4(0x0a000001, 443);
  s.recv_queue = QueueBytes::Copy(Bytes(recv, 1));
  s.inq_len = static_cast<uint32_t>(recv);
  s.inq_seq = 1000;
  s.send_queue = QueueBytes::Copy(Bytes(send, 2));
  s.outq_len = static_cast<uint32_t>(send);
  s.unsent_len = static_cast<uint32_t>(send / 2);
  s.outq_seq = 2000;
  s.window = TcpWindow{990, 1000, 1000, 1000, 1000};
  return s;
}

std::string TempPath(absl::string_view name) {
  const char* dir = getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

OwnedFd Create(const std::string& path) {
  return OwnedFd(
      ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
}

// Reads everything from `fd` until EOF, slowly if asked, on a thread.
class Drain {
 public:
  Drain(OwnedFd fd, bool slowly)
      : thread_([this, fd = std::move(fd), slowly] {
          char buf[4096];
          for (;;) {
            const ssize_t n =
                ::read(fd.get(), buf, slowly ? 1000 : sizeof(buf));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            got_.append(buf, static_cast<size_t>(n));
          }
        }) {}
  std::string Join() {
    thread_.join();
    return std::move(got_);
  }

 private:
  std::string got_;
  std::thread thread_;
};

TEST(ImageIoTest, WritesAFileAndReadsItInPlace) {
  const std::vector<ConnectionState> states = {State(10, 20, 1),
                                               State(8 << 20, 3 << 20, 2)};
  const std::string path = TempPath("two.soccr");
  {
    OwnedFd fd = Create(path);
    ASSERT_TRUE(fd);
    ASSERT_OK(WriteImage(fd.borrow(), states));
  }
  ASSERT_OK_AND_ASSIGN(expected, SerializeImage(states));
  ConnectionState second;
  {
    ASSERT_OK_AND_ASSIGN(file, MappedFile::Open(path));
    ASSERT_EQ(file.bytes().size(), expected.size());
    EXPECT_TRUE(memcmp(file.bytes().data(), expected.data(), expected.size()) ==
                0);
    ASSERT_OK_AND_ASSIGN(reader, ImageReader::Open(file));
    ASSERT_OK_AND_ASSIGN(s, reader.Read(1));
    // In place: the queues are the mapping's bytes.
    const uint8_t* begin = file.bytes().data();
    const uint8_t* end = begin + file.bytes().size();
    EXPECT_TRUE(s.recv_queue.data() > begin && s.recv_queue.data() < end);
    EXPECT_TRUE(s.send_queue.data() > begin && s.send_queue.data() < end);
    second = std::move(s);
  }
  // The file and reader are gone; the state keeps the mapping alive.
  EXPECT_EQ(second, states[1]);
}

TEST(ImageIoTest, WritesThroughABlockingPipeInPieces) {
  const std::vector<ConnectionState> states = {State(1 << 20, 700000, 1),
                                               State(0, 5, 2)};
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  OwnedFd write_end(p[1]);
  Drain drain(OwnedFd(p[0]), /*slowly=*/true);
  ASSERT_OK(WriteImage(write_end.borrow(), states));
  write_end.reset();
  const std::string got = drain.Join();
  ASSERT_OK_AND_ASSIGN(expected, SerializeImage(states));
  EXPECT_TRUE(got == expected) << got.size() << " vs " << expected.size();
}

TEST(ImageIoTest, WaitsOnANonBlockingPipe) {
  const std::vector<ConnectionState> states = {State(2 << 20, 1 << 20, 1)};
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  OwnedFd write_end(p[1]);
  OwnedFd read_end(p[0]);
  ASSERT_EQ(::fcntl(read_end.get(), F_SETFL, 0), 0);  // the reader blocks
  Drain drain(std::move(read_end), /*slowly=*/true);
  ASSERT_OK(WriteImage(write_end.borrow(), states));
  write_end.reset();
  ASSERT_OK_AND_ASSIGN(expected, SerializeImage(states));
  EXPECT_TRUE(drain.Join() == expected);
}

TEST(ImageIoTest, WritesToASocket) {
  const std::vector<ConnectionState> states = {State(300000, 1, 1)};
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  OwnedFd mine(sv[0]);
  Drain drain(OwnedFd(sv[1]), /*slowly=*/false);
  ASSERT_OK(WriteImage(mine.borrow(), states));
  mine.reset();
  ASSERT_OK_AND_ASSIGN(expected, SerializeImage(states));
  EXPECT_TRUE(drain.Join() == expected);
}

TEST(ImageIoTest, SocketWithoutAPeerIsAnErrorNotASignal) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  OwnedFd mine(sv[0]);
  ::close(sv[1]);
  const absl::Status st = WriteImage(mine.borrow(), {State(10, 10, 1)});
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;  // EPIPE
  EXPECT_THAT(std::string(st.message()), HasSubstr("sendmsg after 0 of"));
}

TEST(ImageIoTest, FullDiskSaysHowFarItGot) {
  OwnedFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(full);
  const absl::Status st = WriteImage(full.borrow(), {State(100, 100, 1)});
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;  // ENOSPC
  EXPECT_THAT(std::string(st.message()),
              HasSubstr(absl::StrCat("write image to fd ", full.get(),
                                     ": writev after 0 of ")));
}

// Every call goes through the Sys it is given: an interrupted sendmsg is
// made again, a failed one is the error, with how far the write got.
TEST(ImageIoTest, WritesThroughTheGivenSys) {
  const std::vector<ConnectionState> states = {State(1000, 2000, 1)};
  ASSERT_OK_AND_ASSIGN(expected, SerializeImage(states));
  sys::FaultInjectingSys sys;
  for (const int err : {EINTR, EIO}) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    OwnedFd mine(sv[0]);
    Drain drain(OwnedFd(sv[1]), /*slowly=*/false);
    sys.Reset();
    sys.FailCallAt(1, err);  // after fstat, the first sendmsg
    const absl::Status st = WriteImage(mine.borrow(), states, sys);
    mine.reset();
    const std::string got = drain.Join();
    const std::vector<sys::FaultInjectingSys::Call> calls = sys.calls();
    ASSERT_GE(calls.size(), 2u);
    EXPECT_EQ(calls[0].op, sys::Op::kFstat);
    EXPECT_EQ(calls[1].op, sys::Op::kSendMsg);
    if (err == EINTR) {
      EXPECT_OK(st);
      EXPECT_TRUE(got == expected);
    } else {
      EXPECT_EQ(st.code(), absl::ErrnoToStatusCode(EIO)) << st;
      EXPECT_THAT(std::string(st.message()),
                  HasSubstr(absl::StrCat(": sendmsg after 0 of ",
                                         expected.size(), " bytes: ")));
      EXPECT_TRUE(got.empty());
    }
  }
}

TEST(ImageIoTest, InvalidStateWritesNothing) {
  ConnectionState bad = State(10, 10, 1);
  bad.unsent_len = 11;
  const std::string path = TempPath("invalid.soccr");
  OwnedFd fd = Create(path);
  const absl::Status st = WriteImage(fd.borrow(), {State(1, 1, 2), bad});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("unsent_len 11 exceeds outq_len 10"));
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_END), 0);
}

TEST(ImageIoTest, MappingEdgeCases) {
  const std::string empty = TempPath("empty.soccr");
  { OwnedFd fd = Create(empty); }
  ASSERT_OK_AND_ASSIGN(file, MappedFile::Open(empty));
  EXPECT_TRUE(file.bytes().empty());
  EXPECT_EQ(ImageReader::Open(file).status().code(),
            absl::StatusCode::kDataLoss);

  EXPECT_EQ(MappedFile::Open(TempPath("missing")).status().code(),
            absl::StatusCode::kNotFound);
  const absl::Status dir = MappedFile::Open("/").status();
  EXPECT_EQ(dir.code(), absl::StatusCode::kInvalidArgument) << dir;
  EXPECT_THAT(std::string(dir.message()), HasSubstr("not a regular file"));
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  OwnedFd r(p[0]), w(p[1]);
  EXPECT_EQ(MappedFile::Map(r.borrow()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace soccr
