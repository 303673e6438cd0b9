#include "soccr/internal/in_flight.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/injected_packet_mark.h"
#include "soccr/internal/pending_resume.h"
#include "soccr/internal/state_step_runner.h"
#include "soccr/internal/tcp_segment.h"
#include "soccr/status_macros.h"

namespace soccr::internal {
namespace {

// How long the socket may take to process the ACK injected to its own
// address (local delivery completes within sendto(); the bound matters only
// when something drops the packet).
constexpr absl::Duration kInjectDeadline = absl::Milliseconds(500);

// Address `a` without its port, as a raw socket of `family` takes it (the
// IPv4 form of an IPv4-mapped address).
SocketAddress RawAddress(const SocketAddress& a) {
  TcpSegment s;
  s.to = a;
  return RawDestination(s);
}

// Sends the probe and captures the peer's answer: its TCP header, or
// nothing if none came within `timeout`. A segment from the peer that is
// not a plain ACK (a reset, a SYN) is no answer.
absl::StatusOr<std::optional<CapturedTcpHeader>> ProbePeer(
    const sys::Sys& sys, const PeerSegmentParams& params, uint32_t snd_una,
    uint32_t rcv_nxt, uint16_t window, absl::Duration timeout,
    const ErrorContext& ctx) {
  const SocketAddress local = RawAddress(params.local);
  const SocketAddress peer = RawAddress(params.peer);
  const int family = local.family();
  // Open before the probe leaves, so that no answer can come first. Bound
  // to our address and connected to the peer's, it receives only what the
  // peer sends us (the ports are checked below).
  SOCCR_ASSIGN_OR_RETURN(
      OwnedFd capture,
      ctx.Check("open a raw socket for the probe's answer (needs CAP_NET_RAW)",
                sys.Socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP)));
  SOCCR_RETURN_IF_ERROR(
      ctx.Check("bind the capture socket", sys.Bind(capture.borrow(), local)));
  SOCCR_RETURN_IF_ERROR(ctx.Check("connect the capture socket",
                                  sys.Connect(capture.borrow(), peer)));

