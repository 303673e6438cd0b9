// Unix socket records in images: round trips of real checkpoints, the
// golden image, what a 1.0 reader says, and malformed records.

#include "soccr/unix/image.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/image/format.h"
#include "soccr/image/image.h"
#include "soccr/image/raw_image.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"
#include "soccr/testing/status_matchers.h"
#include "soccr/unix/checkpoint.h"
#include "soccr/unix/restore.h"

namespace soccr {
namespace {

namespace fmt = image_format;
using ::soccr::testing::StatusIs;
using ::testing::HasSubstr;

absl::Span<const uint8_t> Span(const std::string& s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()),
                                   s.size());
}

void ExpectSame(const UnixSocketState& x, const UnixSocketState& y) {
  EXPECT_EQ(x.type, y.type);
  EXPECT_EQ(x.state, y.state);
  EXPECT_EQ(x.local, y.local);
  EXPECT_EQ(x.peer, y.peer);
  EXPECT_EQ(x.inode, y.inode);
  EXPECT_EQ(x.peer_inode, y.peer_inode);
  EXPECT_EQ(x.shutdown_receive, y.shutdown_receive);
  EXPECT_EQ(x.shutdown_send, y.shutdown_send);
  EXPECT_EQ(x.pass_credentials, y.pass_credentials);
  EXPECT_EQ(x.pass_security, y.pass_security);
  EXPECT_EQ(x.send_buffer, y.send_buffer);
  EXPECT_EQ(x.receive_buffer, y.receive_buffer);
  EXPECT_EQ(x.peek_offset, y.peek_offset);
  EXPECT_EQ(x.backlog, y.backlog);
  ASSERT_EQ(x.queue.size(), y.queue.size());
  for (size_t i = 0; i < x.queue.size(); ++i) {
    EXPECT_EQ(x.queue[i].data, y.queue[i].data) << i;
    EXPECT_EQ(x.queue[i].credentials.has_value(),
              y.queue[i].credentials.has_value());
    if (x.queue[i].credentials && y.queue[i].credentials) {
      EXPECT_TRUE(*x.queue[i].credentials == *y.queue[i].credentials);
    }
  }
}

class UnixImageTest : public soccr::testing::NetnsTest {};

// A real pair, through an image and back, restored from the image.
TEST_F(UnixImageTest, RoundTripOfARealPair) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
  OwnedFd a(sv[0]), b(sv[1]);
  const int one = 1;
  ASSERT_EQ(::setsockopt(a.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)),
            0);
  const std::string big(70000, 'b');
  ASSERT_EQ(::send(b.get(), "", 0, 0), 0);
  ASSERT_EQ(::send(b.get(), big.data(), big.size(), 0), 70000);
  ASSERT_EQ(::send(a.get(), "to b", 4, 0), 4);
  ASSERT_OK_AND_ASSIGN(pair, CheckpointUnixPair(a.borrow(), b.borrow()));
  ASSERT_OK_AND_ASSIGN(bytes, SerializeUnixImage({pair.a, pair.b}));
  ASSERT_OK_AND_ASSIGN(back, ParseUnixImage(Span(bytes)));
  ASSERT_EQ(back.size(), 2u);
  ExpectSame(back[0], pair.a);
  ExpectSame(back[1], pair.b);
  ASSERT_OK_AND_ASSIGN(again, SerializeUnixImage(back));
  EXPECT_EQ(again, bytes);
  a.reset();
  b.reset();
  ASSERT_OK_AND_ASSIGN(restored,
                       RestoreUnixPair(UnixPairState{back[0], back[1]}));
  char buf[80000];
  EXPECT_EQ(::recv(restored.a.get(), buf, sizeof(buf), MSG_DONTWAIT), 0);
  EXPECT_EQ(::recv(restored.a.get(), buf, sizeof(buf), MSG_DONTWAIT), 70000);
  EXPECT_EQ(std::string(buf, 70000), big);
  EXPECT_EQ(::recv(restored.b.get(), buf, sizeof(buf), MSG_DONTWAIT), 4);
}

