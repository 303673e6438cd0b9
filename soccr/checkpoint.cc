#include "soccr/checkpoint.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/fin_accounting.h"
#include "soccr/internal/merge_pending.h"
#include "soccr/internal/paused_socket_access.h"
#include "soccr/internal/peer_address.h"
#include "soccr/internal/pending_resume.h"
#include "soccr/internal/save_socket_options.h"
#include "soccr/internal/sock_diag.h"
#include "soccr/internal/sock_diag_session_scope.h"
#include "soccr/status_macros.h"

namespace soccr {
namespace {

using internal::ErrorContext;

#ifndef TCPI_OPT_USEC_TS
#define TCPI_OPT_USEC_TS 64
#endif

absl::Status CheckCheckpointable(TcpState state, const ErrorContext& ctx) {
  switch (state) {
    case TcpState::kTimeWait:
      return ctx.Error(absl::StatusCode::kUnimplemented,
                       "TIME_WAIT connections cannot be checkpointed: the "
                       "kernel's repair interface cannot recreate one");
    case TcpState::kSynRecv:
    case TcpState::kNewSynRecv:
      return ctx.Error(
          absl::StatusCode::kUnimplemented,
          absl::StrCat("a ", TcpStateName(state),
                       " connection (a handshake still in progress, as with "
                       "TCP Fast Open) cannot be checkpointed: the kernel's "
                       "repair interface cannot recreate one"));
    default:
      return absl::OkStatus();
  }
}

#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef TCP_AO_INFO
#define TCP_AO_INFO 40
#endif

// Connections whose segments are signed (TCP-MD5, TCP-AO) or wrapped by an
// upper-layer protocol (kTLS) cannot be carried: the repair interface
// restores none of the keys or the TLS state, so the restored connection
// would be dead on arrival. FailedPrecondition naming the feature, found
// by what the kernel exposes of each.
// `md5`: what sock_diag said of TCP-MD5 keys, if it was asked already.
absl::Status RefuseWhatARestoreCannotCarry(const sys::Sys& sys, BorrowedFd fd,
                                           const ConnectionState& s,
                                           const ErrorContext& ctx,
                                           std::optional<bool> md5 = {}) {
  // TCP_ULP reads the upper-layer protocol's name, "" for none.
  char ulp[16] = {};
  const sys::Result<socklen_t> u = sys.GetSockOpt(
      fd, SOL_TCP, TCP_ULP,
      absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(ulp), sizeof(ulp) - 1));
  if (u.ok() && ulp[0] != '\0') {
    return ctx.Error(
        absl::StatusCode::kFailedPrecondition,
        absl::StrCat("the connection runs the upper-layer protocol \"", ulp,
                     "\" (TCP_ULP", strcmp(ulp, "tls") == 0 ? ": kTLS" : "",
                     "), whose state the kernel's repair interface cannot "
                     "save or restore: a restored copy would be dead"));
  }
  if (!u.ok() && u.err != ENOPROTOOPT) {
    return ctx.SysError("read the upper-layer protocol (TCP_ULP)", u);
  }
  // TCP_AO_INFO (struct tcp_ao_info_opt, 48 bytes): ENOENT without keys,
  // ENOPROTOOPT on a kernel without TCP-AO.
  uint8_t ao[48] = {};
  const sys::Result<socklen_t> a =
      sys.GetSockOpt(fd, SOL_TCP, TCP_AO_INFO, absl::Span<uint8_t>(ao));
  if (a.ok()) {
    return ctx.Error(absl::StatusCode::kFailedPrecondition,
                     "the connection is signed with TCP-AO (RFC 5925) keys, "
                     "which soccr does not save (TCP_AO_REPAIR): a restored "
                     "copy would send unsigned segments the peer drops");
  }
  if (a.err != ENOENT && a.err != ENOPROTOOPT) {
    return ctx.SysError("look for TCP-AO keys (TCP_AO_INFO)", a);
  }
  // TCP-MD5 keys cannot be read back with getsockopt(); sock_diag tells.
  if (!md5.has_value()) {
    SOCCR_ASSIGN_OR_RETURN(md5,
                           internal::HasMd5Keys(sys, fd, s.local, s.peer, ctx));
  }
  if (*md5) {
    return ctx.Error(absl::StatusCode::kFailedPrecondition,
                     "the connection is signed with TCP-MD5 (RFC 2385) keys, "
                     "which the kernel does not let anyone read back "
                     "(sock_diag shows they exist): a restored copy would "
                     "send unsigned segments the peer drops");
  }
  return absl::OkStatus();
}

// Peeks the queue TCP_REPAIR_QUEUE selects into `buf`, trying again while
// fewer than `want` bytes came: a signal can cut a peek short, and each
// peek starts at the same place once `before_each` (run before every
// attempt: the receive queue walk sets its peek offset there, which a peek
// moves) has run. EAGAIN, nothing there, is 0 bytes. `name` names the
// queue in the error.
template <typename BeforeEach>
absl::StatusOr<size_t> PeekRetrying(const sys::Sys& sys, BorrowedFd fd,
                                    absl::Span<uint8_t> buf, size_t want,
                                    absl::string_view name,
                                    const ErrorContext& ctx,
                                    BeforeEach before_each) {
  sys::Result<size_t> r;
  for (int attempt = 0; attempt < 3; ++attempt) {
    SOCCR_RETURN_IF_ERROR(before_each());
    r = sys.Peek(fd, buf);
    if (!r.ok() && r.err == EAGAIN) return 0;
    if (!r.ok() && r.err == EINTR) continue;
    if (r.ok() && r.value < want) continue;
    break;
  }
  if (!r.ok()) return ctx.SysError(absl::StrCat("read ", name, " queue"), r);
  return r.value;
}

// Copies a queue selected with TCP_REPAIR_QUEUE. One byte of spare room
// shows whether the queue grew (the peer's traffic was not blocked). The
// copy goes into `buffer` if the caller gave one.
absl::StatusOr<QueueBytes> PeekQueue(const sys::Sys& sys, BorrowedFd fd,
                                     size_t len, absl::string_view name,
                                     CheckpointBuffer* buffer,
                                     const ErrorContext& ctx) {
  if (len == 0) return QueueBytes();
  uint8_t* buf = nullptr;
  QueueBytes bytes = buffer != nullptr ? buffer->Allocate(len + 1, &buf)
                                       : QueueBytes::Allocate(len + 1, &buf);
  SOCCR_ASSIGN_OR_RETURN(
      const size_t got,
      PeekRetrying(sys, fd, absl::Span<uint8_t>(buf, len + 1), len, name, ctx,
                   [] { return absl::OkStatus(); }));
  if (got != len) {
    return ctx.Error(
        absl::StatusCode::kUnavailable,
        absl::StrCat("the ", name, " queue changed while it was read (", len,
                     " bytes expected, ", got,
                     " found): block the peer's packets while checkpointing"));
  }
  return bytes.Subrange(0, len);
}

// SO_PEEK_OFF's value on a socket: -1 when off, and on a kernel whose TCP
// has no peek offset (before Linux 6.9: EOPNOTSUPP), where it cannot be on.
absl::StatusOr<int> ReadPeekOffset(const sys::Sys& sys, BorrowedFd fd,
                                   const ErrorContext& ctx) {
  const sys::Result<int> r = sys.GetSockOptInt(fd, SOL_SOCKET, SO_PEEK_OFF);
  if (r.ok()) return r.value;
  if (r.err == EOPNOTSUPP || r.err == ENOPROTOOPT) return -1;
  return ctx.SysError("read the peek offset (SO_PEEK_OFF)", r);
}

// Peeks of the receive queue at offsets of our choosing (SO_PEEK_OFF), and
// the application's own offset put back however the walk ends: a
// checkpoint only reads.
class ReceiveQueueWalk {
 public:
  ReceiveQueueWalk(const sys::Sys& sys, BorrowedFd fd, int app_offset,
                   const ErrorContext& ctx)
      : sys_(sys), fd_(fd), app_offset_(app_offset), ctx_(ctx) {}
  ReceiveQueueWalk(const ReceiveQueueWalk&) = delete;
  ReceiveQueueWalk& operator=(const ReceiveQueueWalk&) = delete;
  ~ReceiveQueueWalk() {
    if (moved_)
      (void)sys_.SetSockOptInt(fd_, SOL_SOCKET, SO_PEEK_OFF, app_offset_);
  }

