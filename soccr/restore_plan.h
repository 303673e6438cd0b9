// soccr/restore_plan.h: checks a ConnectionState and turns it into the exact
// steps of a restore, without touching the kernel.
//
// Restore() runs PlanRestore() first, so invalid input is rejected before
// any socket exists. The plan is a plain value, which lets tests and fuzzers
// check every invariant of it:
//
//   absl::StatusOr<soccr::RestorePlan> plan = soccr::PlanRestore(state);
//   if (!plan.ok()) ...  // InvalidArgument naming the field, or Unimplemented
//   assert(soccr::CheckPlanInvariants(state, *plan).ok());

#ifndef SOCCR_RESTORE_PLAN_H_
#define SOCCR_RESTORE_PLAN_H_

#include <netinet/tcp.h>
#include <stdint.h>

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "soccr/connection_state.h"

namespace soccr {

struct RestorePlan {
  int family = 0;  // AF_INET or AF_INET6
  TcpState state = TcpState::kClose;
  SocketAddress local;
  SocketAddress peer;

  // TCP_QUEUE_SEQ values: where each queue starts.
  uint32_t recv_seq = 0;  // inq_seq - inq_len
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
  // real MSS from the start (0: leave the default). TCP_MAXSEG accepts at
  // most 32767.
  int user_mss = 0;
  // TCP_REPAIR_OPTIONS, in one call.
  std::vector<struct tcp_repair_opt> repair_options;
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
};

// Largest queue soccr restores: the kernel's queue lengths are ints.
inline constexpr uint32_t kMaxQueueBytes = 0x7fffffff;
// Largest window scale (RFC 7323).
inline constexpr uint8_t kMaxWindowScale = 14;

// The socket buffer size (as getsockopt reports it) that holds a queue of
// `bytes`, with room for the kernel's per-segment bookkeeping.
uint64_t BufferSizeForQueue(uint64_t bytes);

// Validates `state` and plans its restore. InvalidArgument names the first
// inconsistent field; Unimplemented says which state cannot be restored.
[[nodiscard]] absl::StatusOr<RestorePlan> PlanRestore(
    const ConnectionState& state);

// Internal error if `plan` breaks an invariant PlanRestore(state) promises:
// the queue pieces add up to the state's bytes in order, sequence numbers
// line up, every option is valid, and so on. For tests and fuzzers.
[[nodiscard]] absl::Status CheckPlanInvariants(const ConnectionState& state,
                                               const RestorePlan& plan);

}  // namespace soccr

#endif  // SOCCR_RESTORE_PLAN_H_
