// soccr::Receive against a sender that speaks the protocol but hands it
// images it must refuse: a connection other than the one its HELO
// announced (and the receiver locked), a state no restore can make, a
// damaged record. Each refusal names the connection, comes back to the
// sender as FAIL with the same code, and leaves nothing behind: the
// connections of the chunk restored before it closed, the lock removed.
// A sender whose images are good gets RSTD (so the refusals are the
// images', not the harness's), and its ABORT rolls the receiver back too.
//
// The receiver parses each record on the thread that restores it, with the
// image reader's restorability check off (Restore() makes it), and the
// sender writes its images without the writer's check: the cases of a
// state no restore can make are the ones that show it is still checked.

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/address.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/image/format.h"
#include "soccr/image/image.h"
#include "soccr/image/raw_image.h"
#include "soccr/migrate/endpoint.h"
#include "soccr/migrate/migrate.h"
#include "soccr/migrate/protocol.h"
#include "soccr/netlock/netlock.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

namespace fmt = image_format;
using ::testing::HasSubstr;

constexpr char kListen[] = "127.0.0.1:7000";

// An idle connection from 127.0.0.1:`port` to 127.0.0.2:2000, as a
// checkpoint would save it (no queues, no options).
ConnectionState Idle(uint16_t port) {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = SocketAddress::Loopback4(port);
  s.peer = SocketAddress::V4(0x7f000002, 2000);
  s.inq_seq = 1000;
  s.outq_seq = 5000;
  s.options.mss_clamp = 1460;
  return s;
}

migrate::Key KeyOf(const ConnectionState& s) { return {s.local, s.peer}; }

struct Outcome {
  absl::Status received;                  // what Receive() returned
  std::optional<migrate::Message> reply;  // its answer to the images
};

