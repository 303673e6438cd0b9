// The image format in memory: round trips, layout, and every kind of bad
// input getting its own error.

#include "soccr/image/image.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/image/format.h"
#include "soccr/image/raw_image.h"
#include "soccr/restore_plan.h"
#include "soccr/testing/perturbations.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

namespace fmt = image_format;
using ::soccr::image_testing::BuildImage;
using ::soccr::image_testing::FixChecksums;
using ::soccr::image_testing::RawRecord;
using ::soccr::image_testing::RawSection;
using ::soccr::image_testing::RecordOffset;
using ::soccr::image_testing::SectionEntry;
using ::soccr::image_testing::SectionPayload;
using ::soccr::image_testing::SplitImage;
using ::testing::HasSubstr;

absl::Span<const uint8_t> Span(absl::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

uint8_t* At(std::string& s, size_t offset) {
  return reinterpret_cast<uint8_t*>(s.data()) + offset;
}

// Every field set, nothing at its default.
ConnectionState FullState() {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  const uint8_t local[16] = {0x20, 0x01, 0x0d, 0xb8, 1, 2,  3,  4,
                             5,    6,    7,    8,    9, 10, 11, 12};
  const uint8_t peer[16] = {0x20, 0x01, 0x0d, 0xb8, 0xa, 0xb, 0xc, 0xd,
                            0,    0,    0,    0,    0,   0,   0,   0x42};
  s.local = SocketAddress::V6(local, 44321, htonl(0x000abcde), 3);
  s.peer = SocketAddress::V6(peer, 443, htonl(0x00012345), 3);
  s.recv_queue = QueueBytes::Copy(std::string("received, not yet read"));
  s.inq_len = static_cast<uint32_t>(s.recv_queue.size());
  s.inq_seq = 0xfffffff0;  // the queue wraps around zero
  s.send_queue = QueueBytes::Copy(std::string("written, in flight; unsent"));
  s.outq_len = static_cast<uint32_t>(s.send_queue.size());
  s.unsent_len = 6;
  s.outq_seq = 123456789;
  s.options = {true, true, true, 7, 9, 1440};
  s.timestamp = 0xdeadbeef;
  s.window = TcpWindow{0xfffffff0, 60000, 65535 << 7, 64000, 0xffffffe0};
  s.buffers = SocketBuffers{200000, 131072, true, false};
  const int one = 1;
  s.socket_options.push_back(
      {SOL_TCP, TCP_NODELAY,
       std::string(reinterpret_cast<const char*>(&one), 4)});
  s.socket_options.push_back({SOL_TCP, TCP_CONGESTION, "reno"});
  return s;
}

// Nothing optional: no window, buffers, options or queue bytes.
ConnectionState MinimalState() {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = SocketAddress::Loopback4(1000);
  s.peer = SocketAddress::V4(0x0a000002, 2000);
  s.inq_seq = 1;
  s.outq_seq = 2;
  return s;
}

std::string Serialize(const std::vector<ConnectionState>& states) {
  absl::StatusOr<std::string> img = SerializeImage(states);
  EXPECT_TRUE(img.ok()) << img.status();
  return img.ok() ? *img : std::string();
}

absl::Status ParseStatus(absl::string_view img,
                         const ImageReadOptions& options = {}) {
  return ParseImage(Span(img), options).status();
}

void ExpectError(absl::string_view img, absl::StatusCode code,
                 absl::string_view message) {
  const absl::Status st = ParseStatus(img);
  EXPECT_EQ(st.code(), code) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr(message));
}

TEST(ImageTest, RoundTripsEveryField) {
  const ConnectionState full = FullState();
  const std::string img = Serialize({full});
  ASSERT_OK_AND_ASSIGN(states, ParseImage(Span(img)));
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0], full) << states[0].ToString() << "\n" << full.ToString();
  EXPECT_EQ(states[0].local.v6().sin6_flowinfo, htonl(0x000abcde));
  EXPECT_EQ(states[0].local.v6().sin6_scope_id, 3u);
  // The writer is canonical: the same state always gives the same bytes.
  EXPECT_EQ(Serialize(states), img);
}

