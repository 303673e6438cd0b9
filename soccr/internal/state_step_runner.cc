#include "soccr/internal/state_step_runner.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "soccr/injected_packet_mark.h"
#include "soccr/internal/tcp_segment.h"
#include "soccr/status_macros.h"

namespace soccr::internal {
namespace {

using sys::Op;

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

// How long an injected segment may take to be processed. Delivery to a
// local address normally completes within the sendto() call itself; the
// bound only matters when something drops the packet.
constexpr absl::Duration kProcessingDeadline = absl::Milliseconds(500);

absl::StatusOr<TcpState> ReadState(const sys::Sys& sys, BorrowedFd fd,
                                   absl::string_view step,
                                   const ErrorContext& ctx) {
  const sys::Result<struct tcp_info> info = sys.GetTcpInfo(fd);
  if (!info.ok()) {
    return ctx.SysError(absl::StrCat(step, ": read the state"), info);
  }
  return static_cast<TcpState>(info.value.tcpi_state);
}

// Injects `step`. A socket in repair mode still acknowledges what it
// receives, and a peer whose socket is gone (a connection checkpointed after
// a reset) answers the ACK of its own FIN with a reset of its own kernel's:
// when the plan's next step is that reset anyway (`then_reset`), reaching
// its state early means both steps happened (the kernel's reset leaves the
// same error in CLOSE_WAIT, EPIPE, as ours would), and `*reset_done` says
// so. A reset step finding the socket in CLOSE already is done likewise.
absl::Status Inject(const sys::Sys& sys, BorrowedFd fd, const StateStep& step,
                    const PeerSegmentParams& params, bool in_repair,
                    const ErrorContext& ctx, const StateStep* then_reset,
                    bool* reset_done) {
  const absl::string_view name = StateStepName(step.kind);
  absl::StatusOr<TcpState> before = ReadState(sys, fd, name, ctx);
  if (!before.ok()) return before.status();
  if (in_repair && step.kind == StateStep::Kind::kPeerReset &&
      *before == step.state_after) {
    return absl::OkStatus();
  }

  TcpSegment segment;
  segment.from = params.peer;
  segment.to = params.local;
  segment.seq = step.seq;
  segment.ack = step.ack;
  segment.window = params.window;
  switch (step.kind) {
    case StateStep::Kind::kPeerFin:
      segment.flags = kTcpFin | kTcpAck;
      break;
    case StateStep::Kind::kPeerAckOfFin:
      segment.flags = kTcpAck;
      break;
    default:
      segment.flags = kTcpRst;
      segment.ack = 0;
      segment.window = 0;
      break;
  }
  if (in_repair && params.tsecr.has_value() &&
      step.kind != StateStep::Kind::kPeerReset) {
    segment.timestamp = TcpSegment::Timestamp{0, *params.tsecr};
  }
  SOCCR_RETURN_IF_ERROR(SendSegment(sys, segment, name, ctx));

  // Wait until the socket has moved on.
  const absl::Time deadline = absl::Now() + kProcessingDeadline;
  absl::Duration pause = absl::Microseconds(50);
  for (;;) {
    absl::StatusOr<TcpState> now = ReadState(sys, fd, name, ctx);
    if (!now.ok()) return now.status();
    if (*now != *before) {
      // After resume the live connection may have moved further already
      // (the peer acknowledging our FIN right away): the step happened.
      if (*now == step.state_after || !in_repair) return absl::OkStatus();
      if (then_reset != nullptr && *now == then_reset->state_after) {
        *reset_done = true;
        return absl::OkStatus();
      }
      return ctx.Error(
          absl::StatusCode::kInternal,
          absl::StrCat(name, ": the socket went from ", TcpStateName(*before),
                       " to ", TcpStateName(*now), ", not ",
                       TcpStateName(step.state_after)));
    }
    if (absl::Now() >= deadline) {
      return ctx.Error(
          absl::StatusCode::kUnavailable,
          absl::StrCat(name, " (injected from ", params.peer.ToString(),
                       ", mark 0x", absl::Hex(kInjectedPacketMark),
                       ") did not reach the socket within ",
                       absl::FormatDuration(kProcessingDeadline),
                       ": let packets with that mark through any filter, "
                       "and make sure ",
                       params.local.ToString(), " is a local address"));
    }
    absl::SleepFor(pause);
    if (pause < absl::Milliseconds(10)) pause *= 2;
  }
}

}  // namespace

absl::Status SendSegment(const sys::Sys& sys, const TcpSegment& segment,
                         absl::string_view step, const ErrorContext& ctx) {
  absl::StatusOr<std::vector<uint8_t>> packet = BuildTcpSegment(segment);
  if (!packet.ok()) {
    return ctx.Error(packet.status().code(),
                     absl::StrCat(step, ": ", packet.status().message()));
  }
  const SocketAddress dst = RawDestination(segment);
  sys::Result<OwnedFd> raw =
      sys.Socket(dst.family(), SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (!raw.ok()) {
    return ctx.SysError(
        absl::StrCat(step, ": open a raw socket",
                     raw.err == EPERM ? " (needs CAP_NET_RAW)" : ""),
        raw);
  }
  const BorrowedFd r = raw.value.borrow();
  if (dst.family() == AF_INET6) {
    // IPPROTO_RAW implies it on recent kernels; say it anyway.
    const sys::Result<void> h =
        sys.SetSockOptInt(r, IPPROTO_IPV6, IPV6_HDRINCL, 1);
    if (!h.ok()) {
      return ctx.SysError(absl::StrCat(step, ": set IPV6_HDRINCL"), h);
    }
  }
  const sys::Result<void> m = sys.SetSockOptInt(
      r, SOL_SOCKET, SO_MARK, static_cast<int>(kInjectedPacketMark));
  if (!m.ok()) return ctx.SysError(absl::StrCat(step, ": set SO_MARK"), m);
  const sys::Result<size_t> sent = sys.SendTo(r, *packet, dst);
  if (!sent.ok()) {
    return ctx.SysError(absl::StrCat(step, ": send to ", dst.ToString()), sent);
  }
  if (sent.value != packet->size()) {
    return ctx.Error(absl::StatusCode::kInternal,
                     absl::StrCat(step, ": sent ", sent.value, " of ",
                                  packet->size(), " bytes"));
  }
  return absl::OkStatus();
}

PeerSegmentParams PeerSegmentParamsFor(const RestorePlan& plan) {
  PeerSegmentParams p;
  p.local = plan.local;
  p.peer = plan.peer;
  p.window = plan.peer_window;
  p.tsecr = plan.timestamp;
  return p;
}

absl::Status RunStateSteps(const sys::Sys& sys, BorrowedFd fd,
                           absl::Span<const StateStep> steps,
                           const PeerSegmentParams& params, bool in_repair,
                           const ErrorContext& ctx, size_t* done) {
  *done = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const StateStep& step = steps[i];
    switch (step.kind) {
      case StateStep::Kind::kShutdownWrite: {
        if (in_repair) {
          // With the send queue selected, the kernel takes the FIN as sent
          // (it retransmits it after resume) and puts nothing on the wire.
          SOCCR_RETURN_IF_ERROR(
              ctx.Check("select send queue for our FIN",
                        sys.SetRepairQueue(fd, sys::RepairQueue::kSend)));
        }
        SOCCR_RETURN_IF_ERROR(
            ctx.Check("queue our FIN", sys.Shutdown(fd, SHUT_WR)));
        break;
      }
      case StateStep::Kind::kClearError: {
        SOCCR_RETURN_IF_ERROR(
            ctx.Check("clear the socket error",
                      sys.GetSockOptInt(fd, SOL_SOCKET, SO_ERROR))
                .status());
        break;
      }
      default: {
        const bool reset_next =
            step.kind == StateStep::Kind::kPeerFin && i + 1 < steps.size() &&
            steps[i + 1].kind == StateStep::Kind::kPeerReset;
        bool reset_done = false;
        SOCCR_RETURN_IF_ERROR(Inject(sys, fd, step, params, in_repair, ctx,
                                     reset_next ? &steps[i + 1] : nullptr,
                                     &reset_done));
        if (reset_done) {
          ++*done;
          ++i;
        }
        break;
      }
    }
    ++*done;
  }
  return absl::OkStatus();
}

}  // namespace soccr::internal
