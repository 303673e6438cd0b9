#include "soccr/restore_plan.h"

#include <errno.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/internal/plan_invariants.h"

namespace soccr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = StateStep::Kind;
using internal::CheckPlanInvariants;

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

RestorePlan PlanOk(const ConnectionState& s);

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

// The rule PlanRestore names for refusing `s`.
void ExpectRule(const ConnectionState& s, RuleSource source,
                absl::string_view name) {
  absl::StatusOr<RestorePlan> plan = PlanRestore(s);
  ASSERT_FALSE(plan.ok());
  const std::optional<RejectionRule> rule = RejectionRuleOf(plan.status());
  ASSERT_TRUE(rule.has_value()) << plan.status();
  EXPECT_EQ(rule->source, source) << plan.status();
  EXPECT_EQ(rule->name, name) << plan.status();
}

TEST(PlanRestoreTest, RejectsAbsurdOptions) {
  ConnectionState s = ValidState();
  s.options.snd_wscale = 200;
  ExpectInvalid(s, "options.snd_wscale 200 exceeds the maximum 14");
  ExpectRule(s, RuleSource::kKernel, "tcp_repair_options_est");
  s = ValidState();
  s.options.rcv_wscale = 15;
  ExpectInvalid(s, "options.rcv_wscale");
  s = ValidState();
  s.options.window_scaling = false;
  ExpectInvalid(s, "window scaling is off");
  ExpectRule(s, RuleSource::kSoccr, "window scale");
  s = ValidState();
  s.options.mss_clamp = 70000;
  ExpectInvalid(s, "options.mss_clamp 70000");
  ExpectRule(s, RuleSource::kSoccr, "mss");
}

// A peer's SYN may advertise any MSS, and the kernel's TCP_REPAIR_OPTIONS
// takes any clamp: tcp_min_snd_mss bounds the segments sent, not the clamp.
TEST(PlanRestoreTest, AcceptsAnyMssClampTheKernelStores) {
  for (uint32_t clamp : {1u, 47u, 48u, 87u, 88u, 65535u}) {
    ConnectionState s = ValidState();
    s.options.mss_clamp = clamp;
    RestorePlan p = PlanOk(s);
    EXPECT_EQ(p.repair_options[0].opt_code, TCPOPT_MAXSEG);
    EXPECT_EQ(p.repair_options[0].opt_val, clamp);
    // TCP_MAXSEG refuses less than 88 (TCP_MIN_MSS): left to the default.
    EXPECT_EQ(p.user_mss, clamp < 88 ? 0 : std::min<int>(clamp, 32767));
  }
}

TEST(PlanRestoreTest, RejectsInconsistentWindow) {
  ConnectionState s = ValidState();
  s.window->max_window = 100;
  ExpectInvalid(s, "window.max_window 100 is below window.snd_wnd");
  ExpectRule(s, RuleSource::kKernel, "tcp_repair_set_window");
  s = ValidState();
  s.window->rcv_wup = 6000;
  ExpectInvalid(s, "window.rcv_wup");
  ExpectRule(s, RuleSource::kKernel, "tcp_repair_set_window");
  s = ValidState();
  s.window->snd_wl1 = 5000 + 65535 + 1;
  ExpectInvalid(s, "window.snd_wl1");
  ExpectRule(s, RuleSource::kKernel, "tcp_repair_set_window");
}

