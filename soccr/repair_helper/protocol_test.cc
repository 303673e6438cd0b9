#include "soccr/repair_helper/protocol.h"

#include <string.h>
#include <sys/socket.h>

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace soccr::repair_helper {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A control message as the kernel lays it out.
void AppendCmsg(std::vector<uint8_t>& buf, int level, int type,
                const std::vector<int>& ints, size_t extra_payload = 0) {
  const size_t payload = ints.size() * sizeof(int) + extra_payload;
  const size_t start = buf.size();
  buf.resize(start + CMSG_SPACE(payload), 0);
  struct cmsghdr hdr = {};
  hdr.cmsg_len = CMSG_LEN(payload);
  hdr.cmsg_level = level;
  hdr.cmsg_type = type;
  memcpy(buf.data() + start, &hdr, sizeof(hdr));
  for (size_t i = 0; i < ints.size(); ++i) {
    memcpy(buf.data() + start + CMSG_LEN(0) + i * sizeof(int), &ints[i],
           sizeof(int));
  }
}

std::vector<uint8_t> Rights(const std::vector<int>& fds) {
  std::vector<uint8_t> buf;
  AppendCmsg(buf, SOL_SOCKET, SCM_RIGHTS, fds);
  return buf;
}

const uint8_t kOn[] = {1};

TEST(ParseRequest, AcceptsEachCommandWithDescriptors) {
  for (int8_t command : {kCommandOn, kCommandOff, kCommandOffNoWindowProbe}) {
    const uint8_t data[] = {static_cast<uint8_t>(command)};
    ParsedRequest r = ParseRequest(data, Rights({7, 9, 3}), 0);
    ASSERT_TRUE(r.status.ok()) << r.status;
    EXPECT_EQ(r.command, command);
    EXPECT_THAT(r.fds, ElementsAre(7, 9, 3));
  }
}

TEST(ParseRequest, AcceptsTheMaximum) {
  std::vector<int> fds;
  for (int i = 0; i < kMaxFds; ++i) fds.push_back(100 + i);
  std::vector<uint8_t> control = Rights(fds);
  EXPECT_EQ(control.size(), kControlBufferSize);
  ParsedRequest r = ParseRequest(kOn, control, 0);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.fds.size(), static_cast<size_t>(kMaxFds));
}

TEST(ParseRequest, RefusesMoreThanTheMaximumButCollectsAll) {
  std::vector<int> fds;
  for (int i = 0; i < kMaxFds + 1; ++i) fds.push_back(100 + i);
  ParsedRequest r = ParseRequest(kOn, Rights(fds), 0);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status.message(), HasSubstr("at most 253"));
  EXPECT_EQ(r.fds.size(), fds.size());
}

TEST(ParseRequest, RefusesUnknownCommandsKeepingTheDescriptors) {
  for (int byte : {2, 3, 127, 128, 0xfe}) {
    const uint8_t data[] = {static_cast<uint8_t>(byte)};
    ParsedRequest r = ParseRequest(data, Rights({5}), 0);
    EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument) << byte;
    EXPECT_THAT(r.status.message(), HasSubstr("unknown command"));
    EXPECT_THAT(r.fds, ElementsAre(5));
  }
}

TEST(ParseRequest, RefusesWrongDataLength) {
  const uint8_t two[] = {1, 1};
  EXPECT_EQ(ParseRequest({}, Rights({5}), 0).status.code(),
            absl::StatusCode::kInvalidArgument);
  ParsedRequest r = ParseRequest(two, Rights({5}), 0);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.fds, ElementsAre(5));
}

TEST(ParseRequest, RefusesNoDescriptors) {
  ParsedRequest r = ParseRequest(kOn, {}, 0);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status.message(), HasSubstr("no descriptors"));
  EXPECT_EQ(ParseRequest(kOn, Rights({}), 0).status.code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseRequest, RefusesTruncatedControlData) {
  ParsedRequest r = ParseRequest(kOn, Rights({4, 5}), MSG_CTRUNC);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status.message(), HasSubstr("MSG_CTRUNC"));
  EXPECT_THAT(r.fds, ElementsAre(4, 5));
  EXPECT_EQ(ParseRequest(kOn, Rights({4}), MSG_TRUNC).status.code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseRequest, RefusesOtherControlMessagesButCollectsDescriptors) {
  std::vector<uint8_t> control;
  AppendCmsg(control, SOL_SOCKET, SCM_CREDENTIALS, {1, 2, 3});
  AppendCmsg(control, SOL_SOCKET, SCM_RIGHTS, {8});
  ParsedRequest r = ParseRequest(kOn, control, 0);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status.message(), HasSubstr("other than SCM_RIGHTS"));
  EXPECT_THAT(r.fds, ElementsAre(8));
}

TEST(ParseRequest, RefusesTwoRightsMessages) {
  std::vector<uint8_t> control;
  AppendCmsg(control, SOL_SOCKET, SCM_RIGHTS, {8});
  AppendCmsg(control, SOL_SOCKET, SCM_RIGHTS, {9});
  ParsedRequest r = ParseRequest(kOn, control, 0);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.fds, ElementsAre(8, 9));
}

TEST(ParseRequest, RefusesMalformedHeaders) {
  std::vector<uint8_t> control = Rights({8});
  // Cut short inside the header, and a length past the end.
  ParsedRequest cut = ParseRequest(
      kOn, absl::MakeConstSpan(control.data(), sizeof(struct cmsghdr) - 1), 0);
  EXPECT_EQ(cut.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cut.fds, IsEmpty());
  struct cmsghdr hdr;
  memcpy(&hdr, control.data(), sizeof(hdr));
  hdr.cmsg_len = control.size() + 1;
  memcpy(control.data(), &hdr, sizeof(hdr));
  ParsedRequest over = ParseRequest(kOn, control, 0);
  EXPECT_EQ(over.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(over.status.message(), HasSubstr("header"));
  // Shorter than a header claims to be.
  hdr.cmsg_len = sizeof(hdr) - 1;
  memcpy(control.data(), &hdr, sizeof(hdr));
  EXPECT_EQ(ParseRequest(kOn, control, 0).status.code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseRequest, RefusesPartialDescriptors) {
  std::vector<uint8_t> control;
  AppendCmsg(control, SOL_SOCKET, SCM_RIGHTS, {8}, /*extra_payload=*/2);
  ParsedRequest r = ParseRequest(kOn, control, 0);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.fds, ElementsAre(8));
}

TEST(ParseRequest, RefusesNegativeAndRepeatedNumbersClosingEachOnce) {
  ParsedRequest neg = ParseRequest(kOn, Rights({4, -1}), 0);
  EXPECT_EQ(neg.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(neg.fds, ElementsAre(4));
  ParsedRequest rep = ParseRequest(kOn, Rights({6, 4, 6}), 0);
  EXPECT_EQ(rep.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rep.fds, ElementsAre(4, 6));
}

}  // namespace
}  // namespace soccr::repair_helper