// Receives (on a thread) from a sender that announces `keys`, waits for
// REDY, sends `image` as one IMGS of `keys.size()` connections and reads
// the answer; then, if that is RSTD, sends ABORT.
Outcome Move(const std::vector<migrate::Key>& keys, const std::string& image) {
  Outcome out;
  std::thread receiver([&] {
    ReceiveOptions r;
    r.listen = kListen;
    r.accept_timeout = absl::Seconds(30);
    r.timeout = absl::Seconds(30);
    out.received = Receive(r).status();
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  absl::StatusOr<migrate::Endpoint> at = migrate::ParseEndpoint(kListen);
  absl::StatusOr<OwnedFd> c =
      at.ok() ? migrate::Connect(*at, deadline) : at.status();
  EXPECT_TRUE(c.ok()) << c.status();
  if (c.ok()) {
    migrate::Message hello;
    hello.type = migrate::MessageType::kHello;
    hello.flags = migrate::kHelloStreamed;
    hello.count = static_cast<uint32_t>(keys.size());
    hello.session = 0x5eed;
    for (size_t i = 0; i < keys.size(); ++i) {
      hello.fds.push_back(static_cast<uint32_t>(10 + i));
    }
    hello.keys = keys;
    EXPECT_OK(migrate::WriteMessage(c->borrow(), hello, deadline));
    absl::StatusOr<migrate::Message> ready =
        migrate::ReadMessage(c->borrow(), deadline);
    EXPECT_TRUE(ready.ok()) << ready.status();
    if (ready.ok()) {
      EXPECT_EQ(ready->type, migrate::MessageType::kReady);
      migrate::Message images;
      images.type = migrate::MessageType::kImages;
      images.count = hello.count;
      images.image_bytes = image.size();
      EXPECT_OK(migrate::WriteAllBytes(
          c->borrow(), migrate::EncodeMessage(images) + image, deadline));
      absl::StatusOr<migrate::Message> reply =
          migrate::ReadMessage(c->borrow(), deadline);
      EXPECT_TRUE(reply.ok()) << reply.status();
      if (reply.ok()) out.reply = *reply;
      if (reply.ok() && reply->type == migrate::MessageType::kRestored) {
        migrate::Message abort;
        abort.type = migrate::MessageType::kAbort;
        EXPECT_OK(migrate::WriteMessage(c->borrow(), abort, deadline));
      }
    }
  }
  receiver.join();
  return out;
}

std::string Image(const std::vector<ConnectionState>& states) {
  absl::StatusOr<std::string> img = SerializeImage(states);
  EXPECT_TRUE(img.ok()) << img.status();
  return img.ok() ? *img : std::string();
}

// Nothing of the move is left: no lock, and the local addresses of the
// connections free to bind again (a restored socket would hold them).
void ExpectNothingLeft(const std::vector<ConnectionState>& states) {
  absl::StatusOr<std::vector<LockInfo>> locks = NetworkLock::List();
  ASSERT_TRUE(locks.ok()) << locks.status();
  EXPECT_TRUE(locks->empty()) << locks->size() << " locks left";
  for (const ConnectionState& s : states) {
    OwnedFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(probe);
    EXPECT_EQ(::bind(probe.get(), s.local.sockaddr(), s.local.length()), 0)
        << s.local.ToString() << " still bound: " << strerror(errno);
  }
}

void ExpectFailed(const Outcome& out, absl::StatusCode code,
                  absl::string_view text) {
  EXPECT_EQ(out.received.code(), code) << out.received;
  EXPECT_THAT(out.received.message(), HasSubstr(text));
  ASSERT_TRUE(out.reply.has_value());
  EXPECT_EQ(out.reply->type, migrate::MessageType::kFailed);
  EXPECT_EQ(out.reply->code, code);
  EXPECT_THAT(out.reply->text, HasSubstr(text));
}

class HostileSenderTest : public testing::NetnsTest {};

TEST_F(HostileSenderTest, GoodImagesAreRestoredAndAnAbortUndoesThem) {
  const std::vector<ConnectionState> states = {Idle(1000), Idle(1001)};
  const Outcome out = Move({KeyOf(states[0]), KeyOf(states[1])}, Image(states));
  ASSERT_TRUE(out.reply.has_value());
  EXPECT_EQ(out.reply->type, migrate::MessageType::kRestored)
      << out.reply->text;
  EXPECT_EQ(out.reply->count, 2u);
  EXPECT_EQ(out.received.code(), absl::StatusCode::kAborted) << out.received;
  ExpectNothingLeft(states);
}

TEST_F(HostileSenderTest, RefusesAConnectionHeloDidNotAnnounce) {
  const std::vector<ConnectionState> states = {Idle(1000), Idle(1001)};
  // The second key announces another peer port than the image holds.
  migrate::Key other = KeyOf(states[1]);
  other.peer.set_port(2001);
  const Outcome out = Move({KeyOf(states[0]), other}, Image(states));
  ExpectFailed(out, absl::StatusCode::kPermissionDenied,
               "receive: connection 1 is ");
  EXPECT_THAT(out.received.message(), HasSubstr("HELO announced"));
  ExpectNothingLeft(states);
}

TEST_F(HostileSenderTest, RefusesAStateNoRestoreCanMake) {
  const std::vector<ConnectionState> states = {Idle(1000), Idle(1001)};
  // Well formed, not restorable: the second connection claims 5 bytes in
  // a receive queue that holds none (the writer refuses to write that, so
  // the bytes are edited).
  std::string img = Image(states);
  const size_t tcp =
      image_testing::SectionPayload(img, 1, fmt::kTagTcp);  // inq_len at +12
  fmt::Store32(reinterpret_cast<uint8_t*>(&img[tcp + 12]), 5);
  image_testing::FixChecksums(img);
  const Outcome out = Move({KeyOf(states[0]), KeyOf(states[1])}, img);
  ExpectFailed(out, absl::StatusCode::kInvalidArgument,
               "receive: restore connection 1: ");
  EXPECT_THAT(out.received.message(), HasSubstr("inq_len is 5"));
  ExpectNothingLeft(states);
}

// What soccr::Send sends: images written without the writer's restore
// check (ImageWriteOptions::check_restorable off), the destination's
// Restore() being the check. A state that the checked writer would have
// refused is refused there, and the move rolls back.
TEST_F(HostileSenderTest, RefusesAStateTheSenderDidNotCheck) {
  std::vector<ConnectionState> states = {Idle(1000), Idle(1001)};
  states[1].inq_len = 5;  // its receive queue holds no bytes
  EXPECT_EQ(SerializeImage(states).status().code(),
            absl::StatusCode::kInvalidArgument);
  ImageWriteOptions unchecked;
  unchecked.check_restorable = false;
  absl::StatusOr<std::string> img = SerializeImage(states, unchecked);
  ASSERT_TRUE(img.ok()) << img.status();
  const Outcome out = Move({KeyOf(states[0]), KeyOf(states[1])}, *img);
  ExpectFailed(out, absl::StatusCode::kInvalidArgument,
               "receive: restore connection 1: ");
  EXPECT_THAT(out.received.message(), HasSubstr("inq_len is 5"));
  ExpectNothingLeft(states);
}

// The receiver puts linger 0 in place of a connection's own SO_LINGER for
// the move: one of the wrong size must still be refused (the kernel takes
// no shorter struct linger), not replaced.
TEST_F(HostileSenderTest, RefusesALingerOfTheWrongSize) {
  std::vector<ConnectionState> states = {Idle(1000), Idle(1001)};
  const struct linger own = {1, 5};
  states[1].socket_options.push_back(
      {SOL_SOCKET, SO_LINGER,
       std::string(reinterpret_cast<const char*>(&own), sizeof(own))});
  std::vector<image_testing::RawRecord> records =
      image_testing::SplitImage(Image(states));
  ASSERT_EQ(records.size(), 2u);
  bool edited = false;
  for (image_testing::RawSection& section : records[1].sections) {
    if (section.tag != fmt::kTagSockOpts) continue;
    // u32 count (1), then level, name, value_length and the value.
    std::string& p = section.payload;
    ASSERT_EQ(p.size(), 4u + 12u + sizeof(own));
    fmt::Store32(reinterpret_cast<uint8_t*>(&p[12]), 4);
    p.resize(p.size() - 4);
    edited = true;
  }
  ASSERT_TRUE(edited);
  const Outcome out = Move({KeyOf(states[0]), KeyOf(states[1])},
                           image_testing::BuildImage(records));
  ExpectFailed(out, absl::StatusCode::kInvalidArgument,
               "receive: restore connection 1: ");
  EXPECT_THAT(out.received.message(), HasSubstr("has 4 bytes, want 8"));
  ExpectNothingLeft(states);
}

TEST_F(HostileSenderTest, RefusesADamagedRecord) {
  const std::vector<ConnectionState> states = {Idle(1000), Idle(1001)};
  std::string img = Image(states);
  img[image_testing::RecordOffset(img, 1) + 40] ^= 1;  // checksum kept
  const Outcome out = Move({KeyOf(states[0]), KeyOf(states[1])}, img);
  ExpectFailed(out, absl::StatusCode::kDataLoss, "connection 1 of 2");
  EXPECT_THAT(out.received.message(), HasSubstr("checksum mismatch"));
  ExpectNothingLeft(states);
}

}  // namespace
}  // namespace soccr
