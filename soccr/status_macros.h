// soccr/status_macros.h: early return on error, for soccr's code and the
// code built on its C++ API (Debian's Abseil 20220623 has no public macros
// of its kind).
//
//   absl::StatusOr<soccr::ConnectionState> Save(soccr::BorrowedFd fd) {
//     SOCCR_ASSIGN_OR_RETURN(soccr::PausedSocket paused,
//                            soccr::PausedSocket::Pause(fd));
//     SOCCR_ASSIGN_OR_RETURN(soccr::ConnectionState state,
//                            soccr::Checkpoint(paused));
//     SOCCR_RETURN_IF_ERROR(std::move(paused).Resume());
//     return state;
//   }
//
// Each evaluates its expression once and returns its Status unchanged.
// They are statements: use them where a `return` may go, never inside an
// expression.

#ifndef SOCCR_STATUS_MACROS_H_
#define SOCCR_STATUS_MACROS_H_

#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns the absl::Status `expr` evaluates to, unless it is OK.
#define SOCCR_RETURN_IF_ERROR(expr)                           \
  do {                                                        \
    const ::absl::Status soccr_status_macros_status = (expr); \
    if (ABSL_PREDICT_FALSE(!soccr_status_macros_status.ok())) \
      return soccr_status_macros_status;                      \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status unless it
// is OK, and otherwise moves its value into `lhs`, which may declare a
// variable (`T x`, `const T x`, `auto x`) or name an existing one.
#define SOCCR_ASSIGN_OR_RETURN(lhs, rexpr)                                \
  SOCCR_ASSIGN_OR_RETURN_IMPL(                                            \
      SOCCR_RETURN_MACROS_CONCAT(soccr_status_macros_or_, __LINE__), lhs, \
      rexpr)

#define SOCCR_ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {               \
    return std::move(statusor).status();                  \
  }                                                       \
  lhs = *std::move(statusor)

#define SOCCR_RETURN_MACROS_CONCAT_INNER(a, b) a##b
#define SOCCR_RETURN_MACROS_CONCAT(a, b) SOCCR_RETURN_MACROS_CONCAT_INNER(a, b)

#endif  // SOCCR_STATUS_MACROS_H_
