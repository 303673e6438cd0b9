#include "soccr/status_macros.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace soccr {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::Status NotNegative(int x) {
  if (x < 0) return absl::OutOfRangeError("negative");
  return absl::OkStatus();
}

absl::StatusOr<int> Quarter(int x, int* evaluations) {
  ++*evaluations;
  SOCCR_RETURN_IF_ERROR(NotNegative(x));
  SOCCR_ASSIGN_OR_RETURN(const int half, Half(x));
  int quarter = 0;
  SOCCR_ASSIGN_OR_RETURN(quarter, Half(half));
  return quarter;
}

TEST(StatusMacrosTest, ReturnsTheFirstErrorUnchanged) {
  int n = 0;
  EXPECT_EQ(*Quarter(8, &n), 2);
  EXPECT_EQ(Quarter(-4, &n).status(), absl::OutOfRangeError("negative"));
  EXPECT_EQ(Quarter(6, &n).status(), absl::InvalidArgumentError("odd"));
  EXPECT_EQ(Quarter(5, &n).status(), absl::InvalidArgumentError("odd"));
  EXPECT_EQ(n, 4);
}

absl::StatusOr<std::unique_ptr<int>> MakeBox(int x) {
  return std::make_unique<int>(x);
}

absl::StatusOr<int> Unbox(int x) {
  SOCCR_ASSIGN_OR_RETURN(std::unique_ptr<int> box, MakeBox(x));
  return *box;
}

TEST(StatusMacrosTest, MovesMoveOnlyValues) { EXPECT_EQ(*Unbox(7), 7); }

absl::Status EvaluateOnce(int* calls) {
  SOCCR_RETURN_IF_ERROR((++*calls, absl::OkStatus()));
  return absl::OkStatus();
}

TEST(StatusMacrosTest, EvaluatesTheExpressionOnce) {
  int calls = 0;
  EXPECT_TRUE(EvaluateOnce(&calls).ok());
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace soccr