  // Peeks into `buf` from `offset` bytes of sequence space past the
  // reader (nullopt: from the reader, without a peek offset, when the
  // application has none), as PeekRetrying does: 0 when nothing is past
  // the offset.
  absl::StatusOr<size_t> Peek(std::optional<size_t> offset,
                              absl::Span<uint8_t> buf, size_t want) {
    return PeekRetrying(sys_, fd_, buf, want, "receive", ctx_, [&] {
      return offset.has_value() || app_offset_ >= 0
                 ? SetOffset(offset.value_or(0))
                 : absl::OkStatus();
    });
  }

  // Restores the application's offset now, reporting a failure.
  absl::Status Finish() {
    if (!moved_) return absl::OkStatus();
    moved_ = false;
    return ctx_.Check(
        "put back the peek offset (SO_PEEK_OFF)",
        sys_.SetSockOptInt(fd_, SOL_SOCKET, SO_PEEK_OFF, app_offset_));
  }

 private:
  absl::Status SetOffset(size_t offset) {
    moved_ = true;
    const sys::Result<void> r = sys_.SetSockOptInt(fd_, SOL_SOCKET, SO_PEEK_OFF,
                                                   static_cast<int>(offset));
    if (!r.ok() && r.err == EOPNOTSUPP) {
      moved_ = false;
      return ctx_.Error(absl::StatusCode::kUnimplemented,
                        "the receive queue holds urgent data (MSG_OOB), and a "
                        "read stops at its mark: reading past it in repair "
                        "mode needs SO_PEEK_OFF for TCP (Linux 6.9)");
    }
    return ctx_.Check("set the peek offset (SO_PEEK_OFF)", r);
  }