  // One byte the peer already has (it acknowledged snd_una): it drops the
  // byte and acknowledges its rcv_nxt at once. Data, unlike a pure ACK,
  // is answered even when the peer answered another out-of-window segment
  // moments ago (tcp_oow_rate_limited). No timestamp option: the peer
  // accepts its absence, and any TSval could be older than its ts_recent.
  TcpSegment probe;
  probe.from = params.local;
  probe.to = params.peer;
  probe.seq = snd_una - 1;
  probe.ack = rcv_nxt;
  probe.flags = kTcpAck;
  probe.window = window;
  probe.payload = {0};
  SOCCR_RETURN_IF_ERROR(
      SendSegment(sys, probe, "probe the peer for what it has", ctx));

  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Microseconds(20);
  uint8_t buf[1500];
  for (;;) {
    const sys::Result<size_t> r = sys.Recv(capture.borrow(), buf);
    if (r.ok()) {
      absl::StatusOr<CapturedTcpHeader> h = ParseCapturedSegment(
          absl::MakeConstSpan(buf, r.value), family == AF_INET);
      if (h.ok() && h->source_port == params.peer.port() &&
          h->dest_port == params.local.port()) {
        if ((h->flags & (kTcpRst | kTcpSyn)) != 0 ||
            (h->flags & kTcpAck) == 0) {
          return std::optional<CapturedTcpHeader>();
        }
        return std::optional<CapturedTcpHeader>(*h);
      }
      continue;  // someone else's segment, or not TCP
    }
    if (r.err != EAGAIN && r.err != EINTR) {
      return ctx.SysError("capture the probe's answer", r);
    }
    if (absl::Now() >= deadline) return std::optional<CapturedTcpHeader>();
    absl::SleepFor(pause);
    if (pause < absl::Milliseconds(1)) pause *= 2;
  }
}

// Writes held.data[held.written, end) into the send queue (repair mode:
// the kernel takes it as sent), counting progress in held.written so that
// a retried resume never writes a byte twice.
absl::Status WriteHeld(const sys::Sys& sys, BorrowedFd fd, HeldInFlight& held,
                       size_t end, const ErrorContext& ctx) {
  if (held.written >= end) return absl::OkStatus();
  SOCCR_RETURN_IF_ERROR(
      ctx.Check("select send queue for the data in flight",
                sys.SetRepairQueue(fd, sys::RepairQueue::kSend)));
  while (held.written < end) {
    const sys::Result<size_t> w = sys.Send(
        fd, held.data.span().subspan(held.written, end - held.written));
    if (w.ok() && w.value > 0) {
      held.written += w.value;
      continue;
    }
    if (!w.ok() && w.err == EINTR) continue;
    const std::string step = absl::StrCat(
        "write the data in flight (", held.written, " of ", end, " bytes in)");
    if (!w.ok()) return ctx.SysError(step, w);
    return ctx.Error(absl::StatusCode::kResourceExhausted,
                     absl::StrCat(step, ": the kernel took no more"));
  }
  return absl::OkStatus();
}

// Our FIN (and what follows it) in repair mode, then the exact saved window
// again, as the restore does with its own state steps.
absl::Status RunFinStepsInRepair(const sys::Sys& sys, BorrowedFd fd,
                                 HeldInFlight& held,
                                 const PeerSegmentParams& params,
                                 const ErrorContext& ctx) {
  // Without FIN steps the window stays as the restore set it (with unsent
  // data before a CLOSING FIN, its rcv_wup must wait for the peer's FIN).
  if (held.fin_steps.empty()) return absl::OkStatus();
  size_t done = 0;
  const absl::Status s = RunStateSteps(sys, fd, held.fin_steps, params,
                                       /*in_repair=*/true, ctx, &done);
  held.fin_steps.erase(held.fin_steps.begin(),
                       held.fin_steps.begin() + static_cast<ptrdiff_t>(done));
  SOCCR_RETURN_IF_ERROR(s);
  if (held.window.has_value()) {
    SOCCR_RETURN_IF_ERROR(ctx.Check("set window after our FIN",
                                    sys.SetRepairWindow(fd, *held.window)));
  }
  return absl::OkStatus();
}

// Injects the peer's ACK of `ack` (its rcv_nxt) with its window, and waits
// until the socket has processed it: nothing left unacknowledged.
absl::Status InjectPeerAck(const sys::Sys& sys, BorrowedFd fd, uint32_t ack,
                           uint16_t window, const PeerSegmentParams& params,
                           const ErrorContext& ctx) {
  SOCCR_RETURN_IF_ERROR(ctx.Check(
      "select recv queue", sys.SetRepairQueue(fd, sys::RepairQueue::kRecv)));
  SOCCR_ASSIGN_OR_RETURN(const uint32_t rcv_nxt,
                         ctx.Check("read rcv_nxt", sys.GetQueueSeq(fd)));
  TcpSegment a;
  a.from = params.peer;
  a.to = params.local;
  a.seq = rcv_nxt;
  a.ack = ack;
  a.flags = kTcpAck;
  a.window = window;
  // As every segment injected in repair mode (see PeerSegmentParams).
  if (params.tsecr.has_value()) {
    a.timestamp = TcpSegment::Timestamp{0, *params.tsecr};
  }
  SOCCR_RETURN_IF_ERROR(SendSegment(sys, a, "the peer's ACK", ctx));
  const absl::Time deadline = absl::Now() + kInjectDeadline;
  absl::Duration pause = absl::Microseconds(20);
  for (;;) {
    SOCCR_ASSIGN_OR_RETURN(
        const int outq,
        ctx.Check("read what is unacknowledged", sys.GetOutq(fd)));
    if (outq == 0) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return ctx.Error(
          absl::StatusCode::kUnavailable,
          absl::StrCat("the peer's ACK (injected from ", params.peer.ToString(),
                       ", mark 0x", absl::Hex(kInjectedPacketMark),
                       ") was not processed within ",
                       absl::FormatDuration(kInjectDeadline)));
    }
    absl::SleepFor(pause);
    if (pause < absl::Milliseconds(10)) pause *= 2;
  }
}

}  // namespace

