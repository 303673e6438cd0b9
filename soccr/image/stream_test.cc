// Images over streams: pipes and socket pairs, back to back, truncated,
// hostile headers, and deadlines.

#include "soccr/image/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/image/image.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/sys/sys.h"
#include "soccr/testing/status_macros.h"
#include "soccr/testing/status_matchers.h"

namespace soccr {
namespace {

using ::soccr::testing::StatusIs;
using ::testing::HasSubstr;

ConnectionState State(uint16_t port, size_t queued) {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = SocketAddress::Loopback4(port);
  s.peer = SocketAddress::V4(0xc0000202, 4242);
  s.inq_seq = 1000;
  s.outq_seq = 2000;
  s.recv_queue = QueueBytes::Copy(std::string(queued, 'r'));
  s.inq_len = static_cast<uint32_t>(queued);
  s.send_queue = QueueBytes::Copy(std::string(queued, 's'));
  s.outq_len = static_cast<uint32_t>(queued);
  return s;
}

struct Pair {
  OwnedFd a, b;
};

Pair SocketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {OwnedFd(fds[0]), OwnedFd(fds[1])};
}

void WriteString(BorrowedFd fd, const std::string& s) {
  ASSERT_EQ(::write(fd.get(), s.data(), s.size()),
            static_cast<ssize_t>(s.size()));
}

TEST(ImageStreamTest, TwoImagesBackToBackThenMoreBytes) {
  Pair p = SocketPair();
  const std::vector<ConnectionState> first = {State(1, 10), State(2, 0)};
  const std::vector<ConnectionState> second = {State(3, 3 << 20)};
  // The second image is larger than the socket buffers: write from a
  // thread while the reader reads.
  std::thread writer([&] {
    EXPECT_OK(WriteImage(p.a.borrow(), first));
    EXPECT_OK(WriteImage(p.a.borrow(), second));
    WriteString(p.a.borrow(), "NEXT");
  });
  ASSERT_OK_AND_ASSIGN(r1, ReadImageStream(p.b.borrow()));
  ASSERT_OK_AND_ASSIGN(got1, r1.ReadAll());
  ASSERT_OK_AND_ASSIGN(r2, ReadImageStream(p.b.borrow()));
  ASSERT_OK_AND_ASSIGN(got2, r2.ReadAll());
  writer.join();
  EXPECT_EQ(got1, first);
  EXPECT_EQ(got2, second);
  char rest[8] = {};
  ASSERT_EQ(::read(p.b.get(), rest, sizeof(rest)), 4);
  EXPECT_EQ(std::string(rest, 4), "NEXT");
}

TEST(ImageStreamTest, Pipe) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  OwnedFd r(fds[0]), w(fds[1]);
  ASSERT_OK(WriteImage(w.borrow(), {State(5, 100)}));
  w.reset();
  ASSERT_OK_AND_ASSIGN(image, ReadImageStream(r.borrow()));
  EXPECT_EQ(image.size(), 1u);
}

// Either end grows a pipe to the image's size, up to 1 MiB, and never
// shrinks one the caller made bigger. The kernel tells (F_GETPIPE_SZ).
TEST(ImageStreamTest, ThePipeGrowsWithTheImage) {
  for (const bool grown_before : {false, true}) {
    SCOPED_TRACE(grown_before ? "grown to 1 MiB before" : "default size");
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    OwnedFd r(fds[0]), w(fds[1]);
    ASSERT_EQ(::fcntl(w.get(), F_GETPIPE_SZ), 64 << 10);
    if (grown_before) {
      ASSERT_EQ(::fcntl(w.get(), F_SETPIPE_SZ, 1 << 20), 1 << 20);
    }
    // About 200 KiB of queues: more than the default pipe holds.
    const std::vector<ConnectionState> states = {State(6, 100 << 10)};
    std::thread writer(
        [&] { EXPECT_OK(WriteImageToStream(w.borrow(), states).status()); });
    ASSERT_OK_AND_ASSIGN(image, ReadImageStream(r.borrow()));
    writer.join();
    ASSERT_OK_AND_ASSIGN(got, image.ReadAll());
    EXPECT_EQ(got, states);
    const int size = ::fcntl(r.get(), F_GETPIPE_SZ);
    if (grown_before) {
      EXPECT_EQ(size, 1 << 20);
    } else {
      // Whole pages, a power of two of them: 256 KiB for ~200 KiB.
      EXPECT_GE(size, 200 << 10);
      EXPECT_LE(size, 256 << 10);
    }
  }
}

TEST(ImageStreamTest, TruncatedStream) {
  ASSERT_OK_AND_ASSIGN(img, SerializeImage({State(1, 1000)}));
  for (size_t cut : {size_t{0}, size_t{10}, size_t{40}, img.size() - 1}) {
    Pair p = SocketPair();
    WriteString(p.a.borrow(), img.substr(0, cut));
    p.a.reset();
    absl::Status s = ReadImageStream(p.b.borrow()).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << cut << ": " << s;
    if (cut >= 40) {
      EXPECT_THAT(s.message(),
                  HasSubstr(absl::StrCat("ended after ", cut - 40, " of ",
                                         img.size() - 40, " bytes")));
    }
  }
}

