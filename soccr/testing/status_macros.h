// soccr/testing/status_macros.h: gtest assertions for absl::Status results.
//
//   ASSERT_OK(WriteAll(fd, data));
//   ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));  // declares `state`
//   EXPECT_OK(s);
//
// On failure the Status (code and message) is printed.

#ifndef SOCCR_TESTING_STATUS_MACROS_H_
#define SOCCR_TESTING_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "gtest/gtest.h"

#define SOCCR_STATUS_MACROS_CONCAT_INNER(a, b) a##b
#define SOCCR_STATUS_MACROS_CONCAT(a, b) SOCCR_STATUS_MACROS_CONCAT_INNER(a, b)

#define EXPECT_OK(expr)                                     \
  do {                                                      \
    const absl::Status expect_ok_status = (expr);           \
    EXPECT_TRUE(expect_ok_status.ok()) << expect_ok_status; \
  } while (0)

#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const absl::Status assert_ok_status = (expr);           \
    ASSERT_TRUE(assert_ok_status.ok()) << assert_ok_status; \
  } while (0)

// Evaluates `expr` (an absl::StatusOr<T>), asserts it is OK, and declares
// `lhs` holding its value.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(            \
      SOCCR_STATUS_MACROS_CONCAT(status_or_value_, __LINE__), lhs, expr)

#define ASSERT_OK_AND_ASSIGN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  ASSERT_TRUE(statusor.ok()) << statusor.status();     \
  auto lhs = *std::move(statusor)

#endif  // SOCCR_TESTING_STATUS_MACROS_H_