// Every kind of socket a checkpoint can see, with the fields only some of
// them have (the LSTN and SERR sections).
TEST(ImageTest, RoundTripsEveryKindOfSocket) {
  ConnectionState listener;
  listener.state = TcpState::kListen;
  listener.local = SocketAddress::Loopback6(80);
  listener.listen_backlog = 128;
  ConnectionState unbound;
  unbound.state = TcpState::kClose;
  unbound.local = SocketAddress::Loopback4(0);
  ConnectionState syn_sent = MinimalState();
  syn_sent.state = TcpState::kSynSent;
  syn_sent.inq_seq = 0;
  ConnectionState reset = MinimalState();
  reset.state = TcpState::kClose;
  reset.recv_queue = QueueBytes::Copy(std::string("unread"));
  reset.inq_len = 6;
  reset.pending_error = ECONNRESET;
  ConnectionState fin_wait1 = FullState();
  fin_wait1.state = TcpState::kFinWait1;
  const std::vector<ConnectionState> in = {listener, unbound, syn_sent, reset,
                                           fin_wait1};
  const std::string img = Serialize(in);
  ASSERT_OK_AND_ASSIGN(out, ParseImage(Span(img)));
  EXPECT_EQ(out, in);
  const std::vector<RawRecord> records = SplitImage(img);
  std::vector<std::string> tags;
  for (const RawSection& sec : records[0].sections) {
    tags.push_back(fmt::TagName(sec.tag));
  }
  EXPECT_THAT(tags, ::testing::ElementsAre("TCPS", "ADDR", "LSTN"));
  EXPECT_EQ(fmt::Load32(reinterpret_cast<const uint8_t*>(
                records[0].sections[2].payload.data())),
            128u);
  tags.clear();
  for (const RawSection& sec : records[3].sections) {
    tags.push_back(fmt::TagName(sec.tag));
  }
  EXPECT_THAT(tags, ::testing::ElementsAre("TCPS", "ADDR", "SERR", "RCVQ"));
}

// Found by //fuzz:restore_plan_fuzzer: an empty string value as the last
// bytes of the SOPT section was read as p[p.size()].
TEST(ImageTest, RoundTripsAnEmptyStringOptionLast) {
  ConnectionState s = FullState();
  s.socket_options.push_back({SOL_SOCKET, SO_BINDTODEVICE, ""});
  const std::string img = Serialize({s});
  ASSERT_OK_AND_ASSIGN(states, ParseImage(Span(img)));
  EXPECT_EQ(states, std::vector<ConnectionState>{s});
}

TEST(ImageTest, RoundTripsManyConnections) {
  ConnectionState mapped = MinimalState();
  mapped.local = SocketAddress::LoopbackMapped(5);
  mapped.peer = SocketAddress::LoopbackMapped(6);
  const std::vector<ConnectionState> in = {FullState(), MinimalState(), mapped};
  const std::string img = Serialize(in);
  ASSERT_OK_AND_ASSIGN(reader, ImageReader::Open(Span(img), nullptr));
  EXPECT_EQ(reader.major_version(), 1);
  EXPECT_EQ(reader.minor_version(), 0);
  ASSERT_EQ(reader.size(), 3u);
  // Any one of them, in any order.
  for (size_t i : {2, 0, 1}) {
    ASSERT_OK_AND_ASSIGN(s, reader.Read(i));
    EXPECT_EQ(s, in[i]) << i;
  }
  EXPECT_EQ(reader.Read(3).status().code(), absl::StatusCode::kOutOfRange);
  ASSERT_OK_AND_ASSIGN(all, reader.ReadAll());
  EXPECT_EQ(all, in);
}

