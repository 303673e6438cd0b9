#include "soccr/testing/kernel_oracle.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "soccr/fd.h"
#include "soccr/restore.h"
#include "soccr/restore_plan.h"

namespace soccr::testing {
namespace {

constexpr uint8_t kLocal6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 0, 1};
constexpr uint8_t kPeer6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,
                                0,    0,    0,    0,    0, 0, 0, 7};
constexpr uint32_t kLocal4 = 0xc0000201;  // 192.0.2.1
constexpr uint32_t kPeer4 = 0xc6336407;   // 198.51.100.7

SocketAddress Mapped(uint32_t v4, uint16_t port) {
  uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  a[12] = static_cast<uint8_t>(v4 >> 24);
  a[13] = static_cast<uint8_t>(v4 >> 16);
  a[14] = static_cast<uint8_t>(v4 >> 8);
  a[15] = static_cast<uint8_t>(v4);
  return SocketAddress::V6(a, port);
}

SocketAddress Substitute(const SocketAddress& a, bool local) {
  if (a.empty()) return a;
  const uint16_t port = a.port();
  if (a.family() == AF_INET) {
    return SocketAddress::V4(local ? kLocal4 : kPeer4, port);
  }
  if (a.is_v4_mapped()) return Mapped(local ? kLocal4 : kPeer4, port);
  return SocketAddress::V6(local ? kLocal6 : kPeer6, port);
}

// The kernel's rcv_nxt for `s`: it counts a received FIN.
uint32_t KernelRcvNxt(const ConnectionState& s) {
  const bool fin = s.state == TcpState::kCloseWait ||
                   s.state == TcpState::kLastAck ||
                   s.state == TcpState::kClosing;
  return s.inq_seq + (fin ? 1 : 0);
}

std::string Failed(absl::string_view call) {
  return absl::StrCat(call, ": ", strerror(errno));
}

