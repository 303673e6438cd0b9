// PausedSocket's own operations beyond checkpoint and restore: the silent
// disconnect that frees a connection's addresses for a restore next to it.

#include "soccr/paused_socket.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/checkpoint.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/restore.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using loopback::ConnectedPair;
using loopback::Family;
using loopback::Pattern;
using ::testing::HasSubstr;

int IntOpt(BorrowedFd fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof(v);
  ::getsockopt(fd.get(), level, name, &v, &len);
  return v;
}

class PausedSocketTest : public soccr::testing::NetnsTest {};

TEST_F(PausedSocketTest, DisconnectSilentlyFreesTheAddressesWithoutAPacket) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
  ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
  ASSERT_OK(std::move(paused).DisconnectSilently());

  // The owner's descriptor shows a closed socket out of repair mode.
  EXPECT_EQ(loopback::TcpStateNumber(pair.client.borrow()),
            static_cast<int>(TcpState::kClose));
  EXPECT_EQ(IntOpt(pair.client.borrow(), SOL_TCP, TCP_REPAIR), 0);
  // The peer heard nothing.
  EXPECT_EQ(loopback::TcpStateNumber(pair.server.borrow()),
            static_cast<int>(TcpState::kEstablished));
  EXPECT_EQ(IntOpt(pair.server.borrow(), SOL_SOCKET, SO_ERROR), 0);

  // The same addresses at once, while the old descriptor is still open.
  ASSERT_OK_AND_ASSIGN(restored, Restore(state));
  ASSERT_OK_AND_ASSIGN(live, std::move(restored).Resume());
  const std::string hello = Pattern(1000, 3);
  ASSERT_OK(loopback::WriteAll(live.borrow(), hello));
  ASSERT_OK_AND_ASSIGN(got, loopback::ReadExactly(pair.server.borrow(), 1000));
  EXPECT_EQ(got, hello);
}

TEST_F(PausedSocketTest, FailedDisconnectLeavesTheSocketInRepairMode) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV6));
  sys::FaultInjectingSys sys;
  sys.FailOp(sys::Op::kDisconnect, EPERM);
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow(), sys));
  const absl::Status s = std::move(paused).DisconnectSilently();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("(the socket stays in repair mode): "
                        "connect(AF_UNSPEC): Operation not permitted"));
  // Still in repair mode, handle given up: closing it sends nothing.
  EXPECT_EQ(IntOpt(pair.client.borrow(), SOL_TCP, TCP_REPAIR), 1);
  pair.client.reset();
  EXPECT_EQ(loopback::TcpStateNumber(pair.server.borrow()),
            static_cast<int>(TcpState::kEstablished));
}

TEST_F(PausedSocketTest, DisconnectSilentlyNeedsASocket) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
  PausedSocket other = std::move(paused);
  EXPECT_EQ(std::move(paused).DisconnectSilently().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace soccr