// Every field of ConnectionState reaches the image and comes back: each
// perturbation of each base (soccr/testing/perturbations.h: one field
// changed, found from the field lists, so a new field is covered without
// touching this test) is written and read back equal. A writer or reader
// that drops or mixes up a field fails here.
//
// The writer refuses what PlanRestore refuses, and a field changed alone
// can make the state one of those; that is not weakened here. Such a
// perturbation is skipped, and each field must survive from at least one
// base, except the fields that can never change alone (kNeverAlone).
TEST(ImageTest, EveryFieldSurvivesTheImage) {
  // Each must equal its queue's size: PlanRestore, and with it the writer,
  // refuses a state where they differ. A writer or reader that lost them
  // fails the bases' own round trip (their queues are not empty).
  const std::set<std::string> kNeverAlone = {"inq_len", "outq_len"};
  std::map<std::string, int> survived;
  std::map<std::string, std::vector<std::string>> refused;
  for (const testing::NamedState& base : testing::PerturbationBases()) {
    SCOPED_TRACE(base.name);
    ASSERT_OK_AND_ASSIGN(base_image, SerializeImage({base.state}));
    ASSERT_OK_AND_ASSIGN(base_back, ParseImage(Span(base_image)));
    ASSERT_EQ(base_back.size(), 1u);
    ASSERT_EQ(base_back[0], base.state);
    for (const testing::Perturbation& p :
         testing::PerturbEachField(base.state)) {
      SCOPED_TRACE(p.field);
      survived.try_emplace(p.field, 0);
      absl::StatusOr<std::string> img = SerializeImage({p.state});
      if (!img.ok()) {
        // The writer's refusal is PlanRestore's.
        EXPECT_FALSE(PlanRestore(p.state).ok());
        refused[p.field].push_back(
            absl::StrCat(base.name, ": ", img.status().message()));
        continue;
      }
      ASSERT_OK_AND_ASSIGN(back, ParseImage(Span(*img)));
      ASSERT_EQ(back.size(), 1u);
      EXPECT_EQ(back[0], p.state) << "read back: " << back[0].ToString()
                                  << "\nwritten:   " << p.state.ToString();
      EXPECT_NE(back[0], base.state);
      ++survived[p.field];
    }
  }
  for (const auto& [field, n] : survived) {
    SCOPED_TRACE(field);
    std::string why;
    for (const std::string& r : refused[field]) {
      absl::StrAppend(&why, "\n  ", r);
    }
    if (kNeverAlone.count(field) != 0) {
      EXPECT_EQ(n, 0) << "it changes alone after all: take it out of "
                         "kNeverAlone";
    } else {
      EXPECT_GT(n, 0) << "no base lets it change alone; refused:" << why;
    }
  }
  for (const std::string& field : kNeverAlone) {
    EXPECT_EQ(survived.count(field), 1u) << field << " is not perturbed";
  }
}

TEST(ImageTest, EmptyImage) {
  const std::string img = Serialize({});
  EXPECT_EQ(img.size(), 40u);
  ASSERT_OK_AND_ASSIGN(states, ParseImage(Span(img)));
  EXPECT_TRUE(states.empty());
}

void ExpectStatus(const absl::Status& st, absl::StatusCode code,
                  absl::string_view message) {
  EXPECT_EQ(st.code(), code) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr(message));
}

// A reader of a file asks for the header, then the index, then is done,
// and refuses a file that is no image of its size from those bytes alone.
TEST(ImageTest, CheckPrefixAsksForTheHeaderThenTheIndex) {
  const std::string img = Serialize({MinimalState(), FullState()});
  const absl::Span<const uint8_t> all = Span(img);
  ASSERT_OK_AND_ASSIGN(need,
                       ImageReader::CheckPrefix(all.subspan(0, 0), img.size()));
  EXPECT_EQ(need, 40u);
  ASSERT_OK_AND_ASSIGN(
      need2, ImageReader::CheckPrefix(all.subspan(0, 40), img.size()));
  EXPECT_EQ(need2, 40u + 2 * 24);
  ASSERT_OK_AND_ASSIGN(
      done, ImageReader::CheckPrefix(all.subspan(0, need2), img.size()));
  EXPECT_EQ(done, 0u);
  // A short file is asked for whole, never past its end.
  ASSERT_OK_AND_ASSIGN(tiny, ImageReader::CheckPrefix(all.subspan(0, 0), 5));
  EXPECT_EQ(tiny, 5u);
  // The same header on a file of another size.
  ExpectStatus(
      ImageReader::CheckPrefix(all.subspan(0, 40), img.size() + 4096).status(),
      absl::StatusCode::kDataLoss, "4096 bytes follow the end of the image");
  ExpectStatus(
      ImageReader::CheckPrefix(all.subspan(0, 40), uint64_t{2} << 30).status(),
      absl::StatusCode::kDataLoss, "follow the end of the image");
}