// tcp_select_window() keeps rcv_wnd beyond what the scale can advertise
// when the buffer grew after the handshake; tcp_repair_set_window() relates
// nothing to the scales. Figures seen on Linux 6.18 (issue 11).
TEST(PlanRestoreTest, AcceptsWindowsBeyondWhatTheScaleExpresses) {
  ConnectionState s = ValidState();
  s.options.rcv_wscale = 10;
  s.window->rcv_wnd = 100975616;
  PlanOk(s);

  s = ValidState();
  s.options.window_scaling = false;
  s.options.snd_wscale = s.options.rcv_wscale = 0;
  s.window->rcv_wnd = 67054592;
  s.window->snd_wnd = s.window->max_window = 70000;
  const RestorePlan p = PlanOk(s);
  EXPECT_EQ(p.window->rcv_wnd, 67054592u);
  EXPECT_EQ(p.window->max_window, 70000u);
  // What the injected segments advertise stays within the 16-bit field.
  EXPECT_EQ(p.peer_window, 65535);
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
  ExpectRule(s, RuleSource::kSoccr, "address");
  s = ValidState();
  s.peer = SocketAddress::Loopback6(2000);
  ExpectRule(s, RuleSource::kKernel, "tcp_v4_connect");
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
      {SOL_TCP, TCP_NODELAY,
       std::string(reinterpret_cast<const char*>(&one), 4)});
  s.socket_options.push_back(
      {SOL_SOCKET, SO_REUSEADDR,
       std::string(reinterpret_cast<const char*>(&one), 4)});
  s.socket_options.push_back(
      {SOL_TCP, TCP_NOTSENT_LOWAT,
       std::string(reinterpret_cast<const char*>(&one), 4)});
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
      {SOL_IPV6, IPV6_V6ONLY,
       std::string(reinterpret_cast<const char*>(&one), 4)});
  ExpectInvalid(wrong_family, "IPV6_V6ONLY does not apply");
  ExpectRule(wrong_family, RuleSource::kKernel, "ip_setsockopt");
}

std::string IntValue(int v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(v));
}

// The values the kernel's setters refuse, and only those (the differential
// test, kernel_oracle_test, checks the same against the kernel itself).
TEST(PlanRestoreTest, ChecksSocketOptionValuesAsTheKernelDoes) {
  ConnectionState s = ValidState();
  s.socket_options.push_back({SOL_TCP, TCP_KEEPIDLE, IntValue(0)});
  ExpectInvalid(s, "TCP_KEEPIDLE=0 is outside [1, 32767]");
  ExpectRule(s, RuleSource::kKernel, "tcp_sock_set_keepidle_locked");
  s.socket_options[0].value = IntValue(32767);
  PlanOk(s);

  s = ValidState();
  s.socket_options.push_back({SOL_IP, IP_TTL, IntValue(0)});
  ExpectRule(s, RuleSource::kKernel, "do_ip_setsockopt");
  s.socket_options[0].value = IntValue(-1);  // the default
  PlanOk(s);

  s = ValidState();
  struct timeval t = {5, 1000000};
  s.socket_options.push_back(
      {SOL_SOCKET, SO_RCVTIMEO,
       std::string(reinterpret_cast<const char*>(&t), sizeof(t))});
  ExpectRule(s, RuleSource::kKernel, "sock_set_timeout");

  // Any value at all where the kernel takes any.
  s = ValidState();
  s.socket_options.push_back({SOL_TCP, TCP_NODELAY, IntValue(-12345)});
  s.socket_options.push_back({SOL_SOCKET, SO_MARK, IntValue(-1)});
  PlanOk(s);
}

TEST(PlanRestoreTest, RejectsAMappedAddressOnAnIpv6OnlySocket) {
  ConnectionState s = ValidState();
  s.local = SocketAddress::LoopbackMapped(1000);
  s.peer = SocketAddress::LoopbackMapped(2000);
  PlanOk(s);
  s.socket_options.push_back({SOL_IPV6, IPV6_V6ONLY, IntValue(1)});
  ExpectRule(s, RuleSource::kKernel, "__inet6_bind");
}

// Options and windows only reach the kernel for a connection.
TEST(PlanRestoreTest, IgnoresWhatTheKernelNeverSeesOfASynSentSocket) {
  ConnectionState s;
  s.state = TcpState::kSynSent;
  s.local = SocketAddress::Loopback4(1000);
  s.peer = SocketAddress::Loopback4(2000);
  s.options.snd_wscale = 97;
  PlanOk(s);
}

// A valid state of `state`, with unsent data or not.
ConnectionState StateIn(TcpState state, bool unsent) {
  ConnectionState s = ValidState();
  s.state = state;
  if (!unsent) s.unsent_len = 0;
  // The saved window counts a received FIN in rcv_wup.
  if (state == TcpState::kCloseWait || state == TcpState::kLastAck ||
      state == TcpState::kClosing) {
    s.window->rcv_wup = s.inq_seq + 1;
  }
  return s;
}

