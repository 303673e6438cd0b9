#include "soccr/restore_plan.h"

#include <netinet/tcp.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace soccr {
namespace {

using ::testing::HasSubstr;

ConnectionState ValidState() {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = SocketAddress::Loopback4(1000);
  s.peer = SocketAddress::Loopback4(2000);
  s.inq_seq = 5000;
  s.recv_queue = QueueBytes::Copy(std::string("hello"));
  s.inq_len = 5;
  s.outq_seq = 9000;
  s.send_queue = QueueBytes::Copy(std::string("0123456789"));
  s.outq_len = 10;
  s.unsent_len = 4;
  s.options = {true, true, true, 7, 9, 1460};
  s.timestamp = 123;
  s.window = TcpWindow{4990, 65535, 65535, 65535, 5000};
  return s;
}

void ExpectInvalid(const ConnectionState& s, absl::string_view field) {
  absl::StatusOr<RestorePlan> plan = PlanRestore(s);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument)
      << plan.status();
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr(field));
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("restore " + s.Endpoints() + ": "));
}

TEST(PlanRestoreTest, PlansAValidState) {
  const ConnectionState s = ValidState();
  absl::StatusOr<RestorePlan> plan = PlanRestore(s);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(CheckPlanInvariants(s, *plan).ok());
  EXPECT_EQ(plan->recv_seq, 4995u);
  EXPECT_EQ(plan->send_seq, 8990u);
  EXPECT_EQ(plan->sent_data.view(), "012345");
  EXPECT_EQ(plan->unsent_data.view(), "6789");
  EXPECT_EQ(plan->user_mss, 1460);
  ASSERT_EQ(plan->repair_options.size(), 4u);
  EXPECT_EQ(plan->repair_options[0].opt_code, TCPOPT_MAXSEG);
  EXPECT_EQ(plan->repair_options[1].opt_code, TCPOPT_WINDOW);
  EXPECT_EQ(plan->repair_options[1].opt_val, 7u | (9u << 16));
  EXPECT_EQ(plan->timestamp, 123u);
  EXPECT_TRUE(plan->window.has_value());
  EXPECT_GE(plan->min_rcvbuf, 5u);
  EXPECT_GE(plan->min_sndbuf, 10u);
}

TEST(PlanRestoreTest, CapsUserMssAtWhatTcpMaxsegAccepts) {
  ConnectionState s = ValidState();
  s.options.mss_clamp = 65495;
  absl::StatusOr<RestorePlan> plan = PlanRestore(s);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->user_mss, 32767);
  EXPECT_EQ(plan->repair_options[0].opt_val, 65495u);
}

TEST(PlanRestoreTest, RejectsQueueLengthMismatch) {
  ConnectionState s = ValidState();
  s.inq_len = 6;
  ExpectInvalid(s, "inq_len is 6 but the receive queue holds 5 bytes");
  s = ValidState();
  s.outq_len = 3;
  ExpectInvalid(s, "outq_len is 3");
  s = ValidState();
  s.unsent_len = 11;
  ExpectInvalid(s, "unsent_len 11 exceeds outq_len 10");
}

TEST(PlanRestoreTest, RejectsAbsurdOptions) {
  ConnectionState s = ValidState();
  s.options.snd_wscale = 200;
  ExpectInvalid(s, "options.snd_wscale 200 exceeds the maximum 14");
  s = ValidState();
  s.options.rcv_wscale = 15;
  ExpectInvalid(s, "options.rcv_wscale");
  s = ValidState();
  s.options.window_scaling = false;
  ExpectInvalid(s, "window scaling is off");
  s = ValidState();
  s.options.mss_clamp = 70000;
  ExpectInvalid(s, "options.mss_clamp 70000");
}