TEST(ImageTest, HeaderIsAsDocumented) {
  const std::string img = Serialize({MinimalState(), FullState()});
  const uint8_t* b = reinterpret_cast<const uint8_t*>(img.data());
  EXPECT_EQ(img.substr(0, 8), std::string("\x89SOCCR\r\n", 8));
  EXPECT_EQ(fmt::Load16(b + 8), 1);     // major
  EXPECT_EQ(fmt::Load16(b + 10), 0);    // minor
  EXPECT_EQ(fmt::Load32(b + 12), 0u);   // flags
  EXPECT_EQ(fmt::Load32(b + 16), 40u);  // header length
  EXPECT_EQ(fmt::Load32(b + 20), 2u);   // connections
  EXPECT_EQ(fmt::Load64(b + 24), img.size());
  // The first record follows the index, the second the first.
  EXPECT_EQ(fmt::Load64(b + 40), 40u + 2 * 24);
  EXPECT_EQ(fmt::Load64(b + 64), fmt::Load64(b + 40) + fmt::Load64(b + 48));
  EXPECT_EQ(img.substr(88, 4), "CONN");
  // The full state's sections, metadata first and queues last.
  std::vector<std::string> tags;
  const std::vector<RawRecord> records = SplitImage(img);
  for (const RawSection& s : records[1].sections) {
    tags.push_back(fmt::TagName(s.tag));
    EXPECT_EQ(s.flags, fmt::kSectionRequired);
  }
  EXPECT_THAT(tags, ::testing::ElementsAre("TCPS", "ADDR", "WIND", "BUFS",
                                           "SOPT", "RCVQ", "SNDQ"));
  // The minimal one has only what it needs.
  EXPECT_EQ(records[0].sections.size(), 2u);
}

TEST(ImageTest, WriteRejectsAStatePlanRestoreRejects) {
  ConnectionState bad = FullState();
  bad.inq_len += 1;
  const absl::Status st = SerializeImage({MinimalState(), bad}).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("connection 1 of 2"));
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("but the receive queue holds"));
}

TEST(ImageTest, ReadsInPlaceWithAnOwnerAndCopiesWithout) {
  const std::string img = Serialize({FullState()});
  auto owner = std::make_shared<std::string>(img);
  const absl::Span<const uint8_t> bytes = Span(*owner);
  ASSERT_OK_AND_ASSIGN(in_place, ImageReader::Open(bytes, owner));
  ASSERT_OK_AND_ASSIGN(s, in_place.Read(0));
  const uint8_t* q = s.recv_queue.data();
  EXPECT_TRUE(q >= bytes.data() && q < bytes.data() + bytes.size());
  EXPECT_EQ(q - bytes.data(),
            static_cast<ptrdiff_t>(SectionPayload(img, 0, fmt::kTagRecvQueue)));
  const long uses = owner.use_count();
  {
    ConnectionState copy = s;  // each queue holds the owner
    EXPECT_GT(owner.use_count(), uses);
  }
  ASSERT_OK_AND_ASSIGN(copied, ParseImage(bytes));
  const uint8_t* c = copied[0].recv_queue.data();
  EXPECT_FALSE(c >= bytes.data() && c < bytes.data() + bytes.size());
  EXPECT_EQ(copied[0], s);
}

