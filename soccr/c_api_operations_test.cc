// The public operations the libsoccr-compatible C API is built on, against
// the kernel: restoring onto a socket the caller created and paused, the
// addresses of a paused socket, and the kernel's FIN-counting sequence
// numbers.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/checkpoint.h"
#include "soccr/kernel_seq.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/paused_socket.h"
#include "soccr/paused_socket_addresses.h"
#include "soccr/restore_onto.h"
#include "soccr/restore_plan.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using loopback::ConnectedPair;
using loopback::Family;
using loopback::Pattern;
using ::testing::HasSubstr;

class CApiOperationsTest : public soccr::testing::NetnsTest {};

OwnedFd NewTcpSocket(int family) {
  return OwnedFd(::socket(family, SOCK_STREAM, 0));
}

// The kernel's TCP_QUEUE_SEQ of `q` (rcv_nxt or write_seq) of a socket in
// repair mode.
uint32_t KernelQueueSeq(BorrowedFd fd, int q) {
  EXPECT_EQ(::setsockopt(fd.get(), SOL_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)),
            0);
  uint32_t seq = 0;
  socklen_t len = sizeof(seq);
  EXPECT_EQ(::getsockopt(fd.get(), SOL_TCP, TCP_QUEUE_SEQ, &seq, &len), 0);
  return seq;
}

TEST_F(CApiOperationsTest, RestoreOntoACallersSocketKeepsBorrowedUnsentData) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
  const std::string to_client = Pattern(30000, 1);
  ASSERT_OK(loopback::WriteAll(pair.server.borrow(), to_client));
  ASSERT_OK(loopback::WaitInq(pair.client.borrow(), to_client.size()));
  ASSERT_OK(loopback::WaitNothingInFlight(pair.server.borrow()));
  // The server reads nothing: the client's writes stay in its send queue,
  // unsent.
  const std::string to_server = Pattern(4 << 20, 2);
  ASSERT_OK_AND_ASSIGN(written,
                       loopback::WriteSome(pair.client.borrow(), to_server));
  ASSERT_OK(loopback::WaitNothingInFlight(pair.client.borrow()));

  ConnectionState state;
  {
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
    ASSERT_OK_AND_ASSIGN(s, Checkpoint(paused));
    state = std::move(s);
    std::move(paused).LeaveInRepairMode();
    pair.client.reset();  // in repair mode: nothing reaches the peer
  }
  ASSERT_GT(state.unsent_len, 0u);
  // The send queue as a caller's memory, promised only for the restore.
  std::string borrowed(state.send_queue.view());
  state.send_queue = QueueBytes::View(
      absl::Span<const uint8_t>(
          reinterpret_cast<const uint8_t*>(borrowed.data()), borrowed.size()),
      nullptr);
  ASSERT_TRUE(state.send_queue.borrowed());
  ASSERT_OK_AND_ASSIGN(plan, PlanRestore(state));

  OwnedFd fd = NewTcpSocket(AF_INET);
  ASSERT_TRUE(fd);
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(fd.borrow()));
  ASSERT_OK(CheckRestoreTarget(paused, plan));
  ASSERT_OK(RestoreOnto(paused, plan));
  // Before the resume the unsent bytes are held back; the caller's memory
  // may go.
  EXPECT_EQ(loopback::OutqLen(fd.borrow()),
            static_cast<int>(state.outq_len - state.unsent_len));
  borrowed.assign(borrowed.size(), 'x');
  ASSERT_OK(std::move(paused).Resume());

  ASSERT_OK_AND_ASSIGN(server_got,
                       loopback::ReadExactly(pair.server.borrow(), written));
  EXPECT_TRUE(server_got == to_server.substr(0, written));
  ASSERT_OK_AND_ASSIGN(client_got,
                       loopback::ReadExactly(fd.borrow(), to_client.size()));
  EXPECT_TRUE(client_got == to_client);
}

TEST_F(CApiOperationsTest, CheckRestoreTargetWantsANewSocketOfTheFamily) {
  ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
  ConnectionState state;
  {
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
    ASSERT_OK_AND_ASSIGN(s, Checkpoint(paused));
    state = std::move(s);
  }
  ASSERT_OK_AND_ASSIGN(plan, PlanRestore(state));

  OwnedFd v6 = NewTcpSocket(AF_INET6);
  ASSERT_OK_AND_ASSIGN(paused_v6, PausedSocket::Pause(v6.borrow()));
  const absl::Status family = CheckRestoreTarget(paused_v6, plan);
  EXPECT_EQ(family.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(family.message()),
              HasSubstr("the socket is AF_INET6 but the addresses are "
                        "AF_INET"));

  // The server's socket is connected: not a target.
  ASSERT_OK_AND_ASSIGN(paused_server,
                       PausedSocket::Pause(pair.server.borrow()));
  const absl::Status used = CheckRestoreTarget(paused_server, plan);
  EXPECT_EQ(used.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(used.message()),
              HasSubstr("the socket is ESTABLISHED: a restore needs a new "
                        "socket"));
  EXPECT_THAT(std::string(used.message()),
              HasSubstr(absl::StrCat("restore ", state.local.ToString(), "->",
                                     state.peer.ToString())));

  // A new socket, bound or not, is.
  OwnedFd fresh = NewTcpSocket(AF_INET);
  ASSERT_OK_AND_ASSIGN(paused_fresh, PausedSocket::Pause(fresh.borrow()));
  EXPECT_OK(CheckRestoreTarget(paused_fresh, plan));
  OwnedFd bound = NewTcpSocket(AF_INET);
  struct sockaddr_in any = {};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(bound.get(), reinterpret_cast<struct sockaddr*>(&any),
                   sizeof(any)),
            0);
  ASSERT_OK_AND_ASSIGN(paused_bound, PausedSocket::Pause(bound.borrow()));
  EXPECT_OK(CheckRestoreTarget(paused_bound, plan));
}

