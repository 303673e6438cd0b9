#include "soccr/testing/checkpoint_util.h"

#include <netinet/in.h>

#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace soccr::testing {
namespace {

std::vector<SocketOption> WithoutV6Only(std::vector<SocketOption> options) {
  std::vector<SocketOption> out;
  for (SocketOption& o : options) {
    if (o.level == SOL_IPV6 && o.name == IPV6_V6ONLY) continue;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

absl::StatusOr<ConnectionState> CheckpointAndClose(
    OwnedFd fd, const CheckpointOptions& options) {
  absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd.borrow());
  if (!paused.ok()) return paused.status();
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused, options);
  if (!state.ok()) return state.status();
  std::move(*paused).LeaveInRepairMode();
  fd.reset();  // In repair mode (or a listener): nothing reaches the peer.
  return state;
}

void ExpectSameState(const ConnectionState& a, const ConnectionState& b) {
  EXPECT_EQ(TcpStateName(a.state), TcpStateName(b.state));
  EXPECT_EQ(a.local, b.local);
  EXPECT_EQ(a.peer, b.peer);
  EXPECT_EQ(a.inq_seq, b.inq_seq);
  EXPECT_EQ(a.inq_len, b.inq_len);
  EXPECT_TRUE(a.recv_queue == b.recv_queue) << "receive queues differ";
  EXPECT_EQ(a.outq_seq, b.outq_seq);
  EXPECT_EQ(a.outq_len, b.outq_len);
  EXPECT_EQ(a.unsent_len, b.unsent_len);
  EXPECT_TRUE(a.send_queue == b.send_queue) << "send queues differ";
  EXPECT_EQ(a.options, b.options);
  EXPECT_EQ(a.window.has_value(), b.window.has_value());
  EXPECT_EQ(a.buffers, b.buffers);
  EXPECT_EQ(WithoutV6Only(a.socket_options), WithoutV6Only(b.socket_options));
  EXPECT_EQ(a.listen_backlog, b.listen_backlog);
  EXPECT_EQ(a.pending_error, b.pending_error);
}

}  // namespace soccr::testing