// Reading connection 1 touches none of connection 0's queue: its pages are
// made unreadable, and the read still works.
TEST(ImageTest, ReadingOneConnectionReadsOnlyItsRecord) {
  ConnectionState big = MinimalState();
  big.recv_queue = QueueBytes::Copy(std::string(1 << 20, 'x'));
  big.inq_len = 1 << 20;
  const std::string img = Serialize({big, FullState()});
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t len = (img.size() + page - 1) / page * page;
  void* mem = ::mmap(nullptr, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  memcpy(mem, img.data(), img.size());
  const size_t q = SectionPayload(img, 0, fmt::kTagRecvQueue);
  const size_t first = (q + page - 1) / page * page;
  const size_t last = (q + (1 << 20)) / page * page;
  ASSERT_EQ(
      ::mprotect(static_cast<uint8_t*>(mem) + first, last - first, PROT_NONE),
      0);
  const absl::Span<const uint8_t> bytes(static_cast<const uint8_t*>(mem),
                                        img.size());
  ASSERT_OK_AND_ASSIGN(reader, ImageReader::Open(bytes, nullptr));
  ASSERT_OK_AND_ASSIGN(s, reader.Read(1));
  EXPECT_EQ(s, FullState());
  ::munmap(mem, len);
}

// --- Bad input ---------------------------------------------------------

TEST(ImageBadInputTest, EveryTruncationIsDataLoss) {
  const std::string img = Serialize({FullState(), MinimalState()});
  for (size_t n = 0; n < img.size(); ++n) {
    const absl::Status st = ParseStatus(img.substr(0, n));
    ASSERT_EQ(st.code(), absl::StatusCode::kDataLoss) << n << ": " << st;
  }
}

TEST(ImageBadInputTest, EveryBitFlipIsCaught) {
  const std::string img = Serialize({FullState(), MinimalState()});
  for (size_t byte = 0; byte < img.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = img;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      const absl::Status st = ParseStatus(bad);
      // The major version is read before the checksum (a later version may
      // checksum differently); everything else is caught as corruption.
      const absl::StatusCode want = byte == 8 || byte == 9
                                        ? absl::StatusCode::kUnimplemented
                                        : absl::StatusCode::kDataLoss;
      ASSERT_EQ(st.code(), want)
          << "byte " << byte << " bit " << bit << ": " << st;
    }
  }
}

TEST(ImageBadInputTest, ChecksumsNameWhatTheyCover) {
  std::string img = Serialize({MinimalState(), FullState()});
  std::string bad = img;
  bad[SectionPayload(img, 1, fmt::kTagSendQueue)] ^= 1;
  ExpectError(bad, absl::StatusCode::kDataLoss,
              "connection 1 of 2 (record at offset");
  ExpectError(bad, absl::StatusCode::kDataLoss, "checksum mismatch");
  // Connection 0 is intact, and readable on its own.
  ASSERT_OK_AND_ASSIGN(reader, ImageReader::Open(Span(bad), nullptr));
  EXPECT_TRUE(reader.Read(0).ok());
  // Without checksums the flipped byte reads through.
  ImageReadOptions unchecked;
  unchecked.verify_checksums = false;
  ASSERT_OK_AND_ASSIGN(states, ParseImage(Span(bad), unchecked));
  EXPECT_NE(states[1].send_queue, FullState().send_queue);
  bad = img;
  bad[20] ^= 1;  // connection count
  ExpectError(bad, absl::StatusCode::kDataLoss, "header checksum mismatch");
}

TEST(ImageBadInputTest, WrongMagic) {
  std::string img = Serialize({MinimalState()});
  img[1] = 'X';
  ExpectError(img, absl::StatusCode::kDataLoss, "not a soccr image");
  ExpectError("", absl::StatusCode::kDataLoss, "not a soccr image");
  ExpectError("GIF89a", absl::StatusCode::kDataLoss, "not a soccr image");
}

TEST(ImageBadInputTest, FutureMajorVersionIsUnimplemented) {
  std::string img = Serialize({MinimalState()});
  fmt::Store16(At(img, 8), 2);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kUnimplemented,
              "image format version 2.0 is not supported");
}

TEST(ImageBadInputTest, LaterMinorVersionSkipsUnknownOptionalSections) {
  std::vector<RawRecord> records = SplitImage(Serialize({FullState()}));
  records[0].sections.insert(records[0].sections.begin() + 2,
                             RawSection{fmt::Tag("XTRA"), 0, "from 1.7"});
  records[0].sections.push_back(RawSection{fmt::Tag("MORE"), 0, ""});
  const std::string img = BuildImage(records, /*minor_version=*/7);
  ASSERT_OK_AND_ASSIGN(reader, ImageReader::Open(Span(img), nullptr));
  EXPECT_EQ(reader.minor_version(), 7);
  ASSERT_OK_AND_ASSIGN(s, reader.Read(0));
  EXPECT_EQ(s, FullState());
}