  const sys::Sys& sys_;
  const BorrowedFd fd_;
  const int app_offset_;
  const ErrorContext& ctx_;
  bool moved_ = false;  // SO_PEEK_OFF is ours, not the application's
};

// The receive queue as the application would read it, from the reader to
// rcv_nxt: `span` bytes of sequence space (the peer's FIN not counted).
// The result is shorter by one when an urgent byte (MSG_OOB) the
// application has read out of band is still in the queue: reads skip it.
//
// Kernel facts: a read (a peek too) stops at the urgent mark once it has
// copied anything, and SIOCINQ counts only up to the mark; past the mark a
// peek must start there, which only SO_PEEK_OFF can do in repair mode
// (TCP's since Linux 6.9). A peek started at the mark skips an urgent byte
// not inline (SO_OOBINLINE off). The application may have a peek offset of
// its own (SO_PEEK_OFF); every peek would start there and move it, so the
// walk sets its own and puts the application's back. `peek_offset`: the
// application's, if known (read ahead); otherwise it is read and left
// there for the option table.
absl::StatusOr<QueueBytes> PeekReceiveQueue(const sys::Sys& sys, BorrowedFd fd,
                                            size_t span,
                                            CheckpointBuffer* buffer,
                                            std::optional<int>& peek_offset,
                                            const ErrorContext& ctx) {
  if (span == 0) return QueueBytes();
  if (!peek_offset.has_value()) {
    SOCCR_ASSIGN_OR_RETURN(peek_offset, ReadPeekOffset(sys, fd, ctx));
  }
  const int app_offset = *peek_offset;
  ReceiveQueueWalk walk(sys, fd, app_offset, ctx);
  uint8_t* buf = nullptr;
  QueueBytes bytes = buffer != nullptr ? buffer->Allocate(span + 1, &buf)
                                       : QueueBytes::Allocate(span + 1, &buf);
  auto changed = [&](size_t found) {
    return ctx.Error(
        absl::StatusCode::kUnavailable,
        absl::StrCat("the receive queue changed while it was read (", span,
                     " bytes expected, ", found,
                     " found): block the peer's packets while checkpointing"));
  };
  SOCCR_ASSIGN_OR_RETURN(
      const size_t first,
      walk.Peek(std::nullopt, absl::Span<uint8_t>(buf, span + 1), span));
  size_t got = first;
  if (first < span) {
    // Cut short: an urgent mark in the queue.
    SOCCR_ASSIGN_OR_RETURN(
        const int inline_urgent,
        ctx.Check("read SO_OOBINLINE",
                  sys.GetSockOptInt(fd, SOL_SOCKET, SO_OOBINLINE)));
    const size_t hole = inline_urgent != 0 ? 0 : 1;
    if (hole == 1) {
      // An urgent byte the application has not read (MSG_OOB shows it,
      // in repair mode too, without taking it): the repair interface
      // cannot queue one, and a restored socket would lose it.
      uint8_t urgent = 0;
      const sys::Result<size_t> oob =
          sys.Peek(fd, absl::Span<uint8_t>(&urgent, 1), MSG_OOB);
      if (oob.ok() && oob.value == 1) {
        return ctx.Error(
            absl::StatusCode::kFailedPrecondition,
            "the receive queue holds an urgent byte (MSG_OOB) that the "
            "application has not read: the kernel's repair interface cannot "
            "queue urgent data, so a restored socket would lose it; read it "
            "with recv(MSG_OOB) first");
      }
      // EINVAL: none pending (read already); EAGAIN: announced, not here.
      if (!oob.ok() && oob.err != EINVAL && oob.err != EAGAIN) {
        return ctx.SysError("look for urgent data (MSG_OOB)", oob);
      }
    }
    // Starting at the mark, or stopped at it with the urgent byte last:
    // all but the skipped byte is in.
    if (first + hole != span) {
      // Stopped at the mark: read on from it.
      SOCCR_ASSIGN_OR_RETURN(
          const size_t rest,
          walk.Peek(first, absl::Span<uint8_t>(buf + first, span + 1 - first),
                    span - first - hole));
      got += rest;
      if (got + hole != span) return changed(got);
    }
  } else if (first > span) {
    return changed(first);
  }
  SOCCR_RETURN_IF_ERROR(walk.Finish());
  return bytes.Subrange(0, got);
}

// A listener: its address, options and backlog. Connections waiting in
// its accept queue would be lost.
absl::Status SaveListener(const struct tcp_info& ti, ConnectionState& s,
                          const ErrorContext& ctx) {
  // For a listener the kernel reports the accept queue's length in
  // tcpi_unacked and the backlog in tcpi_sacked.
  if (ti.tcpi_unacked != 0) {
    return ctx.Error(
        absl::StatusCode::kFailedPrecondition,
        absl::StrCat("the listening socket has ", ti.tcpi_unacked,
                     " connection(s) waiting in its accept queue, which the "
                     "kernel's repair interface cannot save or recreate: "
                     "accept them first and checkpoint them as connections"));
  }
  s.listen_backlog = ti.tcpi_sacked;
  return absl::OkStatus();
}

// SYN_SENT: only the initial sequence number matters; nothing is
// negotiated yet, and the queues are empty (the kernel reports none).
absl::Status SaveSynSent(const sys::Sys& sys, BorrowedFd fd, ConnectionState& s,
                         const ErrorContext& ctx) {
  SOCCR_RETURN_IF_ERROR(ctx.Check(
      "select send queue", sys.SetRepairQueue(fd, sys::RepairQueue::kSend)));
  SOCCR_ASSIGN_OR_RETURN(
      const uint32_t seq,
      ctx.Check("read send queue sequence", sys.GetQueueSeq(fd)));
  s.outq_seq = seq;  // the SYN's sequence number + 1
  // Data sent with the SYN (TCP Fast Open) would be in the send queue. A
  // one-byte peek finds it: the kernel copies whole buffers and fails with
  // EFAULT when they do not fit.
  uint8_t byte = 0;
  const sys::Result<size_t> peek = sys.Peek(fd, absl::Span<uint8_t>(&byte, 1));
  if ((peek.ok() && peek.value > 0) || (!peek.ok() && peek.err == EFAULT)) {
    return ctx.Error(absl::StatusCode::kUnimplemented,
                     "the SYN carries data (TCP Fast Open): a restore could "
                     "not send it again with the SYN");
  }
  if (!peek.ok()) {
    return ctx.SysError("read send queue", peek);
  }
  return absl::OkStatus();
}

// A connection in repair mode: any state from ESTABLISHED to CLOSE. The
// queues are copied into `buffer` if the caller gave one.
// `diag`: sock_diag's answer about the socket, if it was asked; its queue
// lengths spare the ioctls. `peek_offset`: the application's SO_PEEK_OFF,
// as PeekReceiveQueue takes it.
absl::Status SaveConnection(const sys::Sys& sys, BorrowedFd fd,
                            const struct tcp_info& ti,
                            const internal::SockDiagAnswer* diag,
                            CheckpointBuffer* buffer,
                            std::optional<int>& peek_offset, ConnectionState& s,
                            const ErrorContext& ctx) {
  if (ti.tcpi_options & TCPI_OPT_USEC_TS) {
    return ctx.Error(absl::StatusCode::kUnimplemented,
                     "the connection uses microsecond TCP timestamps, which "
                     "the kernel's repair interface cannot restore");
  }
  if (s.state == TcpState::kSynSent) return SaveSynSent(sys, fd, s, ctx);
  s.options.sack = (ti.tcpi_options & TCPI_OPT_SACK) != 0;
  s.options.timestamps = (ti.tcpi_options & TCPI_OPT_TIMESTAMPS) != 0;
  s.options.window_scaling = (ti.tcpi_options & TCPI_OPT_WSCALE) != 0;
  if (s.options.window_scaling) {
    s.options.snd_wscale = ti.tcpi_snd_wscale;
    s.options.rcv_wscale = ti.tcpi_rcv_wscale;
  }

  // A closed connection's send queue is gone (a reset purges it; after both
  // FINs it was empty): the kernel's lengths would only count what was
  // never acknowledged.
  const bool closed = s.state == TcpState::kClose;
  // sock_diag's lengths, taken with the tcp_info above: write_seq - snd_una
  // is SIOCOUTQ's, and tcp_info's tcpi_notsent_bytes (write_seq - snd_nxt,
  // where the kernel's struct has it) SIOCOUTQNSD's. Its rcv_nxt -
  // copied_seq counts the peer's FIN until the application reads it (as
  // SIOCINQ, which leaves it out, does not), and does not stop at an urgent
  // mark (as SIOCINQ does). A closed socket is in no lookup table: the
  // ioctls it is.
  const bool from_diag = diag != nullptr && diag->found &&
                         diag->rqueue.has_value() && diag->wqueue.has_value();
  sys::Result<int> outq{0, 0};
  if (!closed) {
    outq = from_diag ? sys::Result<int>{static_cast<int>(*diag->wqueue), 0}
                     : sys.GetOutq(fd);
    if (!outq.ok()) {
      return ctx.SysError("read send queue length", outq);
    }
  }
  // Nothing queued means nothing unsent: skip the call.
  sys::Result<int> unsent{0, 0};
  if (outq.value > 0) {
    unsent = from_diag && diag->notsent.has_value()
                 ? sys::Result<int>{static_cast<int>(*diag->notsent), 0}
                 : sys.GetOutqNotSent(fd);
    if (!unsent.ok()) {
      return ctx.SysError("read unsent length", unsent);
    }
  }
  int inq = 0;
  if (from_diag) {
    // The peer's FIN, if it came, is the last of rcv_nxt - copied_seq
    // until a read takes it.
    const bool unread_fin =
        internal::PeerFinReceived(s.state) && *diag->rqueue > 0;
    inq = static_cast<int>(*diag->rqueue - (unread_fin ? 1 : 0));
  } else {
    SOCCR_ASSIGN_OR_RETURN(
        inq, ctx.Check("read receive queue length", sys.GetInq(fd)));
  }
  // SIOCOUTQ and SIOCOUTQNSD count our unacknowledged FIN, which is no
  // byte of data (SIOCINQ leaves the peer's out).
  const bool fin_in_outq =
      internal::OurFinQueued(s.state) && !internal::OurFinAcked(s.state);
  if (outq.value < 0 || unsent.value < 0 || inq < 0 ||
      unsent.value > outq.value || (fin_in_outq && outq.value < 1)) {
    return ctx.Error(absl::StatusCode::kInternal,
                     absl::StrCat("the kernel reports impossible queue "
                                  "lengths in ",
                                  TcpStateName(s.state), ": outq ", outq.value,
                                  ", unsent ", unsent.value, ", inq ", inq));
  }
  s.outq_len = static_cast<uint32_t>(outq.value - (fin_in_outq ? 1 : 0));
  // The FIN is the last thing queued: if anything is unsent, it is.
  s.unsent_len = static_cast<uint32_t>(
      unsent.value - (fin_in_outq && unsent.value > 0 ? 1 : 0));
  // The receive queue's sequence space; the bytes the application will
  // read may be one fewer (PeekReceiveQueue).
  const size_t inq_span = static_cast<uint32_t>(inq);
  if (buffer != nullptr) {
    // Both queues, each with its byte of spare room.
    buffer->Prepare(inq_span + s.outq_len + 2);
  }

  // The receive queue: its end sequence number, then its bytes.
  SOCCR_RETURN_IF_ERROR(ctx.Check(
      "select receive queue", sys.SetRepairQueue(fd, sys::RepairQueue::kRecv)));
  SOCCR_ASSIGN_OR_RETURN(
      const uint32_t inq_seq,
      ctx.Check("read receive queue sequence", sys.GetQueueSeq(fd)));
  s.inq_seq = inq_seq - (internal::PeerFinReceived(s.state) ? 1 : 0);
  SOCCR_ASSIGN_OR_RETURN(
      s.recv_queue,
      PeekReceiveQueue(sys, fd, inq_span, buffer, peek_offset, ctx));
  s.inq_len = static_cast<uint32_t>(s.recv_queue.size());

  // The send queue, the same way.
  SOCCR_RETURN_IF_ERROR(ctx.Check(
      "select send queue", sys.SetRepairQueue(fd, sys::RepairQueue::kSend)));
  SOCCR_ASSIGN_OR_RETURN(
      const uint32_t outq_seq,
      ctx.Check("read send queue sequence", sys.GetQueueSeq(fd)));
  s.outq_seq = outq_seq - (internal::OurFinQueued(s.state) ? 1 : 0);
  SOCCR_ASSIGN_OR_RETURN(s.send_queue,
                         PeekQueue(sys, fd, s.outq_len, "send", buffer, ctx));

  // In repair mode TCP_MAXSEG reports mss_clamp: the peer's MSS.
  SOCCR_ASSIGN_OR_RETURN(
      const int mss,
      ctx.Check("read MSS", sys.GetSockOptInt(fd, SOL_TCP, TCP_MAXSEG)));
  s.options.mss_clamp = static_cast<uint32_t>(mss);

  if (s.options.timestamps) {
    SOCCR_ASSIGN_OR_RETURN(const uint32_t ts,
                           ctx.Check("read timestamp", sys.GetTimestamp(fd)));
    s.timestamp = ts;
  }

  const sys::Result<struct tcp_repair_window> w = sys.GetRepairWindow(fd);
  if (w.ok()) {
    s.window = TcpWindow{w.value.snd_wl1, w.value.snd_wnd, w.value.max_window,
                         w.value.rcv_wnd, w.value.rcv_wup};
    // Repair mode does not stop the kernel from taking in what the peer
    // sends: a window updated past the rcv_nxt read above means data came
    // in meanwhile, and the state would be torn (tcp_repair_set_window
    // would refuse it).
    if (static_cast<int32_t>(inq_seq - w.value.rcv_wup) < 0) {
      return ctx.Error(
          absl::StatusCode::kUnavailable,
          "the connection received data while it was checkpointed (its "
          "window moved past the receive queue read): block the peer's "
          "packets while checkpointing");
    }
  } else if (w.err != ENOPROTOOPT) {
    // ENOPROTOOPT: a kernel before 4.8, where the window is not restorable.
    return ctx.SysError("read window", w);
  }

  if (closed) {
    // The error a reset left, if the application has not seen it. Reading
    // it clears it, so look first: poll() shows it without clearing.
    SOCCR_ASSIGN_OR_RETURN(const short ev, ctx.Check("look for a pending error",
                                                     sys.Poll(fd, POLLERR, 0)));
    if (ev & POLLERR) {
      SOCCR_ASSIGN_OR_RETURN(
          const int err,
          ctx.Check("read the pending error",
                    sys.GetSockOptInt(fd, SOL_SOCKET, SO_ERROR)));
      s.pending_error = static_cast<uint32_t>(err);
    }
  }
  return absl::OkStatus();
}

}  // namespace

