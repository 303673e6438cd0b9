#include "soccr/restore_plan.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/state_steps.h"
#include "soccr/restore_plan.h"

namespace soccr {
namespace {

// The kernel's TCP_MIN_MSS: TCP_MAXSEG refuses anything smaller.
constexpr int kMinUserMss = 88;
// The largest TCP_MAXSEG accepts (MAX_TCP_WINDOW).
constexpr int kMaxUserMss = 32767;
// TCP_MSS_DEFAULT: below this window the kernel does not halve segments.
constexpr uint32_t kDefaultMss = 536;
// The timestamp option, aligned.
constexpr uint32_t kTimestampBytes = 12;
// Data per skb: at most 64 KiB (a TSO/GSO super-segment, or 17 pages when
// written into a receive queue in repair mode), at least TCP_MIN_SND_MSS.
constexpr uint64_t kLargeSkbPayload = 65536;
constexpr uint64_t kMinSkbPayload = 48;
// The kernel keeps mss_clamp in a u16 (tcp_options_received): a larger
// TCPOPT_MSS value would be truncated without an error.
constexpr uint32_t kMaxMssClamp = 65535;

// The status payload that carries a refusal's rule: "kernel:<function>" or
// "soccr:<invariant>".
constexpr absl::string_view kRulePayload = "soccr.dev/restore-plan-rule";

// Sequence-space comparison: a is after b.
bool SeqAfter(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(b - a) < 0;
}

RestoreKind KindOf(const ConnectionState& s) {
  switch (s.state) {
    case TcpState::kListen:
      return RestoreKind::kListen;
    case TcpState::kSynSent:
      return RestoreKind::kSynSent;
    case TcpState::kClose:
      return s.peer.empty() ? RestoreKind::kUnconnected
                            : RestoreKind::kConnection;
    default:
      return RestoreKind::kConnection;
  }
}

// Every refusal goes through one of these two, so that it names its rule.
// `kernel_check`: the kernel function whose check the rule mirrors.
class Refuser {
 public:
  explicit Refuser(const internal::ErrorContext& ctx) : ctx_(ctx) {}

  absl::Status Kernel(
      absl::string_view kernel_check, absl::string_view what,
      absl::StatusCode code = absl::StatusCode::kInvalidArgument) const {
    return Tag(ctx_.Error(code, what), absl::StrCat("kernel:", kernel_check));
  }
  absl::Status Soccr(
      absl::string_view invariant, absl::string_view what,
      absl::StatusCode code = absl::StatusCode::kInvalidArgument) const {
    return Tag(ctx_.Error(code, what), absl::StrCat("soccr:", invariant));
  }

