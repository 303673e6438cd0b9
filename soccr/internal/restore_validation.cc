#include "soccr/internal/restore_validation.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <set>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "soccr/internal/fin_accounting.h"
#include "soccr/rejection_rule.h"
#include "soccr/socket_options.h"

namespace soccr::internal {
namespace {

// Every refusal goes through one of these two, so that it names its rule.
// `kernel_check`: the kernel function whose check the rule mirrors.
class Refuser {
 public:
  explicit Refuser(const ErrorContext& ctx) : ctx_(ctx) {}

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
    st.SetPayload(kRejectionRulePayloadUrl, absl::Cord(rule));
    return st;
  }
  const ErrorContext& ctx_;
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
  const uint32_t rcv_nxt = KernelRcvNxt(s);
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

absl::Status CheckSocketOptions(const ConnectionState& s,
                                const Refuser& refuse) {
  if (s.buffers.has_value()) {
    // soccr: SO_SNDBUF and SO_RCVBUF take an int.
    if (s.buffers->sndbuf > INT_MAX || s.buffers->rcvbuf > INT_MAX) {
      return refuse.Soccr(
          "buffer size",
          absl::StrCat("buffers: sndbuf ", s.buffers->sndbuf, " or rcvbuf ",
                       s.buffers->rcvbuf, " exceeds ", INT_MAX));
    }
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
  return absl::OkStatus();
}

}  // namespace

RestoreKind RestoreKindOf(const ConnectionState& s) {
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

absl::Status ValidateForRestore(const ConnectionState& s,
                                const ErrorContext& ctx) {
  const Refuser refuse(ctx);
  if (absl::Status st = CheckState(s, refuse); !st.ok()) return st;
  const RestoreKind kind = RestoreKindOf(s);
  if (absl::Status st = CheckAddresses(s, kind, refuse); !st.ok()) return st;
  if (absl::Status st = CheckQueues(s, kind, refuse); !st.ok()) return st;
  // Only a connection's options and window reach the kernel (a SYN_SENT
  // socket negotiates its own with the SYN it sends again).
  if (kind == RestoreKind::kConnection) {
    if (absl::Status st = CheckOptions(s, refuse); !st.ok()) return st;
    if (absl::Status st = CheckWindow(s, refuse); !st.ok()) return st;
  }
  return CheckSocketOptions(s, refuse);
}

}  // namespace soccr::internal