// A later minor version may append fields to the header: header_length
// grows, and a 1.0 reader skips them (they are still checksummed).
TEST(ImageBadInputTest, LaterMinorVersionSkipsLongerHeader) {
  const std::string good = Serialize({FullState(), MinimalState()});
  std::string img =
      good.substr(0, 40) + std::string("newfield") + good.substr(40);
  fmt::Store16(At(img, 10), 2);   // minor
  fmt::Store32(At(img, 16), 48);  // header length
  fmt::Store64(At(img, 24), img.size());
  for (size_t r = 0; r < 2; ++r) {
    uint8_t* entry = At(img, 48 + 24 * r);
    fmt::Store64(entry, fmt::Load64(entry) + 8);
  }
  FixChecksums(img);
  ASSERT_OK_AND_ASSIGN(states, ParseImage(Span(img)));
  EXPECT_EQ(states,
            (std::vector<ConnectionState>{FullState(), MinimalState()}));
  // Still covered by the header checksum.
  img[44] ^= 1;
  ExpectError(img, absl::StatusCode::kDataLoss, "header checksum mismatch");
  // And a length that is not a multiple of 8 is corruption.
  fmt::Store32(At(img, 16), 44);
  ExpectError(img, absl::StatusCode::kDataLoss, "header length 44");
}

TEST(ImageBadInputTest, UnknownRequiredSectionIsUnimplementedAndNamed) {
  std::vector<RawRecord> records = SplitImage(Serialize({FullState()}));
  records[0].sections.push_back(
      RawSection{fmt::Tag("XTRA"), fmt::kSectionRequired, "must know"});
  ExpectError(BuildImage(records, 3), absl::StatusCode::kUnimplemented,
              "required section XTRA is not one this reader knows");
  records[0].sections.back().tag = 0x01020304;
  ExpectError(BuildImage(records, 3), absl::StatusCode::kUnimplemented,
              "required section 0x01020304");
}

TEST(ImageBadInputTest, UnknownFlagsAreUnimplemented) {
  std::string img = Serialize({MinimalState()});
  fmt::Store32(At(img, 12), 0x4);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kUnimplemented, "image flags 0x0004");
  // Optional flag bits are ignored.
  fmt::Store32(At(img, 12), 0x40000);
  FixChecksums(img);
  EXPECT_TRUE(ParseStatus(img).ok());

  img = Serialize({MinimalState()});
  fmt::Store32(At(img, SectionEntry(img, 0, fmt::kTagAddresses) + 4), 3);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kUnimplemented,
              "section ADDR has flags 0x2");
}

TEST(ImageBadInputTest, LengthsLargerThanTheFile) {
  const std::string good = Serialize({FullState(), MinimalState()});
  std::string img = good;
  fmt::Store64(At(img, 24), good.size() + 8);  // file length
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss, "truncated: the image is");

  img = good;
  fmt::Store32(At(img, 20), 0xffffffff);  // connection count
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "the index of 4294967295 connections end at byte");

  img = good;
  fmt::Store64(At(img, 40 + 24 + 8), 1ull << 40);  // record 1 length
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "connection 1 of 2: record of 1099511627776 bytes");

  img = good;
  fmt::Store64(At(img, SectionEntry(img, 0, fmt::kTagSendQueue) + 16),
               ~uint64_t{0});
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "section SNDQ of 18446744073709551615 bytes");

  img = good;
  fmt::Store32(At(img, RecordOffset(img, 1) + 4), 1u << 30);  // sections
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "the table of 1073741824 sections does not fit");

  img = good;
  fmt::Store32(At(img, SectionPayload(img, 0, fmt::kTagSockOpts)), 1u << 31);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "section SOPT claims 2147483648 options");
}