// The socket's local address and, if it has one, its peer's (a listener
// or a socket never connected has none: empty), named in `ctx` from then.
absl::Status ReadEndpoints(const sys::Sys& sys, BorrowedFd fd,
                           SocketAddress& local, SocketAddress& peer,
                           ErrorContext& ctx) {
  SOCCR_ASSIGN_OR_RETURN(local,
                         ctx.Check("read local address", sys.GetSockName(fd)));
  if (sys::Result<SocketAddress> p = sys.GetPeerName(fd); p.ok()) {
    peer = p.value;
  }
  ctx.SetEndpoints(local, peer);
  return absl::OkStatus();
}

absl::Status CheckCarriable(BorrowedFd fd, const sys::Sys& sys) {
  ErrorContext ctx("checkpoint", fd);
  ConnectionState s;
  // No peer: the checks take the local address alone, as Checkpoint's do.
  SOCCR_RETURN_IF_ERROR(ReadEndpoints(sys, fd, s.local, s.peer, ctx));
  return RefuseWhatARestoreCannotCarry(sys, fd, s, ctx);
}

absl::StatusOr<std::vector<SocketOption>> ReadSocketOptions(
    BorrowedFd fd, const sys::Sys& sys) {
  ErrorContext ctx("read socket options", fd);
  SOCCR_ASSIGN_OR_RETURN(const SocketAddress local,
                         ctx.Check("read local address", sys.GetSockName(fd)));
  ctx.SetEndpoints(local, SocketAddress());
  return internal::ReadOptionTable(sys, fd, local.family(), std::nullopt, ctx);
}