RestorePlan PlanOk(const ConnectionState& s) {
  absl::StatusOr<RestorePlan> plan = PlanRestore(s);
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (!plan.ok()) return RestorePlan();
  const absl::Status inv = CheckPlanInvariants(s, *plan);
  EXPECT_TRUE(inv.ok()) << inv;
  return *plan;
}

std::vector<Kind> Kinds(const std::vector<StateStep>& steps) {
  std::vector<Kind> out;
  for (const StateStep& s : steps) out.push_back(s.kind);
  return out;
}

TEST(PlanRestoreTest, OurFinGoesAfterUnsentData) {
  RestorePlan p = PlanOk(StateIn(TcpState::kFinWait1, false));
  EXPECT_THAT(Kinds(p.repair_steps), ElementsAre(Kind::kShutdownWrite));
  EXPECT_TRUE(p.resume_steps.empty());
  p = PlanOk(StateIn(TcpState::kFinWait1, true));
  EXPECT_TRUE(p.repair_steps.empty());
  EXPECT_THAT(Kinds(p.resume_steps), ElementsAre(Kind::kShutdownWrite));
  EXPECT_EQ(p.unsent_data.view(), "6789");

  p = PlanOk(StateIn(TcpState::kLastAck, false));
  EXPECT_THAT(Kinds(p.repair_steps),
              ElementsAre(Kind::kPeerFin, Kind::kShutdownWrite));
  p = PlanOk(StateIn(TcpState::kLastAck, true));
  EXPECT_THAT(Kinds(p.repair_steps), ElementsAre(Kind::kPeerFin));
  EXPECT_THAT(Kinds(p.resume_steps), ElementsAre(Kind::kShutdownWrite));

  // CLOSING: our FIN came first, so the peer's follows it, after the data.
  p = PlanOk(StateIn(TcpState::kClosing, false));
  EXPECT_THAT(Kinds(p.repair_steps),
              ElementsAre(Kind::kShutdownWrite, Kind::kPeerFin));
  EXPECT_EQ(p.repair_steps[1].state_after, TcpState::kClosing);
  p = PlanOk(StateIn(TcpState::kClosing, true));
  EXPECT_TRUE(p.repair_steps.empty());
  EXPECT_THAT(Kinds(p.resume_steps),
              ElementsAre(Kind::kShutdownWrite, Kind::kPeerFin));
}

TEST(PlanRestoreTest, InjectedSegmentsHaveTheRightNumbers) {
  ConnectionState s = StateIn(TcpState::kCloseWait, true);
  RestorePlan p = PlanOk(s);
  ASSERT_EQ(p.repair_steps.size(), 1u);
  // The FIN right after the data, acknowledging only what was acknowledged.
  EXPECT_EQ(p.repair_steps[0].seq, 5000u);
  EXPECT_EQ(p.repair_steps[0].ack, 8990u);
  EXPECT_EQ(p.recv_seq, 4995u);
  EXPECT_EQ(p.peer_window, 65535 >> 7);

  s = StateIn(TcpState::kFinWait2, false);
  s.send_queue = QueueBytes();
  s.outq_len = 0;
  p = PlanOk(s);
  ASSERT_EQ(p.repair_steps.size(), 2u);
  EXPECT_EQ(p.repair_steps[1].kind, Kind::kPeerAckOfFin);
  EXPECT_EQ(p.repair_steps[1].ack, 9001u) << "our FIN is 9000";
  EXPECT_EQ(p.repair_steps[1].state_after, TcpState::kFinWait2);
}

TEST(PlanRestoreTest, ClosedConnectionsGetTheirPendingError) {
  ConnectionState s = StateIn(TcpState::kClose, false);
  s.send_queue = QueueBytes();
  s.outq_len = 0;
  RestorePlan p = PlanOk(s);
  EXPECT_THAT(Kinds(p.repair_steps),
              ElementsAre(Kind::kPeerReset, Kind::kClearError));
  EXPECT_EQ(p.repair_steps[0].seq, 5000u);

  s.pending_error = ECONNRESET;
  p = PlanOk(s);
  EXPECT_THAT(Kinds(p.repair_steps), ElementsAre(Kind::kPeerReset));

  // EPIPE is what a reset in CLOSE_WAIT leaves: the FIN came first, and
  // the kernel's rcv_nxt (inq_seq) counts it.
  s.pending_error = EPIPE;
  p = PlanOk(s);
  EXPECT_THAT(Kinds(p.repair_steps),
              ElementsAre(Kind::kPeerFin, Kind::kPeerReset));
  EXPECT_EQ(p.recv_seq, 4994u);
  EXPECT_EQ(p.repair_steps[0].seq, 4999u);
  EXPECT_EQ(p.repair_steps[1].seq, 5000u);

  s.pending_error = ETIMEDOUT;
  absl::StatusOr<RestorePlan> bad = PlanRestore(s);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("pending_error 110"));
}

