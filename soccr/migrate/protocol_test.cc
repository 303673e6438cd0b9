#include "soccr/migrate/protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/fd.h"
#include "soccr/testing/status_macros.h"

namespace soccr::migrate {
namespace {

using ::testing::HasSubstr;

struct Pair {
  OwnedFd a, b;
};
Pair SocketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {OwnedFd(fds[0]), OwnedFd(fds[1])};
}
absl::Time Soon() { return absl::Now() + absl::Seconds(2); }

TEST(ProtocolTest, EveryMessageRoundTrips) {
  Pair p = SocketPair();
  Message hello;
  hello.type = MessageType::kHello;
  hello.count = 2;
  hello.session = 0x0123456789abcdef;
  hello.image_bytes = 4096;
  hello.fds = {5, 9};
  Message failed;
  failed.type = MessageType::kFailed;
  failed.code = absl::StatusCode::kPermissionDenied;
  failed.text = "restore: nope";
  Message done;
  done.type = MessageType::kDone;
  done.count = 2;
  done.times.restore = absl::Milliseconds(3);
  done.times.unlock = absl::Microseconds(250);
  Message restored, go, abort;
  restored.type = MessageType::kRestored;
  restored.count = 2;
  go.type = MessageType::kGo;
  abort.type = MessageType::kAbort;
  for (const Message& m : {hello, failed, done, restored, go, abort}) {
    ASSERT_OK(WriteMessage(p.a.borrow(), m, Soon()));
    ASSERT_OK_AND_ASSIGN(got, ReadMessage(p.b.borrow(), Soon()));
    EXPECT_EQ(got.type, m.type);
    EXPECT_EQ(EncodeMessage(got), EncodeMessage(m));
  }
}

TEST(ProtocolTest, RefusesBadHeadersBeforeReadingPayloads) {
  const uint8_t unknown[8] = {'N', 'O', 'P', 'E', 0, 0, 0, 0};
  EXPECT_THAT(DecodeHeader(unknown).status().message(),
              HasSubstr("unknown message type"));
  // A HELO claiming 4 GiB is refused from its header alone.
  const uint8_t huge[8] = {'H', 'E', 'L', 'O', 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(DecodeHeader(huge).status().code(), absl::StatusCode::kDataLoss);
  const uint8_t go_with_payload[8] = {'G', 'O', 'G', 'O', 1, 0, 0, 0};
  EXPECT_EQ(DecodeHeader(go_with_payload).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ProtocolTest, BadPayloads) {
  Message hello;
  hello.type = MessageType::kHello;
  hello.count = 1;
  hello.fds = {3};
  std::string bytes = EncodeMessage(hello);
  bytes[8] = 2;  // version 2
  EXPECT_EQ(
      DecodePayload(MessageType::kHello,
                    absl::MakeConstSpan(
                        reinterpret_cast<const uint8_t*>(bytes.data()) + 8,
                        bytes.size() - 8))
          .status()
          .code(),
      absl::StatusCode::kUnimplemented);
  bytes[8] = 1;
  bytes[12] = 2;  // count 2 with one descriptor
  EXPECT_EQ(
      DecodePayload(MessageType::kHello,
                    absl::MakeConstSpan(
                        reinterpret_cast<const uint8_t*>(bytes.data()) + 8,
                        bytes.size() - 8))
          .status()
          .code(),
      absl::StatusCode::kDataLoss);
  const uint8_t fail0[4] = {0, 0, 0, 0};
  EXPECT_EQ(DecodePayload(MessageType::kFailed, fail0).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ProtocolTest, TheOtherSideGoing) {
  {
    Pair p = SocketPair();
    p.a.reset();
    EXPECT_EQ(ReadMessage(p.b.borrow(), Soon()).status().code(),
              absl::StatusCode::kUnavailable);
    Message go;
    go.type = MessageType::kGo;
    EXPECT_EQ(WriteMessage(p.b.borrow(), go, Soon()).code(),
              absl::StatusCode::kUnavailable);
  }
  {
    Pair p = SocketPair();
    ASSERT_EQ(::write(p.a.get(), "RSTD\x04\x00\x00\x00\x01", 9), 9);
    p.a.reset();
    EXPECT_EQ(ReadMessage(p.b.borrow(), Soon()).status().code(),
              absl::StatusCode::kDataLoss);
  }
  {
    Pair p = SocketPair();
    EXPECT_EQ(ReadMessage(p.b.borrow(), absl::Now() + absl::Milliseconds(30))
                  .status()
                  .code(),
              absl::StatusCode::kDeadlineExceeded);
  }
}

}  // namespace
}  // namespace soccr::migrate