absl::StatusOr<ReadAheadState> ReadAhead(BorrowedFd fd, const sys::Sys& sys) {
  ErrorContext ctx("read ahead", fd);
  ReadAheadState r;
  SOCCR_RETURN_IF_ERROR(ReadEndpoints(sys, fd, r.local, r.peer, ctx));
  SOCCR_ASSIGN_OR_RETURN(
      r.socket_options,
      internal::ReadOptionTable(sys, fd, r.local.family(), std::nullopt, ctx));
  // The table's read of SO_REUSEADDR, which it leaves out at 0.
  r.reuse_addr =
      internal::IntOptionIn(r.socket_options, SOL_SOCKET, SO_REUSEADDR)
          .value_or(0);
  SOCCR_ASSIGN_OR_RETURN(r.buffer_locks,
                         internal::ReadBufferLocks(sys, fd, ctx));
  if (const sys::Result<uint64_t> cookie = internal::ReadCookie(sys, fd);
      cookie.ok()) {
    r.cookie = cookie.value;
  }
  return r;
}

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
  const ReadAheadState* const ahead = options.read_ahead;
  // The caller's netlink socket for the sock_diag question, if it keeps one.
  const internal::SockDiagSessionScope session(options.sock_diag);

  if (ahead == nullptr) {
    SOCCR_ASSIGN_OR_RETURN(
        s.local, ctx.Check("read local address", sys.GetSockName(fd)));
  }

  // sock_diag's answer about a connected socket carries the tcp_info
  // getsockopt(TCP_INFO) would read (the same tcp_get_info()), the TCP-MD5
  // check's keys and the only receive queue length that does not stop at
  // an urgent mark (SIOCINQ does: a queue read to that length loses what
  // follows the mark). So ask it first, whether or not the carriable checks
  // run here, and skip those calls. Addresses read ahead name the
  // connection while it is connected; the answer, matched by SO_COOKIE,
  // says it still is. Otherwise getpeername() tells: a listener, a socket
  // never connected, CLOSE and SYN_SENT say ENOTCONN and take the
  // getsockopt.
  std::optional<internal::SockDiagAnswer> diag;
  sys::Result<SocketAddress> early_peer{SocketAddress(), ENOTCONN,
                                        sys::Op::kGetPeerName};
  if (ahead != nullptr && !ahead->peer.empty()) {
    SOCCR_ASSIGN_OR_RETURN(
        diag, internal::AskSockDiag(sys, fd, ahead->local, ahead->peer, ctx,
                                    ahead->cookie, options.check_carriable,
                                    options.socket_options));
    // Not found: no longer hashed under them (a reset since).
    if (!diag->found) diag.reset();
  } else {
    early_peer = sys.GetPeerName(fd);
    if (early_peer.ok()) {
      // Still connected: the local address read ahead is still its own.
      if (ahead != nullptr) s.local = ahead->local;
      ctx.SetEndpoints(s.local, early_peer.value);
      SOCCR_ASSIGN_OR_RETURN(
          diag, internal::AskSockDiag(sys, fd, s.local, early_peer.value, ctx,
                                      std::nullopt, options.check_carriable,
                                      options.socket_options));
    } else if (early_peer.err != ENOTCONN) {
      return ctx.SysError("read peer address", early_peer);
    }
  }
  struct tcp_info ti = {};
  if (diag.has_value() && diag->info.has_value()) {
    ti = *diag->info;
  } else {
    SOCCR_ASSIGN_OR_RETURN(
        ti, ctx.Check("read connection state", sys.GetTcpInfo(fd)));
  }
  if (!IsKnownTcpState(ti.tcpi_state)) {
    return ctx.Error(
        absl::StatusCode::kInternal,
        absl::StrCat("the kernel reports unknown TCP state ", ti.tcpi_state));
  }
  s.state = static_cast<TcpState>(ti.tcpi_state);

  // Addresses read ahead hold while the socket is connected (hashed under
  // them); a reset since may have freed its port (inet_put_port), and a
  // socket never connected has no peer to take: those read them now.
  const bool connected_state = s.state != TcpState::kListen &&
                               s.state != TcpState::kClose &&
                               s.state != TcpState::kSynSent;
  if (ahead != nullptr) {
    if (connected_state && !ahead->peer.empty()) {
      s.local = ahead->local;
      s.peer = ahead->peer;
    } else {
      SOCCR_ASSIGN_OR_RETURN(
          s.local, ctx.Check("read local address", sys.GetSockName(fd)));
    }
  }
  const bool peer_known = ahead != nullptr && !s.peer.empty();

  switch (s.state) {
    case TcpState::kListen:
      break;
    case TcpState::kClose:
    case TcpState::kSynSent: {
      // getpeername() says ENOTCONN here; SO_PEERNAME still tells.
      SOCCR_ASSIGN_OR_RETURN(
          s.peer, internal::PeerAddress(sys, fd, s.local.family(), ctx));
      break;
    }
    default: {
      if (peer_known) break;
      if (early_peer.ok()) {
        s.peer = early_peer.value;
        break;
      }
      SOCCR_ASSIGN_OR_RETURN(
          s.peer, ctx.Check("read peer address", sys.GetPeerName(fd)));
      break;
    }
  }
  ctx.SetEndpoints(s.local, s.peer);
  SOCCR_RETURN_IF_ERROR(CheckCheckpointable(s.state, ctx));

  const bool connection = s.state != TcpState::kListen && !s.peer.empty();
  if (options.check_carriable && (connection || s.state == TcpState::kListen)) {
    const std::optional<bool> md5 =
        diag.has_value() ? std::optional<bool>(diag->md5) : std::nullopt;
    if (absl::Status st = RefuseWhatARestoreCannotCarry(sys, fd, s, ctx, md5);
        !st.ok()) {
      return st;
    }
  }
  // SO_PEEK_OFF is read once: an option table read ahead holds it;
  // otherwise the receive queue's walk reads it (when there is a queue)
  // and the option table below takes that value.
  std::optional<int> peek_offset;
  if (ahead != nullptr) {
    peek_offset = internal::PeekOffsetIn(ahead->socket_options);
  } else if (options.socket_options_read_ahead != nullptr) {
    peek_offset = internal::PeekOffsetIn(*options.socket_options_read_ahead);
  }
  if (s.state == TcpState::kListen) {
    SOCCR_RETURN_IF_ERROR(SaveListener(ti, s, ctx));
  } else if (connection) {
    if (!socket.in_repair_mode()) {
      return ctx.Error(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat("the socket was paused as a listener, "
                                    "without repair mode, and is now ",
                                    TcpStateName(s.state)));
    }
    SOCCR_RETURN_IF_ERROR(SaveConnection(sys, fd, ti,
                                         diag.has_value() ? &*diag : nullptr,
                                         options.buffer, peek_offset, s, ctx));
  }

  if (options.socket_options) {
    // The values sock_diag's answer carries are the ones getsockopt()
    // would read now: the answer was taken at this pause.
    const internal::SockDiagAnswer* const diag_answer =
        diag.has_value() ? &*diag : nullptr;
    std::optional<int> reuse_addr;
    if (socket.in_repair_mode()) {
      reuse_addr = internal::PausedSocketAccess::ReuseAddr(socket);
    }
    if (ahead != nullptr) {
      SOCCR_RETURN_IF_ERROR(internal::SaveSocketBuffers(
          sys, fd, s, ctx, &ahead->buffer_locks, diag_answer));
      s.socket_options = ahead->socket_options;
    } else if (options.socket_options_read_ahead != nullptr) {
      SOCCR_RETURN_IF_ERROR(
          internal::SaveSocketBuffers(sys, fd, s, ctx, nullptr, diag_answer));
      s.socket_options = *options.socket_options_read_ahead;
    } else {
      SOCCR_RETURN_IF_ERROR(internal::SaveSocketOptions(
          sys, fd, reuse_addr, s, ctx, peek_offset, diag_answer));
    }
  }

  if (const internal::PendingResume* p =
          internal::PausedSocketAccess::Pending(socket);
      p != nullptr) {
    internal::MergePending(*p, options.socket_options, s);
  }
  return s;
}

}  // namespace soccr
