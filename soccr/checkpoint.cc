#include "soccr/checkpoint.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/paused_socket_access.h"
#include "soccr/internal/pending_resume.h"

namespace soccr {
namespace {

using internal::ErrorContext;
using sys::Op;

#ifndef TCPI_OPT_USEC_TS
#define TCPI_OPT_USEC_TS 64
#endif
#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

absl::Status CheckCheckpointable(TcpState state, const ErrorContext& ctx) {
  switch (state) {
    case TcpState::kEstablished:
      return absl::OkStatus();
    case TcpState::kTimeWait:
      return ctx.Error(absl::StatusCode::kUnimplemented,
                       "TIME_WAIT connections cannot be checkpointed: the "
                       "kernel's repair interface cannot recreate one");
    default:
      return ctx.Error(absl::StatusCode::kUnimplemented,
                       absl::StrCat("checkpointing a ", TcpStateName(state),
                                    " socket is not supported; soccr "
                                    "checkpoints ESTABLISHED connections"));
  }
}

// Copies a queue selected with TCP_REPAIR_QUEUE. One byte of spare room
// shows whether the queue grew (the peer's traffic was not blocked).
absl::StatusOr<QueueBytes> PeekQueue(const sys::Sys& sys, BorrowedFd fd,
                                     size_t len, absl::string_view name,
                                     const ErrorContext& ctx) {
  if (len == 0) return QueueBytes();
  uint8_t* buf = nullptr;
  QueueBytes bytes = QueueBytes::Allocate(len + 1, &buf);
  // A signal can cut a peek short; it reads from the start each time, so
  // trying again is safe.
  sys::Result<size_t> r;
  for (int attempt = 0; attempt < 3; ++attempt) {
    r = sys.Peek(fd, absl::Span<uint8_t>(buf, len + 1));
    if (!r.ok() && r.err == EINTR) continue;
    if (r.ok() && r.value < len) continue;
    break;
  }
  if (!r.ok()) {
    return ctx.SysError(absl::StrCat("read ", name, " queue"), Op::kPeek,
                        r.err);
  }
  if (r.value != len) {
    return ctx.Error(
        absl::StatusCode::kUnavailable,
        absl::StrCat("the ", name, " queue changed while it was read (",
                     len, " bytes expected, ", r.value,
                     " found): block the peer's packets while checkpointing"));
  }
  return bytes.Subrange(0, len);
}

absl::Status SaveSocketOptions(const sys::Sys& sys, BorrowedFd fd,
                               ConnectionState& s, const ErrorContext& ctx) {
  SocketBuffers b;
  sys::Result<int> sndbuf = sys.GetSockOptInt(fd, SOL_SOCKET, SO_SNDBUF);
  if (!sndbuf.ok()) {
    return ctx.SysError("read SO_SNDBUF", Op::kGetSockOpt, sndbuf.err);
  }
  sys::Result<int> rcvbuf = sys.GetSockOptInt(fd, SOL_SOCKET, SO_RCVBUF);
  if (!rcvbuf.ok()) {
    return ctx.SysError("read SO_RCVBUF", Op::kGetSockOpt, rcvbuf.err);
  }
  b.sndbuf = static_cast<uint32_t>(sndbuf.value);
  b.rcvbuf = static_cast<uint32_t>(rcvbuf.value);
  sys::Result<int> locks = sys.GetSockOptInt(fd, SOL_SOCKET, SO_BUF_LOCK);
  if (locks.ok()) {
    b.sndbuf_locked = (locks.value & 1) != 0;
    b.rcvbuf_locked = (locks.value & 2) != 0;
  } else if (locks.err != ENOPROTOOPT) {
    return ctx.SysError("read SO_BUF_LOCK", Op::kGetSockOpt, locks.err);
  }
  s.buffers = b;

  const int family = s.local.family();
  for (const SockOptSpec& spec : SocketOptionTable()) {
    if (!SocketOptionApplies(spec, family)) continue;
    // TCP_REPAIR_ON overwrites sk_reuse with SK_FORCE_REUSE, so while paused
    // SO_REUSEADDR reads 2 whatever the application set (and repair off
    // clears it). Restoring that 2 would turn the restore's force-reuse into
    // plain reuse before bind(), which then fails wherever another socket
    // holds the port.
    if (spec.level == SOL_SOCKET && spec.name == SO_REUSEADDR) continue;
    std::string value(spec.max_size, '\0');
    sys::Result<socklen_t> r = sys.GetSockOpt(
        fd, spec.level, spec.name,
        absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(value.data()),
                            value.size()));
    if (!r.ok()) {
      // An option this kernel lacks cannot have been set.
      if (r.err == ENOPROTOOPT) continue;
      return ctx.SysError(absl::StrCat("read ", spec.label), Op::kGetSockOpt,
                          r.err);
    }
    value.resize(r.value < value.size() ? r.value : value.size());
    if (spec.kind == SockOptKind::kString) {
      value.resize(strnlen(value.data(), value.size()));
    }
    if (IsDefaultSocketOptionValue(spec, value)) continue;
    s.socket_options.push_back({spec.level, spec.name, std::move(value)});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ConnectionState> Checkpoint(const PausedSocket& socket,
                                           const CheckpointOptions& options) {
  const sys::Sys& sys = socket.sys();
  const BorrowedFd fd = socket.fd();
  ErrorContext ctx("checkpoint", fd);
  if (!fd) {
    return absl::FailedPreconditionError(
        "checkpoint: the handle no longer holds a socket");
  }
  ConnectionState s;

  sys::Result<SocketAddress> local = sys.GetSockName(fd);
  if (!local.ok()) {
    return ctx.SysError("read local address", Op::kGetSockName, local.err);
  }
  sys::Result<SocketAddress> peer = sys.GetPeerName(fd);
  if (!peer.ok()) {
    return ctx.SysError("read peer address", Op::kGetPeerName, peer.err);
  }
  s.local = local.value;
  s.peer = peer.value;
  ctx.SetEndpoints(s.local, s.peer);

  const sys::Result<struct tcp_info> info = sys.GetTcpInfo(fd);
  if (!info.ok()) {
    return ctx.SysError("read connection state", Op::kGetTcpInfo, info.err);
  }
  const struct tcp_info& ti = info.value;
  if (!IsKnownTcpState(ti.tcpi_state)) {
    return ctx.Error(absl::StatusCode::kInternal,
                     absl::StrCat("the kernel reports unknown TCP state ",
                                  ti.tcpi_state));
  }
  s.state = static_cast<TcpState>(ti.tcpi_state);
  if (absl::Status st = CheckCheckpointable(s.state, ctx); !st.ok()) return st;
  if (ti.tcpi_options & TCPI_OPT_USEC_TS) {
    return ctx.Error(absl::StatusCode::kUnimplemented,
                     "the connection uses microsecond TCP timestamps, which "
                     "the kernel's repair interface cannot restore");
  }
  s.options.sack = (ti.tcpi_options & TCPI_OPT_SACK) != 0;
  s.options.timestamps = (ti.tcpi_options & TCPI_OPT_TIMESTAMPS) != 0;
  s.options.window_scaling = (ti.tcpi_options & TCPI_OPT_WSCALE) != 0;
  if (s.options.window_scaling) {
    s.options.snd_wscale = ti.tcpi_snd_wscale;
    s.options.rcv_wscale = ti.tcpi_rcv_wscale;
  }

  const sys::Result<int> outq = sys.GetOutq(fd);
  if (!outq.ok()) {
    return ctx.SysError("read send queue length", Op::kGetOutq, outq.err);
  }
  // Nothing queued means nothing unsent: skip the call.
  sys::Result<int> unsent{0, 0};
  if (outq.value > 0) {
    unsent = sys.GetOutqNotSent(fd);
    if (!unsent.ok()) {
      return ctx.SysError("read unsent length", Op::kGetOutqNotSent,
                          unsent.err);
    }
  }
  const sys::Result<int> inq = sys.GetInq(fd);
  if (!inq.ok()) {
    return ctx.SysError("read receive queue length", Op::kGetInq, inq.err);
  }
  if (outq.value < 0 || unsent.value < 0 || inq.value < 0 ||
      unsent.value > outq.value) {
    return ctx.Error(absl::StatusCode::kInternal,
                     absl::StrCat("the kernel reports impossible queue "
                                  "lengths: outq ",
                                  outq.value, ", unsent ", unsent.value,
                                  ", inq ", inq.value));
  }
  s.outq_len = static_cast<uint32_t>(outq.value);
  s.unsent_len = static_cast<uint32_t>(unsent.value);
  s.inq_len = static_cast<uint32_t>(inq.value);

  // The receive queue: its end sequence number, then its bytes.
  sys::Result<void> q = sys.SetRepairQueue(fd, sys::RepairQueue::kRecv);
  if (!q.ok()) {
    return ctx.SysError("select receive queue", Op::kSetRepairQueue, q.err);
  }
  const sys::Result<uint32_t> inq_seq = sys.GetQueueSeq(fd);
  if (!inq_seq.ok()) {
    return ctx.SysError("read receive queue sequence", Op::kGetQueueSeq,
                        inq_seq.err);
  }
  s.inq_seq = inq_seq.value;
  absl::StatusOr<QueueBytes> recv = PeekQueue(sys, fd, s.inq_len, "receive", ctx);
  if (!recv.ok()) return recv.status();
  s.recv_queue = *std::move(recv);

  // The send queue, the same way.
  q = sys.SetRepairQueue(fd, sys::RepairQueue::kSend);
  if (!q.ok()) {
    return ctx.SysError("select send queue", Op::kSetRepairQueue, q.err);
  }
  const sys::Result<uint32_t> outq_seq = sys.GetQueueSeq(fd);
  if (!outq_seq.ok()) {
    return ctx.SysError("read send queue sequence", Op::kGetQueueSeq,
                        outq_seq.err);
  }
  s.outq_seq = outq_seq.value;
  absl::StatusOr<QueueBytes> send = PeekQueue(sys, fd, s.outq_len, "send", ctx);
  if (!send.ok()) return send.status();
  s.send_queue = *std::move(send);

  // In repair mode TCP_MAXSEG reports mss_clamp: the peer's MSS.
  const sys::Result<int> mss = sys.GetSockOptInt(fd, SOL_TCP, TCP_MAXSEG);
  if (!mss.ok()) {
    return ctx.SysError("read MSS", Op::kGetSockOpt, mss.err);
  }
  s.options.mss_clamp = static_cast<uint32_t>(mss.value);

  if (s.options.timestamps) {
    const sys::Result<uint32_t> ts = sys.GetTimestamp(fd);
    if (!ts.ok()) {
      return ctx.SysError("read timestamp", Op::kGetTimestamp, ts.err);
    }
    s.timestamp = ts.value;
  }

  const sys::Result<struct tcp_repair_window> w = sys.GetRepairWindow(fd);
  if (w.ok()) {
    s.window = TcpWindow{w.value.snd_wl1, w.value.snd_wnd, w.value.max_window,
                         w.value.rcv_wnd, w.value.rcv_wup};
  } else if (w.err != ENOPROTOOPT) {
    // ENOPROTOOPT: a kernel before 4.8, where the window is not restorable.
    return ctx.SysError("read window", Op::kGetRepairWindow, w.err);
  }

  if (options.socket_options) {
    if (absl::Status st = SaveSocketOptions(sys, fd, s, ctx); !st.ok()) {
      return st;
    }
  }

  // A restored socket that is not resumed yet holds back what it applies on
  // resume: its unsent data, the final buffer sizes and some options.
  const internal::PendingResume* p =
      internal::PausedSocketAccess::Pending(socket);
  if (p != nullptr && options.socket_options) {
    if (p->final_buffers.has_value()) s.buffers = p->final_buffers;
    for (const SocketOption& pending : p->after_resume) {
      bool replaced = false;
      for (SocketOption& o : s.socket_options) {
        if (o.level == pending.level && o.name == pending.name) {
          o = pending;
          replaced = true;
        }
      }
      if (!replaced) s.socket_options.push_back(pending);
    }
  }
  if (p != nullptr && !p->unsent.empty()) {
    uint8_t* out = nullptr;
    const size_t kernel_len = s.send_queue.size();
    QueueBytes all = QueueBytes::Allocate(kernel_len + p->unsent.size(), &out);
    if (kernel_len > 0) memcpy(out, s.send_queue.data(), kernel_len);
    memcpy(out + kernel_len, p->unsent.data(), p->unsent.size());
    s.send_queue = std::move(all);
    s.outq_len += static_cast<uint32_t>(p->unsent.size());
    s.unsent_len += static_cast<uint32_t>(p->unsent.size());
    s.outq_seq += static_cast<uint32_t>(p->unsent.size());
  }
  return s;
}

}  // namespace soccr
