#include "soccr/migrate/protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/address.h"
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
  Message streamed = hello;
  streamed.flags = kHelloStreamed;
  streamed.image_bytes = 0;
  const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                          0,    0,    0,    0,    0, 0, 0, 1};
  const uint8_t mapped[16] = {0, 0, 0,    0,    0,   0, 0, 0,
                              0, 0, 0xff, 0xff, 192, 0, 2, 100};
  streamed.keys = {
      {SocketAddress::V4(0xc0000264, 8000),
       SocketAddress::V4(0xc000020a, 4242)},
      {SocketAddress::V6(mapped, 8000), SocketAddress::V6(v6, 1, 0, 3)}};
  Message ready, images;
  ready.type = MessageType::kReady;
  ready.count = 2;
  images.type = MessageType::kImages;
  images.count = 2;
  images.image_bytes = 1234;
  for (const Message& m :
       {hello, failed, done, restored, go, abort, streamed, ready, images}) {
    ASSERT_OK(WriteMessage(p.a.borrow(), m, Soon()));
    ASSERT_OK_AND_ASSIGN(got, ReadMessage(p.b.borrow(), Soon()));
    EXPECT_EQ(got.type, m.type);
    EXPECT_EQ(EncodeMessage(got), EncodeMessage(m));
    ASSERT_EQ(got.keys.size(), m.keys.size());
    for (size_t i = 0; i < m.keys.size(); ++i) {
      EXPECT_EQ(got.keys[i].local, m.keys[i].local);
      EXPECT_EQ(got.keys[i].peer, m.keys[i].peer);
    }
  }
}

// The keys of a streamed HELO have one form: anything else is refused.
TEST(ProtocolTest, BadKeys) {
  Message hello;
  hello.type = MessageType::kHello;
  hello.flags = kHelloStreamed;
  hello.count = 1;
  hello.fds = {3};
  hello.keys = {{SocketAddress::V4(0xc0000264, 8000),
                 SocketAddress::V4(0xc000020a, 4242)}};
  const std::string good = EncodeMessage(hello);
  auto decode = [](const std::string& bytes) {
    return DecodePayload(MessageType::kHello,
                         absl::MakeConstSpan(
                             reinterpret_cast<const uint8_t*>(bytes.data()) + 8,
                             bytes.size() - 8))
        .status();
  };
  ASSERT_OK(decode(good));
  const size_t key = 8 + 24 + 4;
  for (size_t at : {key + 0, key + 2, key + 8, key + 12, key + 20, key + 47}) {
    std::string bad = good;
    bad[at] ^= 0x40;
    EXPECT_EQ(decode(bad).code(), absl::StatusCode::kDataLoss) << at;
  }
  std::string port0 = good;
  port0[key + 4] = port0[key + 5] = 0;
  EXPECT_THAT(decode(port0).message(), HasSubstr("port 0"));
  std::string with_length = good;
  with_length[8 + 16] = 1;  // image_bytes with keys
  EXPECT_EQ(decode(with_length).code(), absl::StatusCode::kDataLoss);
  std::string flags = good;
  flags[8 + 2] = 3;
  EXPECT_THAT(decode(flags).message(), HasSubstr("unknown flags"));
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