TEST(PlanRestoreTest, RejectsInconsistentWindow) {
  ConnectionState s = ValidState();
  s.window->max_window = 100;
  ExpectInvalid(s, "window.max_window 100 is below window.snd_wnd");
  s = ValidState();
  s.window->rcv_wup = 6000;
  ExpectInvalid(s, "window.rcv_wup");
  s = ValidState();
  s.window->snd_wl1 = 5000 + 65535 + 1;
  ExpectInvalid(s, "window.snd_wl1");
  s = ValidState();
  s.options.window_scaling = false;
  s.options.snd_wscale = s.options.rcv_wscale = 0;
  s.window->snd_wnd = s.window->max_window = 70000;
  ExpectInvalid(s, "window.max_window 70000 exceeds");
}

TEST(PlanRestoreTest, RejectsBadAddresses) {
  ConnectionState s = ValidState();
  s.peer = SocketAddress::Loopback6(2000);
  ExpectInvalid(s, "address family mismatch");
  s = ValidState();
  s.local = SocketAddress::LoopbackMapped(1000);
  s.peer = SocketAddress::Loopback6(2000);
  ExpectInvalid(s, "IPv4-mapped");
  s = ValidState();
  s.local = SocketAddress();
  absl::StatusOr<RestorePlan> plan = PlanRestore(s);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(plan.status().message()),
              HasSubstr("local address is missing"));
  s = ValidState();
  s.peer.set_port(0);
  ExpectInvalid(s, "peer port is 0");
}

TEST(PlanRestoreTest, RejectsUnknownAndUnrestorableStates) {
  ConnectionState s = ValidState();
  s.state = static_cast<TcpState>(42);
  ExpectInvalid(s, "state: 42 is not a TCP state");
  s.state = TcpState::kTimeWait;
  EXPECT_EQ(PlanRestore(s).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(PlanRestore(s).status().message()),
              HasSubstr("TIME_WAIT"));
  s.state = TcpState::kNewSynRecv;
  EXPECT_EQ(PlanRestore(s).status().code(), absl::StatusCode::kUnimplemented);
}

TEST(PlanRestoreTest, ValidatesSocketOptions) {
  ConnectionState s = ValidState();
  const int one = 1;
  s.socket_options.push_back(
      {SOL_TCP, TCP_NODELAY, std::string(reinterpret_cast<const char*>(&one), 4)});
  s.socket_options.push_back(
      {SOL_SOCKET, SO_REUSEADDR, std::string(reinterpret_cast<const char*>(&one), 4)});
  s.socket_options.push_back(
      {SOL_TCP, TCP_NOTSENT_LOWAT, std::string(reinterpret_cast<const char*>(&one), 4)});
  absl::StatusOr<RestorePlan> plan = PlanRestore(s);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(CheckPlanInvariants(s, *plan).ok());
  ASSERT_EQ(plan->before_bind.size(), 1u);
  EXPECT_EQ(plan->before_bind[0].name, SO_REUSEADDR);
  ASSERT_EQ(plan->in_repair.size(), 1u);
  ASSERT_EQ(plan->after_resume.size(), 1u);

  ConnectionState dup = s;
  dup.socket_options.push_back(dup.socket_options[0]);
  ExpectInvalid(dup, "TCP_NODELAY appears twice");

  ConnectionState unknown = ValidState();
  unknown.socket_options.push_back({SOL_SOCKET, SO_ATTACH_FILTER, "xxxxxxxx"});
  ExpectInvalid(unknown, "is not one soccr restores");

  ConnectionState short_value = ValidState();
  short_value.socket_options.push_back({SOL_TCP, TCP_NODELAY, "x"});
  ExpectInvalid(short_value, "TCP_NODELAY has 1 bytes, want 4");

  ConnectionState wrong_family = ValidState();
  wrong_family.socket_options.push_back(
      {SOL_IPV6, IPV6_V6ONLY, std::string(reinterpret_cast<const char*>(&one), 4)});
  ExpectInvalid(wrong_family, "IPV6_V6ONLY does not apply");
}

}  // namespace
}  // namespace soccr