TEST(PlanRestoreTest, SocketsWithoutAConnection) {
  ConnectionState syn;
  syn.state = TcpState::kSynSent;
  syn.local = SocketAddress::Loopback6(1000);
  syn.peer = SocketAddress::Loopback6(2000);
  syn.outq_seq = 0;  // ISN 0xffffffff
  RestorePlan p = PlanOk(syn);
  EXPECT_EQ(p.kind, RestoreKind::kSynSent);
  EXPECT_EQ(p.send_seq, 0xffffffffu);

  ConnectionState listen;
  listen.state = TcpState::kListen;
  listen.local = SocketAddress::Loopback4(80);
  listen.listen_backlog = 128;
  p = PlanOk(listen);
  EXPECT_EQ(p.kind, RestoreKind::kListen);
  EXPECT_EQ(p.listen_backlog, 128);
  EXPECT_TRUE(p.bind);

  ConnectionState unbound;
  unbound.state = TcpState::kClose;
  unbound.local = SocketAddress::Loopback4(0);
  p = PlanOk(unbound);
  EXPECT_EQ(p.kind, RestoreKind::kUnconnected);
  EXPECT_FALSE(p.bind);
}

TEST(PlanRestoreTest, RejectsInconsistentStates) {
  ConnectionState s = ValidState();
  s.pending_error = ECONNRESET;
  ExpectInvalid(s, "pending_error is 104 but only a closed connection");
  s = ValidState();
  s.listen_backlog = 5;
  ExpectInvalid(s, "listen_backlog is 5 but the socket is not listening");
  s = StateIn(TcpState::kFinWait2, false);
  ExpectInvalid(s, "outq_len is 10 in FIN_WAIT2");
  s = StateIn(TcpState::kClose, false);
  ExpectInvalid(s, "closed connection sends nothing more");
  s = ValidState();
  s.state = TcpState::kListen;
  ExpectInvalid(s, "has no peer address");
  s.peer = SocketAddress();
  ExpectInvalid(s, "has no queued data");
  s = ValidState();
  s.state = TcpState::kSynSent;
  ExpectInvalid(s, "SYN_SENT socket has no queued data");
  // A window with rcv_wup past the FIN is only right once the FIN is in.
  s = ValidState();
  s.window->rcv_wup = s.inq_seq + 1;
  ExpectInvalid(s, "window.rcv_wup");
}

TEST(CheckPlanInvariantsTest, CatchesStepsThatDoNotReachTheState) {
  const ConnectionState s = StateIn(TcpState::kClosing, false);
  const RestorePlan good = PlanOk(s);

  RestorePlan p = good;
  std::swap(p.repair_steps[0], p.repair_steps[1]);  // LAST_ACK, not CLOSING
  EXPECT_EQ(CheckPlanInvariants(s, p).code(), absl::StatusCode::kInternal);

  p = good;
  p.repair_steps[1].seq += 1;  // out of order: the kernel would not take it
  EXPECT_EQ(CheckPlanInvariants(s, p).code(), absl::StatusCode::kInternal);

  p = good;
  p.repair_steps[1].ack += 1;  // would acknowledge unacknowledged data
  EXPECT_EQ(CheckPlanInvariants(s, p).code(), absl::StatusCode::kInternal);

  // Our FIN before data that was never sent.
  const ConnectionState u = StateIn(TcpState::kFinWait1, true);
  p = PlanOk(u);
  p.repair_steps = p.resume_steps;
  p.resume_steps.clear();
  EXPECT_EQ(CheckPlanInvariants(u, p).code(), absl::StatusCode::kInternal);

  ConnectionState c = StateIn(TcpState::kClose, false);
  c.send_queue = QueueBytes();
  c.outq_len = 0;
  p = PlanOk(c);
  p.repair_steps.pop_back();  // the reset's error would stay
  EXPECT_EQ(CheckPlanInvariants(c, p).code(), absl::StatusCode::kInternal);
}

