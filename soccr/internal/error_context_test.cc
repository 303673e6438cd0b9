#include "soccr/internal/error_context.h"

#include <errno.h>

#include <string>

#include "gtest/gtest.h"

namespace soccr::internal {
namespace {

using sys::Op;
using sys::Result;

const SocketAddress kLocal = *SocketAddress::Parse("10.0.0.1:80");
const SocketAddress kPeer = *SocketAddress::Parse("10.0.0.2:4242");

TEST(ErrorContextTest, NamesOperationConnectionStepCallAndErrno) {
  const ErrorContext ctx("restore", kLocal, kPeer);
  const absl::Status s =
      ctx.Check("set recv queue seq", Result<void>{EPERM, Op::kSetQueueSeq});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "restore 10.0.0.1:80->10.0.0.2:4242: set recv queue seq: "
            "setsockopt(TCP_QUEUE_SEQ): Operation not permitted");
}

TEST(ErrorContextTest, NamesTheDescriptorUntilTheAddressesAreKnown) {
  ErrorContext ctx("checkpoint", BorrowedFd(7));
  const Result<int> r{0, EBADF, Op::kGetInq};
  EXPECT_EQ(ctx.SysError("read receive queue length", r).message(),
            "checkpoint fd 7: read receive queue length: ioctl(SIOCINQ): "
            "Bad file descriptor");
  ctx.SetEndpoints(kLocal, kPeer);
  EXPECT_EQ(ctx.Error(absl::StatusCode::kInternal, "odd").message(),
            "checkpoint 10.0.0.1:80->10.0.0.2:4242: odd");
}

TEST(ErrorContextTest, CheckPassesValuesThrough) {
  const ErrorContext ctx("pause", BorrowedFd(3));
  EXPECT_TRUE(ctx.Check("x", Result<void>{0, Op::kListen}).ok());
  absl::StatusOr<int> v = ctx.Check("x", Result<int>{42, 0, Op::kGetInq});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 42);
}

TEST(ErrorContextTest, CodeComesFromTheOneTable) {
  const ErrorContext ctx("checkpoint", BorrowedFd(3));
  absl::StatusOr<int> v = ctx.Check(
      "read TCP_NOTSENT_LOWAT", Result<int>{0, ENOPROTOOPT, Op::kGetSockOpt});
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(
      ctx.Check("enter repair mode", Result<void>{ENOPROTOOPT, Op::kSetRepair})
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace soccr::internal