// The bare repair calls for `s`, in the order a restore makes them, with
// nothing of soccr's in between: "" if the kernel took them all, else the
// call that failed. Only what the kernel checks matters here, so the
// queues stay empty (TCP_REPAIR_WINDOW checks against rcv_nxt, set as the
// state has it).
std::string KernelProbe(const ConnectionState& s) {
  if (s.local.empty()) return "no family for socket()";
  OwnedFd fd(::socket(s.local.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Failed("socket");
  const bool connection = !s.peer.empty() && s.state != TcpState::kListen;
  const int one = 1;
  if (connection &&
      ::setsockopt(fd.get(), SOL_TCP, TCP_REPAIR, &one, sizeof(one)) != 0) {
    return Failed("setsockopt(TCP_REPAIR)");
  }
  for (const SocketOption& o : s.socket_options) {
    if (::setsockopt(fd.get(), o.level, o.name, o.value.data(),
                     static_cast<socklen_t>(o.value.size())) != 0) {
      return Failed(absl::StrCat("setsockopt(", SocketOptionToString(o), ")"));
    }
  }
  if (connection) {
    const int queue = TCP_RECV_QUEUE;
    const uint32_t seq = KernelRcvNxt(s);
    if (::setsockopt(fd.get(), SOL_TCP, TCP_REPAIR_QUEUE, &queue,
                     sizeof(queue)) != 0 ||
        ::setsockopt(fd.get(), SOL_TCP, TCP_QUEUE_SEQ, &seq, sizeof(seq)) !=
            0) {
      return Failed("TCP_QUEUE_SEQ");
    }
  }
  if (s.local.port() != 0 || connection) {
    if (::bind(fd.get(), s.local.sockaddr(), s.local.length()) != 0) {
      return Failed("bind");
    }
  }
  if (!connection) return "";
  if (::connect(fd.get(), s.peer.sockaddr(), s.peer.length()) != 0) {
    return Failed("connect");
  }
  if (s.state == TcpState::kSynSent) return "";
  std::vector<struct tcp_repair_opt> opts;
  const TcpOptions& o = s.options;
  if (o.mss_clamp != 0) opts.push_back({TCPOPT_MAXSEG, o.mss_clamp});
  if (o.window_scaling || o.snd_wscale != 0 || o.rcv_wscale != 0) {
    opts.push_back({TCPOPT_WINDOW,
                    uint32_t{o.snd_wscale} | (uint32_t{o.rcv_wscale} << 16)});
  }
  if (o.sack) opts.push_back({TCPOPT_SACK_PERMITTED, 0});
  if (o.timestamps) opts.push_back({TCPOPT_TIMESTAMP, 0});
  if (!opts.empty() &&
      ::setsockopt(fd.get(), SOL_TCP, TCP_REPAIR_OPTIONS, opts.data(),
                   static_cast<socklen_t>(opts.size() * sizeof(opts[0]))) !=
          0) {
    return Failed("setsockopt(TCP_REPAIR_OPTIONS)");
  }
  if (s.window.has_value()) {
    const struct tcp_repair_window w = {s.window->snd_wl1, s.window->snd_wnd,
                                        s.window->max_window, s.window->rcv_wnd,
                                        s.window->rcv_wup};
    // The size of today's struct, given explicitly (kernel-facts.md).
    if (::setsockopt(fd.get(), SOL_TCP, TCP_REPAIR_WINDOW, &w, 20) != 0) {
      return Failed("setsockopt(TCP_REPAIR_WINDOW)");
    }
  }
  return "";
}

void CloseWithoutLinger(OwnedFd fd) {
  const struct linger l = {1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

// soccr's whole restore of `s`, resumed and closed without lingering.
absl::Status RestoreAndResume(const ConnectionState& s) {
  absl::StatusOr<RestoredSocket> restored = Restore(s);
  if (!restored.ok()) {
    return absl::Status(restored.status().code(),
                        absl::StrCat("PlanRestore accepts it, the restore "
                                     "fails: ",
                                     restored.status().ToString()));
  }
  absl::StatusOr<OwnedFd> live = std::move(*restored).Resume();
  if (!live.ok()) {
    return absl::Status(live.status().code(),
                        absl::StrCat("PlanRestore accepts it, the resume "
                                     "fails: ",
                                     live.status().ToString()));
  }
  CloseWithoutLinger(*std::move(live));
  return absl::OkStatus();
}

absl::Status Disagree(const ConnectionState& s, absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("PlanRestore and the kernel disagree: ", what,
                   "\n  state: ", s.ToString()));
}

}  // namespace

std::string OracleCounts::ToString() const {
  std::vector<std::string> parts;
  for (const auto& [rule, n] : by_rule)
    parts.push_back(absl::StrCat(rule, " ", n));
  return absl::StrCat("accepted ", accepted, ", kernel-refused ",
                      kernel_refused, ", soccr-refused ", soccr_refused, " (",
                      absl::StrJoin(parts, ", "), ")");
}

absl::Status SetUpSinkNetwork() {
  const char* const kCommands[] = {
      "ip link add sink0 type veth peer name sink1",
      "ip link set sink0 up",
      "ip link set sink1 up",
      "ip addr add 192.0.2.1/24 dev sink0",
      "ip addr add 2001:db8::1/64 dev sink0 nodad",
      "ip route add default dev sink0",
      "ip -6 route add default dev sink0",
  };
  for (const char* command : kCommands) {
    const std::string quiet = absl::StrCat(command, " 2>&1");
    const int rc = ::system(quiet.c_str());
    if (rc != 0) {
      return absl::InternalError(
          absl::StrCat("sink network: `", command, "` exited with ", rc));
    }
  }
  return absl::OkStatus();
}

ConnectionState WithSinkAddresses(ConnectionState s) {
  s.local = Substitute(s.local, /*local=*/true);
  s.peer = Substitute(s.peer, /*local=*/false);
  // Names the kernel looks up: a device and a congestion control this
  // namespace has.
  for (SocketOption& o : s.socket_options) {
    const bool odd = !o.value.empty() && (o.value[0] & 1) != 0;
    if (o.level == SOL_SOCKET && o.name == SO_BINDTODEVICE) {
      o.value = odd ? "sink0" : "";
    } else if (o.level == SOL_TCP && o.name == TCP_CONGESTION) {
      o.value = odd ? "reno" : "cubic";
    }
  }
  return s;
}

absl::Status CompareWithKernel(const ConnectionState& s, OracleCounts& counts) {
  const absl::StatusOr<RestorePlan> plan = PlanRestore(s);
  if (plan.ok()) {
    absl::Status done = RestoreAndResume(s);
    // An injected segment not processed within the restore's bound is a
    // matter of the machine's load (the softirq runs late), not of the
    // state: once more before calling it a disagreement.
    if (absl::IsUnavailable(done)) done = RestoreAndResume(s);
    if (!done.ok()) return Disagree(s, done.message());
    ++counts.accepted;
    ++counts.by_rule[absl::StrCat("accepted:", TcpStateName(s.state))];
    return absl::OkStatus();
  }
  const std::optional<RejectionRule> rule = RejectionRuleOf(plan.status());
  if (!rule.has_value()) {
    return Disagree(s, absl::StrCat("a refusal without a rule: ",
                                    plan.status().ToString()));
  }
  if (rule->source == RuleSource::kSoccr) {
    ++counts.soccr_refused;
    ++counts.by_rule[absl::StrCat("soccr:", rule->name)];
    return absl::OkStatus();
  }
  const std::string failed = KernelProbe(s);
  if (failed.empty()) {
    return Disagree(s,
                    absl::StrCat("PlanRestore refuses it by the kernel's rule ",
                                 rule->name, " (", plan.status().message(),
                                 "), but the kernel takes every call"));
  }
  ++counts.kernel_refused;
  ++counts.by_rule[absl::StrCat("kernel:", rule->name)];
  return absl::OkStatus();
}

}  // namespace soccr::testing