absl::StatusOr<bool> SettleInFlight(const sys::Sys& sys, BorrowedFd fd,
                                    PendingResume& pending,
                                    absl::Duration timeout,
                                    const ErrorContext& ctx) {
  HeldInFlight& held = pending.in_flight;
  if (held.empty()) return false;
  const PeerSegmentParams& params = pending.segment_params;
  const bool fin = !held.fin_steps.empty();

  // 1. What the peer has: `acked` bytes of the data, and the FIN or not.
  if (!held.decided) {
    std::optional<CapturedTcpHeader> answer;
    if (timeout > absl::ZeroDuration()) {
      SOCCR_RETURN_IF_ERROR(
          ctx.Check("select recv queue",
                    sys.SetRepairQueue(fd, sys::RepairQueue::kRecv)));
      SOCCR_ASSIGN_OR_RETURN(const uint32_t rcv_nxt,
                             ctx.Check("read rcv_nxt", sys.GetQueueSeq(fd)));
      absl::StatusOr<std::optional<CapturedTcpHeader>> probed = ProbePeer(
          sys, params, held.snd_una, rcv_nxt, held.probe_window, timeout, ctx);
      // The probe only saves time: where it cannot be made (no CAP_NET_RAW,
      // no route to the peer yet), the resume takes the plain path.
      if (probed.ok()) answer = *probed;
    }
    held.decided = true;
    // An answer that acknowledges what was never sent, or less than the
    // checkpoint saw acknowledged, is not to be trusted: plain path.
    const uint32_t acked = answer.has_value() ? answer->ack - held.snd_una : 0;
    if (answer.has_value() && acked <= held.data.size() + (fin ? 1 : 0)) {
      held.peer_rcv_nxt = answer->ack;
      held.peer_window = answer->window;
    }
  }
  if (!held.peer_rcv_nxt.has_value()) {
    // No answer: everything back as sent, for the retransmission timer.
    SOCCR_RETURN_IF_ERROR(WriteHeld(sys, fd, held, held.data.size(), ctx));
    SOCCR_RETURN_IF_ERROR(RunFinStepsInRepair(sys, fd, held, params, ctx));
    held = HeldInFlight();
    return false;
  }

  const uint32_t acked = *held.peer_rcv_nxt - held.snd_una;
  if (acked > held.data.size()) {
    // 2'. The peer has all of it and our FIN: sent, FIN steps, its ACK.
    SOCCR_RETURN_IF_ERROR(WriteHeld(sys, fd, held, held.data.size(), ctx));
    SOCCR_RETURN_IF_ERROR(RunFinStepsInRepair(sys, fd, held, params, ctx));
    const absl::Status s = InjectPeerAck(sys, fd, *held.peer_rcv_nxt,
                                         held.peer_window, params, ctx);
    held = HeldInFlight();
    // Not processed: all is in the socket as sent, as on the plain path.
    if (s.code() == absl::StatusCode::kUnavailable) return false;
    SOCCR_RETURN_IF_ERROR(s);
    return true;
  }
  // 2. What the peer has, as sent and acknowledged.
  if (acked > 0) {
    SOCCR_RETURN_IF_ERROR(WriteHeld(sys, fd, held, acked, ctx));
    const absl::Status s = InjectPeerAck(sys, fd, *held.peer_rcv_nxt,
                                         held.peer_window, params, ctx);
    if (s.code() == absl::StatusCode::kUnavailable) {
      // Our own ACK did not get through (a filter dropping marked
      // packets): the rest goes back as sent too, and the timers and the
      // window probe settle it, as on the plain path.
      SOCCR_RETURN_IF_ERROR(WriteHeld(sys, fd, held, held.data.size(), ctx));
      SOCCR_RETURN_IF_ERROR(RunFinStepsInRepair(sys, fd, held, params, ctx));
      held = HeldInFlight();
      return false;
    }
    SOCCR_RETURN_IF_ERROR(s);
  }
  // 3. What it lacks goes out as new data on resume, then our FIN. The
  // peer's FIN, where it follows ours (CLOSING), acknowledges what the peer
  // has now: an ACK older than snd_una by more than the peer's largest
  // window would be refused (RFC 5961).
  pending.requeue = held.data.Subrange(acked, held.data.size() - acked);
  for (StateStep& step : held.fin_steps) {
    if (step.kind == StateStep::Kind::kPeerFin) step.ack = *held.peer_rcv_nxt;
  }
  pending.steps.insert(pending.steps.begin(), held.fin_steps.begin(),
                       held.fin_steps.end());
  held = HeldInFlight();
  return true;
}

}  // namespace soccr::internal