// Every state PlanRestore accepts gives a plan whose invariants hold.
TEST(CheckPlanInvariantsTest, HoldForRandomStatesThePlannerAccepts) {
  std::mt19937_64 rng(42);
  auto pick = [&](uint64_t n) { return rng() % n; };
  const uint32_t errors[] = {0, ECONNRESET, EPIPE, ETIMEDOUT};
  const std::string bytes(64, 'q');
  size_t accepted = 0;
  size_t per_state[16] = {};
  for (int i = 0; i < 200000; ++i) {
    ConnectionState s;
    s.state = static_cast<TcpState>(pick(14));
    // Edge sequence numbers near the wrap, or anywhere.
    auto seq = [&] {
      return pick(2) ? static_cast<uint32_t>(rng())
                     : static_cast<uint32_t>(pick(8)) - 4;
    };
    const bool v6 = pick(2);
    const uint16_t lport = static_cast<uint16_t>(pick(3));
    s.local = pick(8) == 0 ? SocketAddress()
              : v6         ? SocketAddress::Loopback6(lport)
                           : SocketAddress::Loopback4(lport);
    s.peer = pick(3) == 0 ? SocketAddress()
             : v6         ? SocketAddress::Loopback6(7)
                          : SocketAddress::Loopback4(7);
    s.inq_seq = seq();
    s.outq_seq = seq();
    if (pick(2)) {
      s.inq_len = static_cast<uint32_t>(pick(5));
      s.recv_queue = QueueBytes::Copy(bytes.substr(0, s.inq_len));
    }
    if (pick(2)) {
      s.outq_len = static_cast<uint32_t>(pick(5));
      s.send_queue = QueueBytes::Copy(bytes.substr(0, s.outq_len));
      s.unsent_len = static_cast<uint32_t>(pick(s.outq_len + 1));
    }
    s.options.window_scaling = pick(2);
    if (s.options.window_scaling) {
      s.options.snd_wscale = static_cast<uint8_t>(pick(15));
      s.options.rcv_wscale = static_cast<uint8_t>(pick(15));
    }
    s.options.timestamps = pick(2);
    s.options.mss_clamp =
        static_cast<uint32_t>(pick(3) == 0 ? pick(100) : 1460);
    if (pick(2)) {
      TcpWindow w;
      w.snd_wnd = static_cast<uint32_t>(pick(2) ? pick(1 << 20) : rng() >> 1);
      w.max_window = w.snd_wnd + static_cast<uint32_t>(pick(3));
      // Any window: the kernel relates none of them to the scales.
      w.rcv_wnd = pick(2) ? static_cast<uint32_t>(pick(3) * 1000)
                          : static_cast<uint32_t>(rng());
      w.rcv_wup = s.inq_seq + static_cast<uint32_t>(pick(3)) - 1;
      w.snd_wl1 = s.inq_seq + static_cast<uint32_t>(pick(3)) - 1;
      s.window = w;
    }
    s.pending_error = pick(3) ? 0 : errors[pick(4)];
    s.listen_backlog = pick(3) ? 0 : static_cast<uint32_t>(pick(200));
    absl::StatusOr<RestorePlan> plan = PlanRestore(s);
    if (!plan.ok()) continue;
    ++accepted;
    ++per_state[static_cast<int>(s.state)];
    const absl::Status inv = CheckPlanInvariants(s, *plan);
    ASSERT_TRUE(inv.ok()) << inv << " for " << s.ToString();
  }
  // The generator reaches every restorable state, not just a few.
  EXPECT_GT(accepted, 10000u);
  for (TcpState st :
       {TcpState::kEstablished, TcpState::kSynSent, TcpState::kFinWait1,
        TcpState::kFinWait2, TcpState::kClose, TcpState::kCloseWait,
        TcpState::kLastAck, TcpState::kListen, TcpState::kClosing}) {
    EXPECT_GT(per_state[static_cast<int>(st)], 100u) << TcpStateName(st);
  }
}

}  // namespace
}  // namespace soccr
