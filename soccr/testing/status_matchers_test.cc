#include "soccr/testing/status_matchers.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace soccr::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(StatusIsTest, MatchesCodeAndMessage) {
  const absl::Status s = absl::InvalidArgumentError("inq_len is 3");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inq_len")));
  EXPECT_THAT(s, Not(StatusIs(absl::StatusCode::kUnimplemented)));
  EXPECT_THAT(s, Not(StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr("outq_len"))));
  EXPECT_THAT(s, StatusIs(AnyOf(absl::StatusCode::kUnimplemented,
                                absl::StatusCode::kInvalidArgument)));
  EXPECT_THAT(absl::OkStatus(), StatusIs(absl::StatusCode::kOk));
}

TEST(StatusIsTest, MatchesAStatusOr) {
  const absl::StatusOr<int> bad = absl::DataLossError("truncated");
  const absl::StatusOr<int> good = 7;
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kDataLoss, "truncated"));
  EXPECT_THAT(good, StatusIs(absl::StatusCode::kOk));
  EXPECT_THAT(good, Not(StatusIs(absl::StatusCode::kDataLoss)));
}

TEST(StatusIsTest, SaysWhatItWantedAndWhatItGot) {
  const ::testing::Matcher<absl::Status> m =
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("retry"));
  EXPECT_EQ(::testing::DescribeMatcher<absl::Status>(m),
            "is a status whose code is equal to UNAVAILABLE and whose "
            "message has substring \"retry\"");
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(m.MatchAndExplain(absl::InternalError("boom"), &listener));
  EXPECT_EQ(listener.str(), "which is INTERNAL: boom");
}

}  // namespace
}  // namespace soccr::testing