std::string Golden() {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* ws = getenv("TEST_WORKSPACE");
  std::ifstream in(std::string(srcdir ? srcdir : ".") + "/" +
                       (ws ? ws : "soccr") +
                       "/testdata/image/v1/unix_pair.soccr",
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// testdata/image/v1/unix_pair.soccr (soccr/unix/make_golden.cc), loaded
// forever: what it holds, and the same bytes when written again.
TEST(UnixImageGoldenTest, Golden) {
  const std::string golden = Golden();
  ASSERT_FALSE(golden.empty());
  ASSERT_OK_AND_ASSIGN(reader, ImageReader::Open(Span(golden), nullptr));
  EXPECT_EQ(reader.major_version(), 1);
  EXPECT_EQ(reader.minor_version(), 1);
  ASSERT_EQ(reader.size(), 3u);
  ASSERT_OK_AND_ASSIGN(a, ReadUnixSocket(reader, 0));
  ASSERT_OK_AND_ASSIGN(b, ReadUnixSocket(reader, 1));
  ASSERT_OK_AND_ASSIGN(l, ReadUnixSocket(reader, 2));
  EXPECT_EQ(a.type, UnixType::kSeqpacket);
  EXPECT_EQ(a.state, UnixSocketState::State::kConnected);
  EXPECT_EQ(a.peer_inode, b.inode);
  EXPECT_EQ(b.peer_inode, a.inode);
  EXPECT_TRUE(a.pass_credentials);
  ASSERT_EQ(a.queue.size(), 3u);
  EXPECT_EQ(a.queue[0].data, "golden");
  EXPECT_EQ(a.queue[1].data, "");
  EXPECT_EQ(a.queue[2].data, std::string(5000, 'g'));
  EXPECT_TRUE(a.queue[0].credentials.has_value());
  EXPECT_TRUE(a.shutdown_receive);  // b shut for writing
  EXPECT_TRUE(b.shutdown_send);
  ASSERT_EQ(b.queue.size(), 1u);
  EXPECT_EQ(b.queue[0].data, "reply");
  EXPECT_FALSE(b.queue[0].credentials.has_value());
  EXPECT_EQ(l.state, UnixSocketState::State::kListening);
  EXPECT_EQ(l.local.kind, UnixAddress::Kind::kAbstract);
  EXPECT_EQ(l.local.name, "soccr-golden");
  EXPECT_EQ(l.backlog, 16u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(is_unix, IsUnixRecord(reader, i));
    EXPECT_TRUE(is_unix);
    // The TCP reader (and so any 1.0 reader) refuses the record, naming
    // the section it does not know.
    EXPECT_THAT(reader.Read(i),
                StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("UNIX")));
  }
  ASSERT_OK_AND_ASSIGN(rewritten, SerializeUnixImage({a, b, l}));
  EXPECT_EQ(rewritten, golden);
}

// A TCP-only reader's view is tested above; the unix reader refuses TCP
// records clearly.
TEST(UnixImageGoldenTest, TcpRecordIsNotAUnixSocket) {
  ConnectionState tcp;
  absl::StatusOr<std::string> bytes = SerializeImage({});
  ASSERT_TRUE(bytes.ok());
  ASSERT_OK_AND_ASSIGN(reader, ImageReader::Open(Span(*bytes), nullptr));
  EXPECT_EQ(reader.size(), 0u);
  EXPECT_THAT(ReadUnixSocket(reader, 0),
              StatusIs(absl::StatusCode::kOutOfRange));
}

// Malformed records, with valid checksums so that the checks are reached.
TEST(UnixImageMalformedTest, Refused) {
  const std::string golden = Golden();
  std::vector<image_testing::RawRecord> records =
      image_testing::SplitImage(golden);
  ASSERT_EQ(records.size(), 3u);
  auto with = [&](auto edit) {
    std::vector<image_testing::RawRecord> r = records;
    edit(r[0]);
    const std::string img = image_testing::BuildImage(r, 1);
    return ParseUnixImage(Span(img));
  };
  auto section = [](image_testing::RawRecord& r, const char(&tag)[5]) {
    for (auto& s : r.sections) {
      if (s.tag == fmt::Tag(tag)) return &s;
    }
    return static_cast<image_testing::RawSection*>(nullptr);
  };
  // A message count far beyond what UMSG holds: refused before anything
  // is allocated for it.
  EXPECT_THAT(with([&](image_testing::RawRecord& r) {
                fmt::Store32(reinterpret_cast<uint8_t*>(
                                 &section(r, "UNIX")->payload[20]),
                             0xffffffff);
              }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("cannot fit")));
  // A message longer than the section.
  EXPECT_THAT(with([&](image_testing::RawRecord& r) {
                fmt::Store32(
                    reinterpret_cast<uint8_t*>(&section(r, "UMSG")->payload[0]),
                    1u << 30);
              }),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("extends past the section")));
  // Unknown flag bits, an unknown type.
  EXPECT_THAT(with([&](image_testing::RawRecord& r) {
                section(r, "UNIX")->payload[2] = '\x40';
              }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("flag")));
  EXPECT_THAT(with([&](image_testing::RawRecord& r) {
                section(r, "UNIX")->payload[0] = 3;
              }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("socket type")));
  // A name longer than its section; a path with a NUL (well formed, but
  // no socket has it).
  EXPECT_THAT(with([&](image_testing::RawRecord& r) {
                fmt::Store16(
                    reinterpret_cast<uint8_t*>(&section(r, "UNAM")->payload[2]),
                    500);
              }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("UNAM")));
  EXPECT_THAT(with([&](image_testing::RawRecord& r) {
                std::string& p = section(r, "UNAM")->payload;
                p[0] = 1;  // the abstract autobound name, as a path
                p[4] = '\0';
              }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NUL")));
  // No UNAM; UMSG twice.
  EXPECT_THAT(with([&](image_testing::RawRecord& r) {
                r.sections.erase(r.sections.begin() + 1);
              }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("UNAM")));
  EXPECT_THAT(with([&](image_testing::RawRecord& r) {
                r.sections.push_back(*section(r, "UMSG"));
              }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("twice")));
  // An unknown optional section is skipped; an unknown required one is not.
  ASSERT_OK_AND_ASSIGN(skipped, with([&](image_testing::RawRecord& r) {
                         r.sections.push_back({fmt::Tag("XTRA"), 0, "later"});
                       }));
  EXPECT_EQ(skipped.size(), 3u);
  EXPECT_THAT(with([&](image_testing::RawRecord& r) {
                r.sections.push_back(
                    {fmt::Tag("XTRA"), fmt::kSectionRequired, "later"});
              }),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("XTRA")));
}

}  // namespace
}  // namespace soccr
