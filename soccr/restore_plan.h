// soccr/restore_plan.h: checks a ConnectionState and turns it into the exact
// steps of a restore, without touching the kernel.
//
// Restore() runs PlanRestore() first, so invalid input is rejected before
// any socket exists, with the rule it breaks (soccr/rejection_rule.h). The
// plan is a plain value, which lets tests and fuzzers check every invariant
// of it (soccr/internal/plan_invariants.h):
//
//   absl::StatusOr<soccr::RestorePlan> plan = soccr::PlanRestore(state);
//   if (!plan.ok()) {
//     // InvalidArgument naming the field, or Unimplemented
//   }

#ifndef SOCCR_RESTORE_PLAN_H_
#define SOCCR_RESTORE_PLAN_H_

#include <netinet/tcp.h>
#include <stdint.h>

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "soccr/connection_state.h"
#include "soccr/rejection_rule.h"  // IWYU pragma: export
#include "soccr/restore_limits.h"  // IWYU pragma: export

namespace soccr {

// How a socket is recreated.
enum class RestoreKind : uint8_t {
  // In repair mode: connect() without a handshake, the queues, options,
  // window; then the state steps. Every state with a connection, and CLOSE
  // with a peer.
  kConnection,
  // SYN_SENT: the initial sequence number is set in repair mode, and the
  // resume calls connect() (non-blocking), which sends the SYN.
  kSynSent,
  // LISTEN: bind() now, listen() on resume. No repair mode.
  kListen,
  // CLOSE without a peer: bind() if it was bound. No repair mode.
  kUnconnected,
};

// One step from ESTABLISHED towards a connection's state. The repair
// interface cannot express FINs and resets, so a restore makes them happen:
// our FIN with shutdown(SHUT_WR), the peer's segments by injecting them
// (see soccr/internal/tcp_segment.h).
struct StateStep {
  enum class Kind : uint8_t {
    kShutdownWrite,  // shutdown(SHUT_WR): our FIN
    kPeerFin,        // the peer's FIN (with ACK)
    kPeerAckOfFin,   // the peer's ACK of our FIN
    kPeerReset,      // the peer's RST
    kClearError,     // getsockopt(SO_ERROR): clears the error a reset left
  };
  Kind kind = Kind::kShutdownWrite;
  // For the peer's segments: their sequence and acknowledgment numbers.
  uint32_t seq = 0;
  uint32_t ack = 0;
  // The state the socket is in after the step.
  TcpState state_after = TcpState::kClose;

  friend bool operator==(const StateStep& a, const StateStep& b) {
    return a.kind == b.kind && a.seq == b.seq && a.ack == b.ack &&
           a.state_after == b.state_after;
  }
};

// "shutdown(SHUT_WR)", "peer FIN", ...
absl::string_view StateStepName(StateStep::Kind kind);

struct RestorePlan {
  RestoreKind kind = RestoreKind::kConnection;
  int family = 0;  // AF_INET or AF_INET6
  TcpState state = TcpState::kClose;
  SocketAddress local;
  SocketAddress peer;  // empty for kListen and kUnconnected
  // Whether to bind() `local` (false only for an unbound kUnconnected).
  bool bind = true;
  // kListen: listen()'s backlog.
  int listen_backlog = 0;

  // TCP_QUEUE_SEQ values: where each queue starts (kConnection), and for
  // kSynSent the initial sequence number (send_seq, outq_seq - 1).
  uint32_t recv_seq = 0;  // inq_seq - inq_len (minus one before a FIN+RST)
  uint32_t send_seq = 0;  // outq_seq - outq_len

  // Written in repair mode into the receive queue.
  QueueBytes recv_data;
  // Written in repair mode into the send queue, where the kernel counts it
  // as sent and unacknowledged (it retransmits it as needed).
  QueueBytes sent_data;
  // Written only after repair mode is off, so that it leaves under the
  // restored window and options, like any new data.
  QueueBytes unsent_data;

  // TCP_MAXSEG set before connect(), so the kernel sizes segments from the
  // real MSS from the start (0: leave the default). Without it connect()
  // sizes them from the default 536-byte MSS, and TCP_REPAIR_OPTIONS' MSS
  // does not resize them: a libsoccr restore starts at 524-byte segments
  // and stays there for megabytes. The value is kept to half the largest
  // window the peer has offered, as the kernel keeps its own segments
  // (tcp_bound_to_half_wnd). TCP_MAXSEG accepts at most 32767: above that
  // (a 65536-byte loopback) the socket starts at 32755-byte segments and
  // the kernel brings them to the full size at the first write, when it
  // recomputes the MSS from the path MTU and the restored MSS option.
  int user_mss = 0;
  // TCP_REPAIR_OPTIONS, in one call.
  std::vector<struct tcp_repair_opt> repair_options;
  // The connection has no window scaling: TCP_WINDOW_CLAMP of 65535 goes
  // in before connect(), so that connect() picks a receive window scale of
  // 0. Otherwise it picks one from this namespace's sysctls and buffers
  // (tcp_select_initial_window), TCP_REPAIR_OPTIONS without TCPOPT_WINDOW
  // leaves it in place while scaling stays off, and every window the socket
  // advertises is shifted right by it: the peer sees 1/1024 of it and the
  // connection crawls. 65535 is the clamp the kernel's own handshake gives
  // a connection whose peer offered no scaling (tcp_rcv_synsent_state_process);
  // autotuning raises it as it would the original's.
  bool unscaled_window = false;
  std::optional<uint32_t> timestamp;
  std::optional<struct tcp_repair_window> window;

  // Socket buffer sizes (as getsockopt reports them) the queues need; 0 when
  // a queue is empty.
  uint64_t min_rcvbuf = 0;
  uint64_t min_sndbuf = 0;
  // The receive buffer the restore tries for beyond that, without insisting:
  // the original's size. A receive buffer smaller than the window the peer
  // was offered makes the kernel drop what the peer then sends.
  uint64_t wanted_rcvbuf = 0;
  // The checkpointed buffer sizes, applied once the queues are in.
  std::optional<SocketBuffers> final_buffers;

  // Socket options, by the phase of the restore that sets them.
  std::vector<SocketOption> before_bind;
  std::vector<SocketOption> in_repair;
  std::vector<SocketOption> after_resume;

  // kConnection: the steps from ESTABLISHED to `state`. `repair_steps` run
  // in repair mode once the queues and window are in; `resume_steps` run
  // on resume after the unsent data is queued, because our FIN must follow
  // that data (and, for CLOSING, the peer's FIN must follow our FIN).
  std::vector<StateStep> repair_steps;
  std::vector<StateStep> resume_steps;
  // The window field of injected segments: the peer's last advertised
  // window as the kernel would read it back (snd_wnd >> snd_wscale), so
  // that injecting does not change what we may send.
  uint16_t peer_window = 0;
};

// Validates `state` and plans its restore. InvalidArgument names the first
// inconsistent field; Unimplemented says which state (or pending error)
// cannot be restored. Every refusal carries the rule behind it (see
// RejectionRuleOf): PlanRestore checks what the kernel would check during
// the restore, and what soccr's own memory safety and bookkeeping need,
// nothing else.
[[nodiscard]] absl::StatusOr<RestorePlan> PlanRestore(
    const ConnectionState& state);

}  // namespace soccr

#endif  // SOCCR_RESTORE_PLAN_H_