TEST(ImageStreamTest, HostileHeaders) {
  ASSERT_OK_AND_ASSIGN(img, SerializeImage({State(1, 0)}));
  auto with_length = [&](uint64_t n) {
    std::string h = img.substr(0, 40);
    for (int i = 0; i < 8; ++i) h[24 + i] = static_cast<char>(n >> (8 * i));
    return h;
  };
  {
    // 1 TiB claimed: refused before a byte past the header is read.
    Pair p = SocketPair();
    WriteString(p.a.borrow(), with_length(uint64_t{1} << 40));
    absl::Status s = ReadImageStream(p.b.borrow()).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  }
  {
    // 3 GiB claimed (under the limit), 100 bytes sent: truncated, and only
    // what arrived was ever allocated for.
    Pair p = SocketPair();
    WriteString(p.a.borrow(), with_length(uint64_t{3} << 30));
    WriteString(p.a.borrow(), std::string(100, 'x'));
    p.a.reset();
    absl::Status s = ReadImageStream(p.b.borrow()).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_THAT(s.message(), HasSubstr("ended after 100 of"));
  }
  {
    Pair p = SocketPair();
    WriteString(p.a.borrow(), with_length(12));
    EXPECT_EQ(ReadImageStream(p.b.borrow()).status().code(),
              absl::StatusCode::kDataLoss);
  }
  {
    Pair p = SocketPair();
    WriteString(p.a.borrow(), std::string(64, 'A'));
    absl::Status s = ReadImageStream(p.b.borrow()).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(s.message(), HasSubstr("bad magic"));
  }
  {
    // A well-formed length over corrupted contents: the image checks run.
    std::string bad = img;
    bad[48] ^= 1;  // in the index, under the header's checksum
    Pair p = SocketPair();
    WriteString(p.a.borrow(), bad);
    EXPECT_EQ(ReadImageStream(p.b.borrow()).status().code(),
              absl::StatusCode::kDataLoss);
  }
  {
    StreamReadOptions small;
    small.max_bytes = img.size() - 1;
    Pair p = SocketPair();
    WriteString(p.a.borrow(), img);
    EXPECT_EQ(ReadImageStream(p.b.borrow(), small).status().code(),
              absl::StatusCode::kResourceExhausted);
  }
}

TEST(ImageStreamTest, Deadline) {
  Pair p = SocketPair();
  StreamReadOptions o;
  o.deadline = absl::Now() + absl::Milliseconds(50);
  EXPECT_EQ(ReadImageStream(p.b.borrow(), o).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_OK_AND_ASSIGN(img, SerializeImage({State(1, 0)}));
  WriteString(p.a.borrow(), img.substr(0, 50));
  o.deadline = absl::Now() + absl::Milliseconds(50);
  EXPECT_EQ(ReadImageStream(p.b.borrow(), o).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

// The stream's calls go through the Sys it is given, so a fault reaches
// them: a failed read, poll or write is a clean error naming the call and
// its errno, with the errno's code.
TEST(ImageStreamTest, AFailedReadNamesTheCallAndItsErrno) {
  Pair p = SocketPair();
  ASSERT_OK_AND_ASSIGN(img, SerializeImage({State(1, 10)}));
  WriteString(p.a.borrow(), img);
  sys::FaultInjectingSys sys;
  sys.FailOp(sys::Op::kRead, EIO);
  EXPECT_THAT(ReadImageStream(p.b.borrow(), {}, sys),
              StatusIs(absl::ErrnoToStatusCode(EIO),
                       absl::StrCat("image stream: read: ", ::strerror(EIO))));
}

TEST(ImageStreamTest, AFailedPollNamesTheCallAndItsErrno) {
  Pair p = SocketPair();
  ASSERT_OK_AND_ASSIGN(img, SerializeImage({State(1, 10)}));
  WriteString(p.a.borrow(), img);
  sys::FaultInjectingSys sys;
  sys.FailOp(sys::Op::kPoll, ENOMEM);
  StreamReadOptions o;
  o.deadline = absl::Now() + absl::Seconds(60);  // polls before each read
  EXPECT_THAT(
      ReadImageStream(p.b.borrow(), o, sys),
      StatusIs(absl::StatusCode::kResourceExhausted,
               absl::StrCat("image stream: poll: ", ::strerror(ENOMEM))));
  const std::vector<sys::FaultInjectingSys::Call> calls = sys.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].op, sys::Op::kPoll);
}

TEST(ImageStreamTest, AnInterruptedReadIsRetried) {
  Pair p = SocketPair();
  ASSERT_OK_AND_ASSIGN(img, SerializeImage({State(1, 10)}));
  WriteString(p.a.borrow(), img);
  sys::FaultInjectingSys sys;
  sys.FailCallAt(0, EINTR);
  ASSERT_OK_AND_ASSIGN(image, ReadImageStream(p.b.borrow(), {}, sys));
  ASSERT_OK_AND_ASSIGN(states, image.ReadAll());
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].recv_queue.view(), std::string(10, 'r'));
  const std::vector<sys::FaultInjectingSys::Call> calls = sys.calls();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls[0].op, sys::Op::kRead);
  EXPECT_TRUE(calls[0].failed);
  EXPECT_EQ(calls[1].op, sys::Op::kRead);
}

TEST(ImageStreamTest, AFailedWriteSaysHowFarItGot) {
  Pair p = SocketPair();
  ASSERT_OK_AND_ASSIGN(img, SerializeImage({State(1, 10)}));
  sys::FaultInjectingSys sys;
  sys.FailOp(sys::Op::kWrite, ENOSPC);
  EXPECT_THAT(
      WriteImageToStream(p.a.borrow(), {State(1, 10)}, sys),
      StatusIs(absl::StatusCode::kResourceExhausted,
               absl::StrCat("write image to a stream: write after 0 "
                            "of ",
                            img.size(), " bytes: ", ::strerror(ENOSPC))));
}

}  // namespace
}  // namespace soccr