TEST(ImageBadInputTest, TrailingBytes) {
  std::string img = Serialize({MinimalState()});
  img += std::string(8, '\0');
  ExpectError(img, absl::StatusCode::kDataLoss,
              "8 bytes follow the end of the image");
}

TEST(ImageBadInputTest, OverlappingSections) {
  std::string img = Serialize({FullState()});
  const size_t e = SectionEntry(img, 0, fmt::kTagWindow);
  fmt::Store64(At(img, e + 8), fmt::Load64(At(img, e + 8)) - 8);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "section WIND at offset 264 overlaps what comes before it, "
              "which ends at 272");
}

TEST(ImageBadInputTest, OutOfOrderSections) {
  std::string img = Serialize({FullState()});
  // Swap the table entries of TCPS and ADDR: ADDR's offset comes first.
  const size_t a = SectionEntry(img, 0, fmt::kTagTcp);
  const size_t b = SectionEntry(img, 0, fmt::kTagAddresses);
  std::string entry = img.substr(a, 24);
  img.replace(a, 24, img.substr(b, 24));
  img.replace(b, 24, entry);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "sections out of order: TCPS (offset 176) is listed after "
              "ADDR (offset 208)");
}

TEST(ImageBadInputTest, GapsAndOverlapsBetweenRecords) {
  const std::string good = Serialize({MinimalState(), MinimalState()});
  std::string img = good;
  fmt::Store64(At(img, 64), fmt::Load64(At(img, 64)) - 8);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "connection 1 of 2: record at offset");
  ExpectError(img, absl::StatusCode::kDataLoss, "overlaps");
  img = good;
  fmt::Store64(At(img, 64), fmt::Load64(At(img, 64)) + 8);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss, "unaccounted for");
}

TEST(ImageBadInputTest, OutOfOrderRecords) {
  std::string img = Serialize({MinimalState(), FullState()});
  std::string entry = img.substr(40, 24);
  img.replace(40, 24, img.substr(64, 24));
  img.replace(64, 24, entry);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "records out of order: connection 1 (offset 88) is listed "
              "after connection 0 (offset 240)");
}

TEST(ImageBadInputTest, MalformedSections) {
  const std::string good = Serialize({FullState()});
  std::vector<RawRecord> records = SplitImage(good);
  records[0].sections.push_back(records[0].sections[2]);
  ExpectError(BuildImage(records), absl::StatusCode::kDataLoss,
              "section WIND appears twice");

  records = SplitImage(good);
  records[0].sections.erase(records[0].sections.begin());
  ExpectError(BuildImage(records), absl::StatusCode::kDataLoss,
              "the required section TCPS is missing");

  records = SplitImage(good);
  records[0].sections[2].payload += "xx";
  ExpectError(BuildImage(records), absl::StatusCode::kDataLoss,
              "section WIND is 22 bytes, want 20");

  std::string img = good;
  img[SectionPayload(img, 0, fmt::kTagRecvQueue) + FullState().inq_len] = 1;
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "the padding after section RCVQ is not zero");

  img = good;
  img[SectionPayload(img, 0, fmt::kTagAddresses)] = 5;
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "local address: family code 5 is not 0, 4 or 6");

  img = good;
  img[SectionPayload(img, 0, fmt::kTagTcp) + 1] |= 0x80;
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss, "unknown TCP option bits 0x80");

  img = good;
  memcpy(&img[RecordOffset(img, 0)], "CONX", 4);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss, "does not start with \"CONN\"");
}

TEST(ImageBadInputTest, ListenAndErrorSections) {
  ConnectionState listener;
  listener.state = TcpState::kListen;
  listener.local = SocketAddress::Loopback4(80);
  listener.listen_backlog = 5;
  std::vector<RawRecord> records = SplitImage(Serialize({listener}));
  records[0].sections[2].payload += "x";
  ExpectError(BuildImage(records), absl::StatusCode::kDataLoss,
              "section LSTN is 5 bytes, want 4");
  // A backlog on a socket that is not listening: PlanRestore says so.
  records = SplitImage(Serialize({listener}));
  records[0].sections[2].tag = fmt::kTagError;
  ExpectError(BuildImage(records), absl::StatusCode::kInvalidArgument,
              "pending_error is 5 but only a closed connection");
  std::string img = Serialize({listener});
  img[SectionPayload(img, 0, fmt::kTagTcp)] =
      static_cast<char>(TcpState::kEstablished);
  FixChecksums(img);
  EXPECT_EQ(ParseStatus(img).code(), absl::StatusCode::kInvalidArgument);
}

