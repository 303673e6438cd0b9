#include "soccr/internal/status_code.h"

#include <errno.h>
#include <string.h>

#include "absl/strings/str_cat.h"
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

TEST(StatusCodeTest, CallsOutsideSysTakeTheChoicesForAnyCall) {
  // netlink, pidfd_getfd and the like: no sys::Op, so only the choices
  // that hold for any call apply (the TCP_REPAIR one does not).
  EXPECT_EQ(StatusCodeForErrno(ENOPROTOOPT), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(StatusCodeForErrno(EOPNOTSUPP), absl::StatusCode::kUnimplemented);
  // What callers of the two forms relied on before they came here:
  // netlock's EAFNOSUPPORT/EPROTONOSUPPORT (no nf_tables) and pidfd's
  // ESRCH, ENOSYS and EPERM.
  EXPECT_EQ(StatusCodeForErrno(EAFNOSUPPORT), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(StatusCodeForErrno(EPROTONOSUPPORT),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(StatusCodeForErrno(ESRCH), absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForErrno(ENOSYS), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(StatusCodeForErrno(EPERM), absl::StatusCode::kPermissionDenied);
  for (int err : {EPERM, EACCES, EINVAL, EAGAIN, EBADF, ENOMEM, EMSGSIZE}) {
    EXPECT_EQ(StatusCodeForErrno(err), absl::ErrnoToStatusCode(err)) << err;
  }
}

TEST(StatusCodeTest, ErrnoStatusNamesTheErrnoWithSoccrsCode) {
  const absl::Status with_op =
      ErrnoStatus(Op::kSetSockOpt, ENOPROTOOPT, "set TCP_NOTSENT_LOWAT");
  EXPECT_EQ(with_op.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(with_op.message(),
            absl::StrCat("set TCP_NOTSENT_LOWAT: ", ::strerror(ENOPROTOOPT)));
  const absl::Status repair =
      ErrnoStatus(Op::kSetRepair, ENOPROTOOPT, "enter repair mode");
  EXPECT_EQ(repair.code(), absl::StatusCode::kInvalidArgument);
  const absl::Status without_op =
      ErrnoStatus(ENOPROTOOPT, "sock_diag: setsockopt(NETLINK_EXT_ACK)");
  EXPECT_EQ(without_op.code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(without_op.message(),
            absl::StrCat("sock_diag: setsockopt(NETLINK_EXT_ACK): ",
                         ::strerror(ENOPROTOOPT)));
}

}  // namespace
}  // namespace soccr::internal
