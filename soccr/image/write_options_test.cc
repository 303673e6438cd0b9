// ImageWriteOptions::check_restorable: a writer that leaves the restore
// check to its reader. The checked writer refuses states no restore can
// make; the unchecked one writes them into a well-formed image, and the
// reader (its own check on, as by default, or Restore()'s PlanRestore)
// still refuses each of them with PlanRestore's error, so nothing the
// writer skipped is lost on the reading side.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/image/image.h"
#include "soccr/restore_plan.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::testing::HasSubstr;

ConnectionState Good(uint16_t port) {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = SocketAddress::Loopback4(port);
  s.peer = SocketAddress::V4(0x0a000001, 443);
  s.inq_seq = 1000;
  s.outq_seq = 2000;
  s.options.mss_clamp = 1460;
  s.recv_queue = QueueBytes::Copy("received");
  s.inq_len = 8;
  s.window = TcpWindow{990, 1000, 1000, 1000, 1000};
  s.buffers = SocketBuffers{87380, 16384, false, false};
  const int one = 1;
  s.socket_options.push_back(
      {IPPROTO_TCP, TCP_NODELAY,
       std::string(reinterpret_cast<const char*>(&one), sizeof(one))});
  return s;
}

struct Bad {
  const char* what;
  ConnectionState state;
};

// States PlanRestore refuses, each one field away from a good one.
std::vector<Bad> BadStates() {
  std::vector<Bad> bad;
  {
    ConnectionState s = Good(1001);
    s.inq_len = 5;  // the queue holds 8 bytes
    bad.push_back({"inq_len disagrees with the queue", std::move(s)});
  }
  {
    ConnectionState s = Good(1002);
    s.options.window_scaling = true;
    s.options.snd_wscale = 200;
    bad.push_back({"window scale 200", std::move(s)});
  }
  {
    ConnectionState s = Good(1003);
    s.state = static_cast<TcpState>(99);
    bad.push_back({"unknown TCP state", std::move(s)});
  }
  {
    ConnectionState s = Good(1004);
    s.socket_options[0].value = "x";  // TCP_NODELAY takes an int
    bad.push_back({"socket option of the wrong size", std::move(s)});
  }
  {
    ConnectionState s = Good(1005);
    s.unsent_len = 3;  // more than the empty send queue holds
    bad.push_back({"unsent_len beyond the send queue", std::move(s)});
  }
  return bad;
}

ImageWriteOptions Unchecked() {
  ImageWriteOptions o;
  o.check_restorable = false;
  return o;
}

absl::Span<const uint8_t> BytesOf(const std::string& s) {
  return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()),
                             s.size());
}

TEST(ImageWriteOptionsTest, TheStatesAreNotRestorable) {
  ASSERT_OK(PlanRestore(Good(1000)).status());
  for (const Bad& b : BadStates()) {
    EXPECT_FALSE(PlanRestore(b.state).ok()) << b.what;
  }
}

TEST(ImageWriteOptionsTest, RestorableStatesGiveTheSameBytesEitherWay) {
  const std::vector<ConnectionState> states = {Good(1000), Good(1001)};
  ASSERT_OK_AND_ASSIGN(checked, SerializeImage(states));
  ASSERT_OK_AND_ASSIGN(unchecked, SerializeImage(states, Unchecked()));
  EXPECT_EQ(checked, unchecked);
}

TEST(ImageWriteOptionsTest, TheCheckedWriterRefusesAndWritesNothing) {
  for (const Bad& b : BadStates()) {
    const std::vector<ConnectionState> states = {Good(1000), b.state};
    const absl::Status planned = PlanRestore(b.state).status();
    absl::StatusOr<std::string> img = SerializeImage(states);
    EXPECT_EQ(img.status().code(), planned.code()) << b.what;
    EXPECT_THAT(img.status().message(), HasSubstr("connection 1 of 2"));
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    OwnedFd r(p[0]), w(p[1]);
    const absl::Status written = WriteImage(w.borrow(), states);
    EXPECT_EQ(written.code(), planned.code()) << b.what;
    w.reset();
    char c;
    EXPECT_EQ(::read(r.get(), &c, 1), 0) << b.what << ": bytes written";
  }
}

TEST(ImageWriteOptionsTest, TheReaderRefusesWhatTheUncheckedWriterWrote) {
  for (const Bad& b : BadStates()) {
    const std::vector<ConnectionState> states = {Good(1000), b.state};
    const absl::Status planned = PlanRestore(b.state).status();
    ASSERT_OK_AND_ASSIGN(img, SerializeImage(states, Unchecked()));
    // Well formed: opens, and the good state reads back.
    ASSERT_OK_AND_ASSIGN(reader, ImageReader::Open(BytesOf(img), {}));
    ASSERT_EQ(reader.size(), 2u);
    ASSERT_OK_AND_ASSIGN(first, reader.Read(0));
    EXPECT_EQ(first, states[0]);
    // The reader's own check refuses the bad one, as PlanRestore does.
    const absl::StatusOr<ConnectionState> second = reader.Read(1);
    EXPECT_EQ(second.status().code(), planned.code()) << b.what;
    EXPECT_THAT(second.status().message(), HasSubstr(planned.message()))
        << b.what;
    EXPECT_EQ(ParseImage(BytesOf(img)).status().code(), planned.code())
        << b.what;
    // With the reader's check off (a caller that restores what it reads),
    // the state is what the writer was given, and the restore's plan
    // refuses it.
    ImageReadOptions restore_checks;
    restore_checks.check_restorable = false;
    ASSERT_OK_AND_ASSIGN(unchecked,
                         ImageReader::Open(BytesOf(img), {}, restore_checks));
    ASSERT_OK_AND_ASSIGN(back, unchecked.Read(1));
    EXPECT_EQ(back, b.state) << b.what;
    EXPECT_EQ(PlanRestore(back).status().code(), planned.code()) << b.what;
  }
}

}  // namespace
}  // namespace soccr