TEST_F(CApiOperationsTest, AddressesOfAPausedSocket) {
  for (Family f : {Family::kV4, Family::kV6}) {
    SCOPED_TRACE(loopback::FamilyName(f));
    ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(f));
    // CLOSE_WAIT: getpeername() would still answer, and SO_PEERNAME does.
    ASSERT_EQ(::shutdown(pair.server.get(), SHUT_WR), 0);
    ASSERT_OK(loopback::WaitTcpState(pair.client.borrow(),
                                     static_cast<int>(TcpState::kCloseWait)));
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
    ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
    ASSERT_OK_AND_ASSIGN(local, LocalAddressOf(paused));
    ASSERT_OK_AND_ASSIGN(peer, PeerAddressOf(paused));
    EXPECT_EQ(local, state.local);
    EXPECT_EQ(peer, state.peer);
  }

  // A socket never connected has a local address (the wildcard) and no
  // peer: ENOTCONN, as getsockopt(SO_PEERNAME) says.
  OwnedFd fresh = NewTcpSocket(AF_INET);
  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(fresh.borrow()));
  ASSERT_OK_AND_ASSIGN(local, LocalAddressOf(paused));
  EXPECT_EQ(local.family(), AF_INET);
  EXPECT_EQ(local.port(), 0);
  const absl::StatusOr<SocketAddress> peer = PeerAddressOf(paused);
  ASSERT_FALSE(peer.ok());
  EXPECT_THAT(std::string(peer.status().message()),
              HasSubstr(absl::StrCat("get address fd ", fresh.get(),
                                     ": read peer address (SO_PEERNAME): "
                                     "getsockopt: Transport endpoint is not "
                                     "connected")));
}

// The kernel's rcv_nxt and write_seq against a checkpoint's inq_seq and
// outq_seq, with and without FINs.
TEST_F(CApiOperationsTest, KernelSeqCountsTheFinsTheKernelCounts) {
  struct Case {
    const char* name;
    bool client_shuts;
    bool server_shuts;
    TcpState want;
  };
  for (const Case& c : {
           Case{"established", false, false, TcpState::kEstablished},
           Case{"close_wait", false, true, TcpState::kCloseWait},
           Case{"fin_wait2", true, false, TcpState::kFinWait2},
       }) {
    SCOPED_TRACE(c.name);
    ASSERT_OK_AND_ASSIGN(pair, ConnectedPair(Family::kV4));
    ASSERT_OK(loopback::WriteAll(pair.server.borrow(), Pattern(1000, 3)));
    ASSERT_OK(loopback::WaitInq(pair.client.borrow(), 1000));
    if (c.client_shuts) {
      ASSERT_EQ(::shutdown(pair.client.get(), SHUT_WR), 0);
    }
    if (c.server_shuts) {
      ASSERT_EQ(::shutdown(pair.server.get(), SHUT_WR), 0);
    }
    ASSERT_OK(
        loopback::WaitTcpState(pair.client.borrow(), static_cast<int>(c.want)));
    ASSERT_OK(loopback::WaitNothingInFlight(pair.client.borrow()));
    ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
    ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused));
    ASSERT_EQ(state.state, c.want);
    const uint32_t rcv_nxt = KernelQueueSeq(paused.fd(), TCP_RECV_QUEUE);
    const uint32_t write_seq = KernelQueueSeq(paused.fd(), TCP_SEND_QUEUE);
    EXPECT_EQ(KernelInqSeq(state.state, state.inq_seq), rcv_nxt);
    EXPECT_EQ(KernelOutqSeq(state.state, state.outq_seq), write_seq);
    EXPECT_EQ(InqSeqFromKernel(state.state, rcv_nxt), state.inq_seq);
    EXPECT_EQ(OutqSeqFromKernel(state.state, write_seq), state.outq_seq);
    // The FIN is one byte of sequence space exactly where there is one.
    EXPECT_EQ(rcv_nxt - state.inq_seq, c.server_shuts ? 1u : 0u);
    EXPECT_EQ(write_seq - state.outq_seq, c.client_shuts ? 1u : 0u);
  }
}

TEST(KernelSeqTest, ConversionsAreInversesInEveryState) {
  for (int n = 0; n <= 12; ++n) {
    const TcpState s = static_cast<TcpState>(n);
    SCOPED_TRACE(n);
    for (uint32_t seq : {0u, 1u, 0x7fffffffu, 0xffffffffu}) {
      EXPECT_EQ(InqSeqFromKernel(s, KernelInqSeq(s, seq)), seq);
      EXPECT_EQ(OutqSeqFromKernel(s, KernelOutqSeq(s, seq)), seq);
    }
  }
}

}  // namespace
}  // namespace soccr