 private:
  static absl::Status Tag(absl::Status st, absl::string_view rule) {
    st.SetPayload(kRulePayload, absl::Cord(rule));
    return st;
  }
  const internal::ErrorContext& ctx_;
};

// Why a closed socket's pending error `err` is beyond a restore that may
// not send: which kernel path sets it, and what recreating it would take.
std::string WhyNotRecreated(uint32_t err) {
  switch (err) {
    case ETIMEDOUT:
      return "only the retransmission, keepalive and SYN timers set it "
             "(tcp_write_err), after the socket sent to the peer";
    case ECONNABORTED:
      return "tcp_abort (sock_diag SOCK_DESTROY) sets it, and "
             "tcp_disconnect in repair mode, which purges the receive queue "
             "and forgets the peer";
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENONET:
    case ENOPROTOOPT:
    case EPROTO:
    case EACCES:
    case EMSGSIZE:
    case EOPNOTSUPP:
      return "ICMP errors set it (tcp_v4_err, tcp_v6_err): closing the "
             "socket at once only in SYN_SENT, which a restore reaches only "
             "by sending the SYN; on a connected socket they set it without "
             "closing, and the only ways on to CLOSE that keep it (the "
             "peer's FIN, then its ACK of ours) make reads end with "
             "end-of-file before the error, which this state does not say "
             "the original did";
    default:
      return "no kernel path sets it on a TCP socket that a restore can "
             "take";
  }
}

absl::Status CheckState(const ConnectionState& s, const Refuser& refuse) {
  const uint32_t value = static_cast<uint32_t>(s.state);
  // soccr: the state picks the restore procedure (KindOf, the state steps);
  // the kernel reports no other numbers.
  if (!IsKnownTcpState(value)) {
    return refuse.Soccr("state",
                        absl::StrCat("state: ", value, " is not a TCP state"));
  }
  switch (s.state) {
    // soccr: repair mode's connect() makes a socket ESTABLISHED at once
    // (tcp_connect() calls tcp_finish_connect() in repair mode), and a
    // descriptor never sees TIME_WAIT (tcp_time_wait() hands the connection
    // to a timewait socket and closes the descriptor's socket): no sequence
    // of repair calls and injected segments reaches these.
    case TcpState::kTimeWait:
      return refuse.Soccr("state",
                          absl::StrCat("TIME_WAIT connections cannot be "
                                       "restored: the kernel's repair "
                                       "interface cannot recreate one"),
                          absl::StatusCode::kUnimplemented);
    case TcpState::kSynRecv:
    case TcpState::kNewSynRecv:
      return refuse.Soccr(
          "state",
          absl::StrCat(TcpStateName(s.state),
                       " connections (still in a listener's accept queue) "
                       "cannot be restored: the kernel's repair interface "
                       "cannot recreate them"),
          absl::StatusCode::kUnimplemented);
    default:
      break;
  }
  const bool closed_connection = s.state == TcpState::kClose && !s.peer.empty();
  // soccr: only a closed connection's error is recreated (by the state
  // steps); for any other socket the field would be dropped.
  if (s.pending_error != 0 && !closed_connection) {
    return refuse.Soccr(
        "pending error",
        absl::StrCat("pending_error is ", s.pending_error,
                     " but only a "
                     "closed connection (CLOSE with a peer) carries one"));
  }
  // soccr: the restore makes the kernel set the error by injecting a
  // reset, and tcp_reset() only ever sets ECONNRESET or EPIPE (ECONNREFUSED
  // in SYN_SENT). Why each other error cannot be recreated without sending
  // to the peer (docs/tcp-states.md):
  if (closed_connection && s.pending_error != 0 &&
      s.pending_error != ECONNRESET && s.pending_error != EPIPE) {
    return refuse.Soccr(
        "pending error",
        absl::StrCat("pending_error ", s.pending_error, " (",
                     strerror(static_cast<int>(s.pending_error)),
                     ") cannot be recreated without sending to the peer: ",
                     WhyNotRecreated(s.pending_error),
                     "; clear pending_error to restore the socket without it"),
        absl::StatusCode::kUnimplemented);
  }
  // soccr: the backlog is a listener's; elsewhere it would be dropped.
  if (s.state != TcpState::kListen && s.listen_backlog != 0) {
    return refuse.Soccr("listen backlog",
                        absl::StrCat("listen_backlog is ", s.listen_backlog,
                                     " but the socket is not listening"));
  }
  // soccr: listen() takes an int.
  if (s.listen_backlog > INT_MAX) {
    return refuse.Soccr("listen backlog",
                        absl::StrCat("listen_backlog ", s.listen_backlog,
                                     " exceeds ", INT_MAX));
  }
  return absl::OkStatus();
}

const char* FamilyName(const SocketAddress& a) {
  return a.family() == AF_INET ? "IPv4" : "IPv6";
}

// kernel: __inet6_bind() refuses an IPv4-mapped address on an IPv6-only
// socket (EINVAL). Only for a socket a restore binds.
absl::Status CheckV6OnlyBind(const ConnectionState& s, const Refuser& refuse) {
  if (!s.local.is_v4_mapped()) return absl::OkStatus();
  for (const SocketOption& o : s.socket_options) {
    int v = 0;
    if (o.level == SOL_IPV6 && o.name == IPV6_V6ONLY &&
        o.value.size() == sizeof(v)) {
      memcpy(&v, o.value.data(), sizeof(v));
      if (v != 0) {
        return refuse.Kernel("__inet6_bind",
                             "IPV6_V6ONLY is set, but the local address is "
                             "IPv4-mapped");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckAddresses(const ConnectionState& s, RestoreKind kind,
                            const Refuser& refuse) {
  // soccr: socket() needs the family, bind() the address.
  if (s.local.empty()) {
    return refuse.Soccr("address", "local address is missing");
  }
  if (kind == RestoreKind::kListen || kind == RestoreKind::kUnconnected) {
    // soccr: such a socket is restored without connect(); the peer would
    // be dropped.
    if (!s.peer.empty()) {
      return refuse.Soccr(
          "address", absl::StrCat("a ", TcpStateName(s.state),
                                  " socket without a connection has no peer "
                                  "address, but peer is ",
                                  s.peer.ToString()));
    }
    // soccr: bind() to port 0 picks a port: the listener would not be where
    // the state says.
    if (kind == RestoreKind::kListen && s.local.port() == 0) {
      return refuse.Soccr("address",
                          "local port is 0, but a listening socket is bound");
    }
    if (s.local.port() == 0) return absl::OkStatus();  // not bound
    return CheckV6OnlyBind(s, refuse);
  }
  // soccr: connect() needs it.
  if (s.peer.empty()) return refuse.Soccr("address", "peer address is missing");
  // kernel: tcp_v4_connect() and tcp_v6_connect() refuse a peer of another
  // family (EAFNOSUPPORT) ...
  if (s.local.family() != s.peer.family()) {
    return refuse.Kernel(
        "tcp_v4_connect",
        absl::StrCat("address family mismatch: local is ", FamilyName(s.local),
                     ", peer is ", FamilyName(s.peer)));
  }
  // ... and tcp_v6_connect() an IPv4-mapped peer from a native IPv6 address
  // (ENETUNREACH) or the other way round (EAFNOSUPPORT).
  if (s.local.is_v4_mapped() != s.peer.is_v4_mapped()) {
    return refuse.Kernel(
        "tcp_v6_connect",
        "address family mismatch: one address is IPv4-mapped IPv6 and the "
        "other is not");
  }
  if (absl::Status st = CheckV6OnlyBind(s, refuse); !st.ok()) return st;
  // soccr: bind() to port 0 picks a port, so the connection would not be
  // the state's; and the kernel lets connect() reach port 0 in repair mode,
  // but then reports no peer (inet_getname(): ENOTCONN), so the restored
  // socket could not be checkpointed again.
  if (s.local.port() == 0) return refuse.Soccr("address", "local port is 0");
  if (s.peer.port() == 0) return refuse.Soccr("address", "peer port is 0");
  return absl::OkStatus();
}

absl::Status CheckQueues(const ConnectionState& s, RestoreKind kind,
                         const Refuser& refuse) {
  // soccr (memory safety): the lengths say how many bytes to write from the
  // queues.
  if (s.inq_len != s.recv_queue.size()) {
    return refuse.Soccr(
        "queue length",
        absl::StrCat("inq_len is ", s.inq_len, " but the receive queue holds ",
                     s.recv_queue.size(), " bytes"));
  }
  if (s.outq_len != s.send_queue.size()) {
    return refuse.Soccr(
        "queue length",
        absl::StrCat("outq_len is ", s.outq_len, " but the send queue holds ",
                     s.send_queue.size(), " bytes"));
  }
  // soccr: the kernel's queue lengths (SIOCINQ, SIOCOUTQ) and the buffer
  // sizes that hold them are ints.
  if (s.inq_len > kMaxQueueBytes) {
    return refuse.Soccr(
        "queue length",
        absl::StrCat("inq_len ", s.inq_len, " exceeds ", kMaxQueueBytes));
  }
  if (s.outq_len > kMaxQueueBytes) {
    return refuse.Soccr(
        "queue length",
        absl::StrCat("outq_len ", s.outq_len, " exceeds ", kMaxQueueBytes));
  }
  // soccr (memory safety): the unsent bytes are the send queue's tail.
  if (s.unsent_len > s.outq_len) {
    return refuse.Soccr("queue length",
                        absl::StrCat("unsent_len ", s.unsent_len,
                                     " exceeds outq_len ", s.outq_len));
  }
  // soccr: these sockets have no queues to write into; the bytes would be
  // dropped.
  if (kind != RestoreKind::kConnection && (s.inq_len != 0 || s.outq_len != 0)) {
    return refuse.Soccr(
        "queue length",
        absl::StrCat("a ", TcpStateName(s.state),
                     " socket has no queued data, but inq_len is ", s.inq_len,
                     " and outq_len ", s.outq_len));
  }
  // soccr: the peer's ACK of our FIN, which makes FIN_WAIT2, acknowledges
  // everything before it, so the kernel would drop these bytes; it never
  // reports them (tcp_rcv_state_process() enters FIN_WAIT2 only once
  // snd_una reaches write_seq).
  if (s.state == TcpState::kFinWait2 && s.outq_len != 0) {
    return refuse.Soccr(
        "queue length",
        absl::StrCat("outq_len is ", s.outq_len,
                     " in FIN_WAIT2, where the peer has acknowledged our FIN "
                     "and so everything before it"));
  }
  // soccr: the reset that makes CLOSE purges the send queue
  // (tcp_write_queue_purge()): the bytes would be dropped.
  if (s.state == TcpState::kClose && s.outq_len != 0) {
    return refuse.Soccr(
        "queue length",
        absl::StrCat("outq_len is ", s.outq_len,
                     " but a closed connection sends nothing more"));
  }
  return absl::OkStatus();
}

absl::Status CheckOptions(const ConnectionState& s, const Refuser& refuse) {
  const TcpOptions& o = s.options;
  // kernel: tcp_repair_options_est() refuses a scale above TCP_MAX_WSCALE
  // (EFBIG).
  if (o.snd_wscale > kMaxWindowScale) {
    return refuse.Kernel(
        "tcp_repair_options_est",
        absl::StrCat("options.snd_wscale ", o.snd_wscale,
                     " exceeds the maximum ", kMaxWindowScale));
  }
  if (o.rcv_wscale > kMaxWindowScale) {
    return refuse.Kernel(
        "tcp_repair_options_est",
        absl::StrCat("options.rcv_wscale ", o.rcv_wscale,
                     " exceeds the maximum ", kMaxWindowScale));
  }
  // soccr: without window scaling no TCPOPT_WINDOW is set, so the scales
  // would be dropped (the kernel reports scales only with window scaling
  // on: tcp_get_info()).
  if (!o.window_scaling && (o.snd_wscale != 0 || o.rcv_wscale != 0)) {
    return refuse.Soccr(
        "window scale",
        "options.snd_wscale/rcv_wscale are set but window scaling is off");
  }
  // soccr: tcp_repair_options_est() stores the MSS in a u16 without a
  // check, so a larger value would restore a different MSS. There is no
  // lower bound: the kernel takes any clamp (tcp_min_snd_mss bounds the
  // segments it sends, not the clamp), and a peer may advertise less.
  if (o.mss_clamp > kMaxMssClamp) {
    return refuse.Soccr(
        "mss", absl::StrCat("options.mss_clamp ", o.mss_clamp, " exceeds ",
                            kMaxMssClamp, ", the kernel's largest"));
  }
  return absl::OkStatus();
}

// The kernel's checks in tcp_repair_set_window(), and only those: nothing
// relates the windows to the window scale (tcp_select_window() keeps
// rcv_wnd beyond what the scale can advertise when the buffer grew after
// the handshake).
absl::Status CheckWindow(const ConnectionState& s, const Refuser& refuse) {
  if (!s.window.has_value()) return absl::OkStatus();
  const TcpWindow& w = *s.window;
  constexpr absl::string_view kCheck = "tcp_repair_set_window";
  if (w.max_window < w.snd_wnd) {
    return refuse.Kernel(kCheck,
                         absl::StrCat("window.max_window ", w.max_window,
                                      " is below window.snd_wnd ", w.snd_wnd));
  }
  // The kernel checks these against its rcv_nxt, which counts a FIN.
  const uint32_t rcv_nxt = internal::KernelRcvNxt(s);
  if (SeqAfter(w.snd_wl1, rcv_nxt + w.rcv_wnd)) {
    return refuse.Kernel(kCheck, absl::StrCat("window.snd_wl1 ", w.snd_wl1,
                                              " is beyond inq_seq + rcv_wnd"));
  }
  if (SeqAfter(w.rcv_wup, rcv_nxt)) {
    return refuse.Kernel(kCheck,
                         absl::StrCat("window.rcv_wup ", w.rcv_wup,
                                      " is beyond inq_seq ", s.inq_seq));
  }
  return absl::OkStatus();
}

absl::Status PlanSocketOptions(const ConnectionState& s, const Refuser& refuse,
                               RestorePlan& plan) {
  if (s.buffers.has_value()) {
    // soccr: SO_SNDBUF and SO_RCVBUF take an int.
    if (s.buffers->sndbuf > INT_MAX || s.buffers->rcvbuf > INT_MAX) {
      return refuse.Soccr(
          "buffer size",
          absl::StrCat("buffers: sndbuf ", s.buffers->sndbuf, " or rcvbuf ",
                       s.buffers->rcvbuf, " exceeds ", INT_MAX));
    }
    plan.final_buffers = s.buffers;
  }
  std::set<std::pair<int, int>> seen;
  for (const SocketOption& o : s.socket_options) {
    // kernel: an IPv6 option on an IPv4 socket fails (ip_setsockopt():
    // ENOPROTOOPT). soccr: an option outside the table, of a size the table
    // does not give it, or an IPv4 option on an IPv6 socket (the kernel
    // takes it, but a checkpoint never saves it there) is one the restore
    // does not know how to set.
    if (absl::Status st = ValidateSocketOption(o, s.local.family()); !st.ok()) {
      const SockOptSpec* spec = FindSocketOption(o.level, o.name);
      if (spec != nullptr && spec->family == AF_INET6 &&
          s.local.family() == AF_INET) {
        return refuse.Kernel("ip_setsockopt", st.message());
      }
      return refuse.Soccr("socket option", st.message());
    }
    // kernel: the option's setter refuses the value (the row names it).
    if (absl::Status st = CheckSocketOptionValue(o); !st.ok()) {
      const SockOptSpec* spec = FindSocketOption(o.level, o.name);
      return refuse.Kernel(spec->kind == SockOptKind::kTimeval
                               ? absl::string_view("sock_set_timeout")
                               : spec->value_check,
                           st.message());
    }
    // soccr: which of the two would win is not the state's to say.
    if (!seen.insert({o.level, o.name}).second) {
      return refuse.Soccr("socket option",
                          absl::StrCat("socket option ",
                                       FindSocketOption(o.level, o.name)->label,
                                       " appears twice"));
    }
  }
  // Apply in table order, whatever order the state lists them in.
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
  return absl::OkStatus();
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

uint64_t BufferSizeForQueue(uint64_t bytes, uint64_t skb_payload) {
  if (bytes == 0) return 0;
  if (skb_payload == 0) skb_payload = 1;
  // The kernel charges each skb about 830 bytes of bookkeeping on top of
  // its data (measured with SO_MEMINFO on Linux 6.18); 1 KiB per skb, plus
  // slack for the last, partly filled ones.
  const uint64_t skbs = (bytes + skb_payload - 1) / skb_payload;
  return bytes + skbs * 1024 + (uint64_t{256} << 10);
}

uint64_t SendBufferSizeForQueue(uint64_t sent, uint64_t unsent,
                                const std::optional<TcpWindow>& window) {
  if (sent + unsent == 0) return 0;
  // The unsent part is written by an ordinary send once repair mode is off,
  // in skbs no bigger than half the largest window the peer offered
  // (rounded down to whole segments, so perhaps half that again); the sent
  // part, written in repair mode before the window is restored, in skbs of
  // up to 64 KiB.
  const uint64_t max_window = window.has_value() ? window->max_window : 65535;
  const uint64_t unsent_skb = std::max<uint64_t>(
      kMinSkbPayload, std::min<uint64_t>(kLargeSkbPayload, max_window / 2) / 2);
  return BufferSizeForQueue(sent, kLargeSkbPayload / 4) +
         BufferSizeForQueue(unsent, unsent_skb);
}

absl::StatusOr<RestorePlan> PlanRestore(const ConnectionState& s) {
  const internal::ErrorContext ctx("restore", s.local, s.peer);
  const Refuser refuse(ctx);
  if (absl::Status st = CheckState(s, refuse); !st.ok()) return st;
  const RestoreKind kind = KindOf(s);
  if (absl::Status st = CheckAddresses(s, kind, refuse); !st.ok()) return st;
  if (absl::Status st = CheckQueues(s, kind, refuse); !st.ok()) return st;
  // Only a connection's options and window reach the kernel (a SYN_SENT
  // socket negotiates its own with the SYN it sends again).
  if (kind == RestoreKind::kConnection) {
    if (absl::Status st = CheckOptions(s, refuse); !st.ok()) return st;
    if (absl::Status st = CheckWindow(s, refuse); !st.ok()) return st;
  }

  RestorePlan plan;
  plan.kind = kind;
  plan.family = s.local.family();
  plan.state = s.state;
  plan.local = s.local;
  plan.peer = s.peer;
  if (absl::Status st = PlanSocketOptions(s, refuse, plan); !st.ok()) {
    return st;
  }
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

absl::Status CheckPlanInvariants(const ConnectionState& s,
                                 const RestorePlan& plan) {
  auto broken = [](absl::string_view what) {
    return absl::InternalError(absl::StrCat("restore plan invariant: ", what));
  };
  if (plan.family != AF_INET && plan.family != AF_INET6) {
    return broken("family");
  }
  if (plan.kind != KindOf(s)) return broken("kind");
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
  if (absl::Status st = internal::CheckStateSteps(s, plan); !st.ok()) {
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
    const uint32_t rcv_nxt = internal::KernelRcvNxt(s);
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

std::optional<RejectionRule> RejectionRuleOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kRulePayload);
  if (!payload.has_value()) return std::nullopt;
  const std::string rule(*payload);
  const size_t colon = rule.find(':');
  if (colon == std::string::npos) return std::nullopt;
  RejectionRule r;
  r.source = rule.substr(0, colon) == "kernel" ? RuleSource::kKernel
                                               : RuleSource::kSoccr;
  r.name = rule.substr(colon + 1);
  return r;
}

absl::Status PrefixRejection(absl::string_view prefix,
                             const absl::Status& status) {
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& value) {
    out.SetPayload(url, value);
  });
  return out;
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