// Well formed, inconsistent: PlanRestore's own message, InvalidArgument.
TEST(ImageBadInputTest, QueueLengthDisagreeingWithTheState) {
  std::string img = Serialize({FullState()});
  fmt::Store32(At(img, SectionPayload(img, 0, fmt::kTagTcp) + 12), 5);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kInvalidArgument,
              "inq_len is 5 but the receive queue holds 22 bytes");
  ExpectError(img, absl::StatusCode::kInvalidArgument,
              "connection 0 of 1 (record at offset 64): restore [2001:db8:");
}

// check_restorable off: the same record reads, and the check is the
// caller's Restore()'s (PlanRestore, the same message); its form is still
// checked.
TEST(ImageBadInputTest, UnrestorableStateReadsWhenTheCallerChecksIt) {
  std::string img = Serialize({FullState()});
  fmt::Store32(At(img, SectionPayload(img, 0, fmt::kTagTcp) + 12), 5);
  FixChecksums(img);
  ImageReadOptions to_restore;
  to_restore.check_restorable = false;
  ASSERT_OK_AND_ASSIGN(reader,
                       ImageReader::Open(Span(img), nullptr, to_restore));
  ASSERT_OK_AND_ASSIGN(s, reader.Read(0));
  EXPECT_EQ(s.inq_len, 5u);
  const absl::Status planned = PlanRestore(s).status();
  EXPECT_EQ(planned.code(), absl::StatusCode::kInvalidArgument) << planned;
  EXPECT_THAT(planned.message(),
              ::testing::HasSubstr("inq_len is 5 but the receive queue "
                                   "holds 22 bytes"));
  // A flipped byte is still a checksum mismatch.
  img[img.size() - 1] ^= 1;
  ASSERT_OK_AND_ASSIGN(damaged,
                       ImageReader::Open(Span(img), nullptr, to_restore));
  EXPECT_EQ(damaged.Read(0).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ImageBadInputTest, AbsurdValues) {
  const std::string good = Serialize({FullState()});
  std::string img = good;
  img[SectionPayload(img, 0, fmt::kTagTcp) + 2] = static_cast<char>(200);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kInvalidArgument,
              "options.snd_wscale 200 exceeds the maximum 14");

  img = good;
  img[SectionPayload(img, 0, fmt::kTagTcp)] = 99;
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kInvalidArgument,
              "state: 99 is not a TCP state");

  img = good;
  img[SectionPayload(img, 0, fmt::kTagTcp)] =
      static_cast<char>(TcpState::kTimeWait);
  FixChecksums(img);
  EXPECT_EQ(ParseStatus(img).code(), absl::StatusCode::kUnimplemented);
}

// A 4 GiB queue claimed by a 1 KiB file: rejected without allocating it.
TEST(ImageBadInputTest, FourGibibyteQueueInAOneKibibyteFile) {
  const std::string good = Serialize({FullState()});
  ASSERT_LT(good.size(), 1024u);
  std::string img = good;
  fmt::Store32(At(img, SectionPayload(img, 0, fmt::kTagTcp) + 12), 0xffffffff);
  fmt::Store64(At(img, SectionEntry(img, 0, fmt::kTagRecvQueue) + 16),
               0xffffffff);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kDataLoss,
              "section RCVQ of 4294967295 bytes at offset 352 extends past "
              "the end of the record (408 bytes)");
  // The queue's real length in the table, the claim only in the state.
  img = good;
  fmt::Store32(At(img, SectionPayload(img, 0, fmt::kTagTcp) + 12), 0xffffffff);
  FixChecksums(img);
  ExpectError(img, absl::StatusCode::kInvalidArgument,
              "inq_len is 4294967295 but the receive queue holds 22 bytes");
}

}  // namespace
}  // namespace soccr
