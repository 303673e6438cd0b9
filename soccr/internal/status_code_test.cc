#include "soccr/internal/status_code.h"

#include <errno.h>

#include "gtest/gtest.h"

namespace soccr::internal {
namespace {

using sys::Op;

TEST(StatusCodeTest, AnUnknownOptionMeansAKernelWithoutIt) {
  EXPECT_EQ(StatusCodeForErrno(Op::kGetSockOpt, ENOPROTOOPT),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(StatusCodeForErrno(Op::kSetSockOpt, ENOPROTOOPT),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(StatusCodeForErrno(Op::kGetRepairWindow, ENOPROTOOPT),
            absl::StatusCode::kUnimplemented);
}

TEST(StatusCodeTest, RepairModeRefusedAsUnknownMeansNotATcpSocket) {
  EXPECT_EQ(StatusCodeForErrno(Op::kSetRepair, ENOPROTOOPT),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForErrno(Op::kSetRepair, EOPNOTSUPP),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeForErrno(Op::kSetSockOpt, EOPNOTSUPP),
            absl::StatusCode::kUnimplemented);
}

TEST(StatusCodeTest, OtherwiseAbseilsChoice) {
  for (int err : {EPERM, EACCES, EINVAL, EAGAIN, ENOTSOCK, EBADF, ENOMEM,
                  EADDRINUSE, ENOTCONN, EIO}) {
    EXPECT_EQ(StatusCodeForErrno(Op::kSetRepair, err),
              absl::ErrnoToStatusCode(err))
        << err;
    EXPECT_EQ(StatusCodeForErrno(Op::kConnect, err),
              absl::ErrnoToStatusCode(err))
        << err;
  }
  EXPECT_EQ(StatusCodeForErrno(Op::kSetRepair, EPERM),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace soccr::internal
