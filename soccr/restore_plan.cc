#include "soccr/restore_plan.h"

#include <netinet/tcp.h>

#include <algorithm>

#include "soccr/internal/error_context.h"
#include "soccr/internal/queue_buffer_size.h"
#include "soccr/internal/restore_validation.h"
#include "soccr/internal/state_step_planner.h"

namespace soccr {
namespace {

using internal::BufferSizeForQueue;
using internal::kMaxUserMss;
using internal::kMinUserMss;
using internal::SendBufferSizeForQueue;

// TCP_MSS_DEFAULT: below this window the kernel does not halve segments.
constexpr uint32_t kDefaultMss = 536;
// The timestamp option, aligned.
constexpr uint32_t kTimestampBytes = 12;

// The socket options, in table order whatever order the state lists them
// in, by the phase of the restore that sets them.
void PlanSocketOptions(const ConnectionState& s, RestorePlan& plan) {
  for (const SockOptSpec& spec : SocketOptionTable()) {
    for (const SocketOption& o : s.socket_options) {
      if (o.level != spec.level || o.name != spec.name) continue;
      switch (spec.phase) {
        case SockOptPhase::kBeforeBind:
          plan.before_bind.push_back(o);
          break;
        case SockOptPhase::kInRepair:
          plan.in_repair.push_back(o);
          break;
        case SockOptPhase::kAfterResume:
          plan.after_resume.push_back(o);
          break;
      }
    }
  }
}

// TCP_MAXSEG for before connect(): the peer's MSS, within what the option
// accepts, and no more than half the largest window the peer has offered.
// The kernel never sizes segments above that half (tcp_bound_to_half_wnd),
// but connect() applies the bound before the restored window exists; a
// segment size above the window would leave the sender unable to send a
// full segment, crawling at the pace of zero-window probes.
int UserMss(const ConnectionState& s) {
  const uint32_t clamp = s.options.mss_clamp;
  if (clamp < static_cast<uint32_t>(kMinUserMss)) return 0;
  uint32_t mss = std::min<uint32_t>(clamp, kMaxUserMss);
  if (s.window.has_value() && s.window->max_window > kDefaultMss) {
    // connect() reserves the 12 bytes of a timestamp option in the segment
    // size (with net.ipv4.tcp_timestamps on), so this gives segments of
    // exactly half the window, as the original had.
    mss = std::min<uint32_t>(mss, s.window->max_window / 2 + kTimestampBytes);
  }
  return static_cast<int>(std::max<uint32_t>(mss, kMinUserMss));
}

}  // namespace

absl::StatusOr<RestorePlan> PlanRestore(const ConnectionState& s) {
  const internal::ErrorContext ctx("restore", s.local, s.peer);
  if (absl::Status st = internal::ValidateForRestore(s, ctx); !st.ok()) {
    return st;
  }
  const RestoreKind kind = internal::RestoreKindOf(s);

  RestorePlan plan;
  plan.kind = kind;
  plan.family = s.local.family();
  plan.state = s.state;
  plan.local = s.local;
  plan.peer = s.peer;
  plan.final_buffers = s.buffers;
  PlanSocketOptions(s, plan);
  switch (kind) {
    case RestoreKind::kListen:
      plan.listen_backlog = static_cast<int>(s.listen_backlog);
      return plan;
    case RestoreKind::kUnconnected:
      plan.bind = s.local.port() != 0;
      return plan;
    case RestoreKind::kSynSent:
      // connect() sends its SYN with write_seq as the sequence number and
      // counts the SYN; data would start at outq_seq.
      plan.send_seq = s.outq_seq - 1;
      return plan;
    case RestoreKind::kConnection:
      break;
  }

  plan.send_seq = s.outq_seq - s.outq_len;
  plan.recv_data = s.recv_queue;
  const uint32_t sent_len = s.outq_len - s.unsent_len;
  plan.sent_data = s.send_queue.Subrange(0, sent_len);
  plan.unsent_data = s.send_queue.Subrange(sent_len, s.unsent_len);
  // recv_seq too: it depends on the FINs.
  internal::PlanStateSteps(s, plan);

  const TcpOptions& o = s.options;
  if (o.mss_clamp != 0) {
    plan.repair_options.push_back({TCPOPT_MAXSEG, o.mss_clamp});
    plan.user_mss = UserMss(s);
  }
  if (o.window_scaling) {
    plan.repair_options.push_back(
        {TCPOPT_WINDOW,
         uint32_t{o.snd_wscale} | (uint32_t{o.rcv_wscale} << 16)});
  }
  plan.unscaled_window = !o.window_scaling;
  if (o.sack) plan.repair_options.push_back({TCPOPT_SACK_PERMITTED, 0});
  if (o.timestamps) {
    plan.repair_options.push_back({TCPOPT_TIMESTAMP, 0});
    plan.timestamp = s.timestamp;
  }
  const uint8_t snd_shift = o.window_scaling ? o.snd_wscale : 0;
  plan.peer_window = static_cast<uint16_t>(65535 >> snd_shift);
  if (s.window.has_value()) {
    const TcpWindow& w = *s.window;
    plan.window = tcp_repair_window{w.snd_wl1, w.snd_wnd, w.max_window,
                                    w.rcv_wnd, w.rcv_wup};
    plan.peer_window = static_cast<uint16_t>(
        std::min<uint32_t>(w.snd_wnd >> snd_shift, 65535));
  }
  plan.min_rcvbuf = BufferSizeForQueue(s.inq_len);
  plan.min_sndbuf = SendBufferSizeForQueue(plan.sent_data.size(),
                                           plan.unsent_data.size(), s.window);
  plan.wanted_rcvbuf = plan.min_rcvbuf;
  if (s.buffers.has_value()) {
    plan.wanted_rcvbuf =
        std::max<uint64_t>(plan.wanted_rcvbuf, s.buffers->rcvbuf);
  } else if (s.window.has_value()) {
    // Size unknown: room for the queue and twice the window offered, the
    // kernel's usual ratio of buffer to window.
    plan.wanted_rcvbuf = std::max<uint64_t>(
        plan.wanted_rcvbuf,
        BufferSizeForQueue(s.inq_len) + 2 * uint64_t{s.window->rcv_wnd});
  }
  return plan;
}

absl::string_view StateStepName(StateStep::Kind kind) {
  switch (kind) {
    case StateStep::Kind::kShutdownWrite:
      return "shutdown(SHUT_WR)";
    case StateStep::Kind::kPeerFin:
      return "the peer's FIN";
    case StateStep::Kind::kPeerAckOfFin:
      return "the peer's ACK of our FIN";
    case StateStep::Kind::kPeerReset:
      return "the peer's reset";
    case StateStep::Kind::kClearError:
      return "clear the socket error";
  }
  return "unknown step";
}

}  // namespace soccr
