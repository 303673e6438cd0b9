#include "soccr/internal/restore_onto.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/pending_resume.h"
#include "soccr/internal/restore_buffers.h"
#include "soccr/internal/state_step_runner.h"
#include "soccr/restore_plan.h"
#include "soccr/status_macros.h"

namespace soccr {
namespace {

using internal::ApplyFinalBuffer;
using internal::BufferKind;
using internal::EnsureBuffer;
using internal::ErrorContext;
using internal::PeerSegmentParams;
using internal::PeerSegmentParamsFor;
using internal::PendingResume;
using internal::RunStateSteps;

// The receive buffer of a new socket with the kernel's default tcp_rmem.
constexpr uint64_t kFreshSocketRcvbuf = 131072;

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

bool IsReuseAddr(const SocketOption& o) {
  return o.level == SOL_SOCKET && o.name == SO_REUSEADDR;
}

// The SO_REUSEADDR value among `options` (0 if absent).
int ReuseAddrOf(const std::vector<SocketOption>& options) {
  for (const SocketOption& o : options) {
    if (IsReuseAddr(o) && o.value.size() == sizeof(int)) {
      int v = 0;
      memcpy(&v, o.value.data(), sizeof(v));
      return v;
    }
  }
  return 0;
}

// Sets `options`, except SO_REUSEADDR if `skip_reuse_addr`: in repair mode
// it would replace the forced reuse that lets bind() share the port with,
// say, the listener that accepted the original connection.
absl::Status SetOptions(const sys::Sys& sys, BorrowedFd fd,
                        const std::vector<SocketOption>& options,
                        const ErrorContext& ctx, bool skip_reuse_addr = false) {
  for (const SocketOption& o : options) {
    if (skip_reuse_addr && IsReuseAddr(o)) continue;
    const sys::Result<void> r = sys.SetSockOpt(
        fd, o.level, o.name,
        absl::Span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(o.value.data()), o.value.size()));
    if (!r.ok()) {
      return ctx.SysError(absl::StrCat("set ", SocketOptionToString(o)), r);
    }
  }
  return absl::OkStatus();
}

// Writes `data` into the queue selected with TCP_REPAIR_QUEUE. The kernel
// takes at most 17 pages per write into a receive queue and as much as the
// send buffer allows into a send queue; the buffer was sized beforehand, so
// a write that makes no progress is an error, never a wait.
absl::Status WriteQueue(const sys::Sys& sys, BorrowedFd fd,
                        absl::Span<const uint8_t> data, absl::string_view name,
                        const ErrorContext& ctx) {
  size_t done = 0;
  while (done < data.size()) {
    const sys::Result<size_t> w = sys.Send(fd, data.subspan(done));
    if (w.ok() && w.value > 0) {
      done += w.value;
      continue;
    }
    if (!w.ok() && w.err == EINTR) continue;
    const std::string step = absl::StrCat("write ", name, " queue (", done,
                                          " of ", data.size(), " bytes in)");
    if (!w.ok()) return ctx.SysError(step, w);
    return ctx.Error(absl::StatusCode::kResourceExhausted,
                     absl::StrCat(step, ": the kernel took no more"));
  }
  return absl::OkStatus();
}

absl::Status SetQueueSeq(const sys::Sys& sys, BorrowedFd fd,
                         sys::RepairQueue queue, uint32_t seq,
                         const ErrorContext& ctx) {
  const bool send = queue == sys::RepairQueue::kSend;
  SOCCR_RETURN_IF_ERROR(
      ctx.Check(send ? "select send queue" : "select recv queue",
                sys.SetRepairQueue(fd, queue)));
  return ctx.Check(send ? "set send queue seq" : "set recv queue seq",
                   sys.SetQueueSeq(fd, seq));
}

// bind(), falling back to IP_FREEBIND when the address is not (yet) local.
absl::Status Bind(const sys::Sys& sys, BorrowedFd fd, const RestorePlan& plan,
                  const ErrorContext& ctx) {
  sys::Result<void> r = sys.Bind(fd, plan.local);
  if (r.ok()) return absl::OkStatus();
  if (r.err != EADDRNOTAVAIL) return ctx.SysError("bind local address", r);
  const int level = plan.family == AF_INET ? SOL_IP : SOL_IPV6;
  const int name = plan.family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND;
  SOCCR_RETURN_IF_ERROR(ctx.Check("set freebind for a non-local address",
                                  sys.SetSockOptInt(fd, level, name, 1)));
  SOCCR_RETURN_IF_ERROR(
      ctx.Check("bind local address (freebind)", sys.Bind(fd, plan.local)));
  // Freebind lets bind() take the address, but connect() still finds no
  // route from a source that is not local (ENETUNREACH) unless the socket
  // is transparent (the route lookup's FLOWI_FLAG_ANYSRC). Needs
  // CAP_NET_ADMIN, which a restore has.
  const int transparent =
      plan.family == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT;
  SOCCR_RETURN_IF_ERROR(
      ctx.Check("set transparent for a non-local address",
                sys.SetSockOptInt(fd, level, transparent, 1)));
  // Back to what the original had, unless it had freebind itself.
  for (const SocketOption& o : plan.before_bind) {
    if (o.level == level && o.name == name) return absl::OkStatus();
  }
  return ctx.Check("clear freebind", sys.SetSockOptInt(fd, level, name, 0));
}

// Moves what was in flight into pending->in_flight: the sent data, and the
// repair-mode steps from our FIN on if our FIN was sent and is not
// acknowledged (FIN_WAIT1, LAST_ACK, CLOSING without unsent data).
void HoldInFlight(const RestorePlan& plan, PendingResume& pending) {
  internal::HeldInFlight& held = pending.in_flight;
  held.data = plan.sent_data;
  held.snd_una = plan.send_seq;
  held.window = plan.window;
  if (plan.state == TcpState::kFinWait1 || plan.state == TcpState::kLastAck ||
      plan.state == TcpState::kClosing) {
    for (size_t i = 0; i < plan.repair_steps.size(); ++i) {
      if (plan.repair_steps[i].kind == StateStep::Kind::kShutdownWrite) {
        held.fin_steps.assign(plan.repair_steps.begin() + i,
                              plan.repair_steps.end());
        break;
      }
    }
  }
  // The probe advertises our window as the peer last saw it.
  uint32_t rcv_wscale = 0;
  for (const struct tcp_repair_opt& o : plan.repair_options) {
    if (o.opt_code == TCPOPT_WINDOW) rcv_wscale = o.opt_val >> 16;
  }
  const uint32_t wnd =
      plan.window.has_value() ? plan.window->rcv_wnd >> rcv_wscale : 0xffff;
  held.probe_window = static_cast<uint16_t>(wnd > 0xffff ? 0xffff : wnd);
}

// What every kind of restore hands its resume from the plan alone: the
// state, SO_REUSEADDR and what comes last (options and buffer sizes).
// Nothing reads these before the resume, so they go in first.
std::unique_ptr<PendingResume> NewPending(const RestorePlan& plan) {
  auto pending = std::make_unique<PendingResume>();
  pending->state = plan.state;
  pending->reuse_addr = ReuseAddrOf(plan.before_bind);
  pending->after_resume = plan.after_resume;
  pending->final_buffers = plan.final_buffers;
  return pending;
}

// The opening of a restore in repair mode (SYN_SENT and connections): the
// options that precede bind() and the send queue's sequence number (for
// SYN_SENT, the initial one).
absl::StatusOr<std::unique_ptr<PendingResume>> BeginPending(
    const sys::Sys& sys, BorrowedFd b, const RestorePlan& plan,
    const ErrorContext& ctx) {
  std::unique_ptr<PendingResume> pending = NewPending(plan);
  SOCCR_RETURN_IF_ERROR(SetOptions(sys, b, plan.before_bind, ctx,
                                   /*skip_reuse_addr=*/true));
  SOCCR_RETURN_IF_ERROR(
      SetQueueSeq(sys, b, sys::RepairQueue::kSend, plan.send_seq, ctx));
  return pending;
}

// A listener or a socket never connected: no repair mode, just the address
// and options (listen() is for the resume).
absl::StatusOr<std::unique_ptr<PendingResume>> RestoreUnconnected(
    const sys::Sys& sys, BorrowedFd b, const RestorePlan& plan,
    const ErrorContext& ctx) {
  // A caller's socket may come paused (the C API pauses before restoring):
  // bind() must not use repair mode's forced address reuse.
  SOCCR_ASSIGN_OR_RETURN(
      const int repair,
      ctx.Check("read TCP_REPAIR", sys.GetSockOptInt(b, SOL_TCP, TCP_REPAIR)));
  if (repair != 0) {
    SOCCR_RETURN_IF_ERROR(
        ctx.Check("leave repair mode",
                  sys.SetRepair(b, sys::RepairMode::kOffNoWindowProbe)));
  }
  std::unique_ptr<PendingResume> pending = NewPending(plan);
  SOCCR_RETURN_IF_ERROR(SetOptions(sys, b, plan.before_bind, ctx));
  if (plan.bind) {
    SOCCR_RETURN_IF_ERROR(Bind(sys, b, plan, ctx));
  }
  SOCCR_RETURN_IF_ERROR(SetOptions(sys, b, plan.in_repair, ctx));
  ApplyFinalBuffer(sys, b, BufferKind::kReceive, plan.final_buffers);
  if (plan.kind == RestoreKind::kListen) {
    pending->listen_backlog = plan.listen_backlog;
  }
  return pending;
}

// SYN_SENT: the initial sequence number goes in now; connect() on resume
// keeps it (tcp_v4_connect and tcp_v6_connect choose one only when it is
// 0) and sends the SYN, as the original's next retransmission would.
absl::StatusOr<std::unique_ptr<PendingResume>> RestoreSynSent(
    const sys::Sys& sys, BorrowedFd b, const RestorePlan& plan,
    const ErrorContext& ctx) {
  SOCCR_ASSIGN_OR_RETURN(std::unique_ptr<PendingResume> pending,
                         BeginPending(sys, b, plan, ctx));
  SOCCR_RETURN_IF_ERROR(Bind(sys, b, plan, ctx));
  SOCCR_RETURN_IF_ERROR(SetOptions(sys, b, plan.in_repair, ctx));
  // The receive buffer decides the window scale the SYN offers.
  ApplyFinalBuffer(sys, b, BufferKind::kReceive, plan.final_buffers);
  pending->connect = true;
  pending->peer = plan.peer;
  pending->syn_seq = plan.send_seq;
  return pending;
}

// A connection (ESTABLISHED and the states after it): queues, sequence
// numbers, TCP options, window, and the state steps repair mode can take.
absl::StatusOr<std::unique_ptr<PendingResume>> RestoreConnection(
    const sys::Sys& sys, BorrowedFd b, const RestorePlan& plan,
    const ErrorContext& ctx) {
  SOCCR_ASSIGN_OR_RETURN(std::unique_ptr<PendingResume> pending,
                         BeginPending(sys, b, plan, ctx));
  // The receive queue stays selected for its bytes below.
  SOCCR_RETURN_IF_ERROR(
      SetQueueSeq(sys, b, sys::RepairQueue::kRecv, plan.recv_seq, ctx));
  // connect() sizes segments from the MSS it knows; without this the
  // connection starts at 536 bytes and stays there long after.
  if (plan.user_mss != 0) {
    SOCCR_RETURN_IF_ERROR(ctx.Check(
        "set MSS", sys.SetSockOptInt(b, SOL_TCP, TCP_MAXSEG, plan.user_mss)));
  }
  if (plan.unscaled_window) {
    SOCCR_RETURN_IF_ERROR(
        ctx.Check("clamp the window to 65535 (no window scaling)",
                  sys.SetSockOptInt(b, SOL_TCP, TCP_WINDOW_CLAMP, 65535)));
  }
  SOCCR_RETURN_IF_ERROR(Bind(sys, b, plan, ctx));
  // In repair mode connect() sends nothing: the socket is ESTABLISHED at once.
  SOCCR_RETURN_IF_ERROR(
      ctx.Check("connect to peer", sys.Connect(b, plan.peer)));
  // connect() took its MSS from it; after connect() it would only cap what
  // getsockopt(TCP_MAXSEG) reports once the connection is over, so it goes
  // back to the kernel's default (no cap), which the original had (an
  // application's own TCP_MAXSEG is not saved: the kernel does not report
  // it on a connected socket).
  if (plan.user_mss != 0) {
    SOCCR_RETURN_IF_ERROR(ctx.Check(
        "clear the MSS cap", sys.SetSockOptInt(b, SOL_TCP, TCP_MAXSEG, 0)));
  }
  if (!plan.repair_options.empty()) {
    SOCCR_RETURN_IF_ERROR(ctx.Check(
        "set TCP options", sys.SetRepairOptions(b, plan.repair_options)));
  }
  if (plan.timestamp.has_value()) {
    SOCCR_RETURN_IF_ERROR(
        ctx.Check("set timestamp", sys.SetTimestamp(b, *plan.timestamp)));
  }

  // The receive buffer holds the queue and, if it can, as much as the
  // original's: the peer may send all the window it was offered at once. A
  // fresh socket's buffer (tcp_rmem[1], 128 KiB by default) already covers
  // the window of a connection that never grew one, so idle connections
  // skip this.
  if (plan.min_rcvbuf > 0 || plan.wanted_rcvbuf > kFreshSocketRcvbuf) {
    SOCCR_RETURN_IF_ERROR(EnsureBuffer(
        sys, b, BufferKind::kReceive, plan.min_rcvbuf, plan.wanted_rcvbuf,
        plan.recv_data.size(), ctx, &pending->restored.rcvbuf_raised,
        &pending->restored.rcvbuf_left));
  }
  // The send buffer holds the whole send queue: the unsent part joins it on
  // resume.
  if (plan.min_sndbuf > 0) {
    SOCCR_RETURN_IF_ERROR(EnsureBuffer(
        sys, b, BufferKind::kSend, plan.min_sndbuf, plan.min_sndbuf,
        plan.sent_data.size() + plan.unsent_data.size(), ctx,
        &pending->restored.sndbuf_raised, &pending->restored.sndbuf_left));
    pending->restored.queued_sndbuf = plan.min_sndbuf;
  }
  if (!plan.recv_data.empty()) {
    SOCCR_RETURN_IF_ERROR(
        WriteQueue(sys, b, plan.recv_data.span(), "recv", ctx));
  }
  // The data in flight (sent, unacknowledged) and our FIN if it was sent
  // wait for the resume, which asks the peer what it has first
  // (soccr/internal/in_flight.h): written here as sent, they would wait for
  // a retransmission timer after the resume.
  HoldInFlight(plan, *pending);
  // The window goes in while still in repair mode, so that nothing, the
  // unsent data least of all, can leave before it is right. Until the
  // state steps are done it must also let the peer's FIN in: the saved
  // window was taken with the kernel's rcv_nxt past that FIN, and the
  // kernel refuses an rcv_wup beyond its rcv_nxt.
  if (plan.window.has_value()) {
    tcp_repair_window w = *plan.window;
    if (!plan.repair_steps.empty() || !plan.resume_steps.empty()) {
      const uint32_t rcv_nxt =
          plan.recv_seq + static_cast<uint32_t>(plan.recv_data.size());
      w.rcv_wup = rcv_nxt;
      if (w.rcv_wnd == 0) w.rcv_wnd = 1;
      // The kernel checks snd_wl1 against rcv_nxt + rcv_wnd too, and the
      // saved snd_wl1 may be exactly at the edge that counts the FIN.
      if (static_cast<int32_t>(rcv_nxt + w.rcv_wnd - w.snd_wl1) < 0) {
        w.snd_wl1 = rcv_nxt + w.rcv_wnd;
      }
    }
    SOCCR_RETURN_IF_ERROR(ctx.Check("set window", sys.SetRepairWindow(b, w)));
  }
  SOCCR_RETURN_IF_ERROR(SetOptions(sys, b, plan.in_repair, ctx));
  ApplyFinalBuffer(sys, b, BufferKind::kReceive, plan.final_buffers);

  // FINs and resets, which the repair interface cannot set.
  const PeerSegmentParams params = PeerSegmentParamsFor(plan);
  const auto repair_steps = absl::MakeConstSpan(plan.repair_steps)
                                .first(plan.repair_steps.size() -
                                       pending->in_flight.fin_steps.size());
  if (!repair_steps.empty()) {
    size_t done = 0;
    SOCCR_RETURN_IF_ERROR(RunStateSteps(sys, b, repair_steps, params,
                                        /*in_repair=*/true, ctx, &done));
    // Injected segments moved the window (and our ACK of a FIN moved
    // rcv_wup): put back exactly what was saved.
    if (plan.window.has_value()) {
      SOCCR_RETURN_IF_ERROR(ctx.Check("set window after the state steps",
                                      sys.SetRepairWindow(b, *plan.window)));
    }
  }

  pending->unsent = plan.unsent_data;
  pending->steps = plan.resume_steps;
  pending->segment_params = params;
  return pending;
}

}  // namespace

namespace internal {

absl::StatusOr<std::unique_ptr<PendingResume>> RestoreOnto(
    const sys::Sys& sys, BorrowedFd b, const RestorePlan& plan) {
  const ErrorContext ctx("restore", plan.local, plan.peer);
  switch (plan.kind) {
    case RestoreKind::kListen:
    case RestoreKind::kUnconnected:
      return RestoreUnconnected(sys, b, plan, ctx);
    case RestoreKind::kSynSent:
      return RestoreSynSent(sys, b, plan, ctx);
    case RestoreKind::kConnection:
      break;
  }
  return RestoreConnection(sys, b, plan, ctx);
}

}  // namespace internal

}  // namespace soccr
