#include "soccr/internal/plan_invariants.h"

#include <netinet/tcp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "soccr/internal/fin_accounting.h"
#include "soccr/internal/restore_validation.h"
#include "soccr/internal/state_step_model.h"
#include "soccr/socket_options.h"

namespace soccr::internal {

absl::Status CheckPlanInvariants(const ConnectionState& s,
                                 const RestorePlan& plan) {
  auto broken = [](absl::string_view what) {
    return absl::InternalError(absl::StrCat("restore plan invariant: ", what));
  };
  if (plan.family != AF_INET && plan.family != AF_INET6) {
    return broken("family");
  }
  if (plan.kind != RestoreKindOf(s)) return broken("kind");
  const bool connected = plan.kind == RestoreKind::kConnection ||
                         plan.kind == RestoreKind::kSynSent;
  if (plan.local.family() != plan.family ||
      (connected && plan.peer.family() != plan.family) ||
      (!connected && !plan.peer.empty())) {
    return broken("address families");
  }
  if (plan.local != s.local || plan.peer != s.peer) return broken("addresses");
  if (plan.state != s.state) return broken("state");
  if (plan.listen_backlog != (plan.kind == RestoreKind::kListen
                                  ? static_cast<int>(s.listen_backlog)
                                  : 0)) {
    return broken("listen_backlog");
  }
  if (plan.bind !=
      (plan.kind != RestoreKind::kUnconnected || s.local.port() != 0)) {
    return broken("bind");
  }
  if (plan.kind != RestoreKind::kConnection) {
    // Nothing of a connection: no queues, no repaired options or window.
    if (!plan.recv_data.empty() || !plan.sent_data.empty() ||
        !plan.unsent_data.empty() || !plan.repair_options.empty() ||
        plan.timestamp.has_value() || plan.window.has_value() ||
        plan.user_mss != 0 || plan.min_rcvbuf != 0 || plan.min_sndbuf != 0 ||
        plan.wanted_rcvbuf != 0) {
      return broken("connection data for a socket without a connection");
    }
    if (plan.kind == RestoreKind::kSynSent && plan.send_seq + 1 != s.outq_seq) {
      return broken("initial sequence number");
    }
  } else {
    if (plan.recv_data != s.recv_queue || plan.recv_data.size() != s.inq_len) {
      return broken("receive queue bytes");
    }
    if (plan.send_seq + s.outq_len != s.outq_seq) return broken("send_seq");
    if (plan.sent_data.size() + plan.unsent_data.size() != s.outq_len ||
        plan.unsent_data.size() != s.unsent_len) {
      return broken("send queue split");
    }
    if (plan.sent_data != s.send_queue.Subrange(0, plan.sent_data.size()) ||
        plan.unsent_data !=
            s.send_queue.Subrange(plan.sent_data.size(), s.unsent_len)) {
      return broken("send queue bytes");
    }
  }
  if (absl::Status st = CheckStateSteps(s, plan); !st.ok()) {
    return st;
  }
  if (plan.user_mss != 0 &&
      (plan.user_mss < kMinUserMss || plan.user_mss > kMaxUserMss)) {
    return broken("user_mss");
  }
  for (const tcp_repair_opt& opt : plan.repair_options) {
    if (opt.opt_code == TCPOPT_WINDOW &&
        ((opt.opt_val & 0xffff) > kMaxWindowScale ||
         (opt.opt_val >> 16) > kMaxWindowScale)) {
      return broken("window scale");
    }
    if (opt.opt_code == TCPOPT_MAXSEG && opt.opt_val > kMaxMssClamp) {
      return broken("mss");
    }
  }
  if (plan.window.has_value()) {
    const tcp_repair_window& w = *plan.window;
    const uint32_t rcv_nxt = KernelRcvNxt(s);
    if (w.max_window < w.snd_wnd) return broken("max_window < snd_wnd");
    if (SeqAfter(w.rcv_wup, rcv_nxt)) return broken("rcv_wup");
    if (SeqAfter(w.snd_wl1, rcv_nxt + w.rcv_wnd)) return broken("snd_wl1");
    const uint8_t shift = s.options.window_scaling ? s.options.snd_wscale : 0;
    if (plan.peer_window != std::min<uint32_t>(w.snd_wnd >> shift, 65535)) {
      return broken("peer_window");
    }
  }
  if (plan.min_rcvbuf < s.inq_len || plan.min_sndbuf < s.outq_len ||
      plan.wanted_rcvbuf < plan.min_rcvbuf) {
    return broken("buffer sizes");
  }
  size_t options = 0;
  for (const auto* phase :
       {&plan.before_bind, &plan.in_repair, &plan.after_resume}) {
    for (const SocketOption& o : *phase) {
      if (!ValidateSocketOption(o, plan.family).ok()) {
        return broken("socket option");
      }
      ++options;
    }
  }
  if (options != s.socket_options.size()) return broken("socket options");
  return absl::OkStatus();
}

}  // namespace soccr::internal
