#include "soccr/checkpoint.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>

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
    return ctx.SysError(absl::StrCat("read ", name, " queue"), r);
  }
  if (r.value != len) {
    return ctx.Error(
        absl::StatusCode::kUnavailable,
        absl::StrCat("the ", name, " queue changed while it was read (", len,
                     " bytes expected, ", r.value,
                     " found): block the peer's packets while checkpointing"));
  }
  return bytes.Subrange(0, len);
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
absl::Status SaveConnection(const sys::Sys& sys, BorrowedFd fd,
                            const struct tcp_info& ti, CheckpointBuffer* buffer,
                            ConnectionState& s, const ErrorContext& ctx) {
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
  sys::Result<int> outq{0, 0};
  if (!closed) {
    outq = sys.GetOutq(fd);
    if (!outq.ok()) {
      return ctx.SysError("read send queue length", outq);
    }
  }
  // Nothing queued means nothing unsent: skip the call.
  sys::Result<int> unsent{0, 0};
  if (outq.value > 0) {
    unsent = sys.GetOutqNotSent(fd);
    if (!unsent.ok()) {
      return ctx.SysError("read unsent length", unsent);
    }
  }
  SOCCR_ASSIGN_OR_RETURN(
      const int inq, ctx.Check("read receive queue length", sys.GetInq(fd)));
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
  s.inq_len = static_cast<uint32_t>(inq);
  if (buffer != nullptr) {
    // Both queues, each with its byte of spare room.
    buffer->Prepare(size_t{s.inq_len} + s.outq_len + 2);
  }

  // The receive queue: its end sequence number, then its bytes.
  SOCCR_RETURN_IF_ERROR(ctx.Check(
      "select receive queue", sys.SetRepairQueue(fd, sys::RepairQueue::kRecv)));
  SOCCR_ASSIGN_OR_RETURN(
      const uint32_t inq_seq,
      ctx.Check("read receive queue sequence", sys.GetQueueSeq(fd)));
  s.inq_seq = inq_seq - (internal::PeerFinReceived(s.state) ? 1 : 0);
  SOCCR_ASSIGN_OR_RETURN(s.recv_queue,
                         PeekQueue(sys, fd, s.inq_len, "receive", buffer, ctx));

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
  for (const SocketOption& o : r.socket_options) {
    if (o.level == SOL_SOCKET && o.name == SO_REUSEADDR &&
        o.value.size() == sizeof(int)) {
      memcpy(&r.reuse_addr, o.value.data(), sizeof(int));
    }
  }
  SOCCR_ASSIGN_OR_RETURN(r.buffer_locks,
                         internal::ReadBufferLocks(sys, fd, ctx));
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

  if (ahead == nullptr) {
    SOCCR_ASSIGN_OR_RETURN(
        s.local, ctx.Check("read local address", sys.GetSockName(fd)));
  }

  // The TCP-MD5 check below asks sock_diag about the connection anyway, and
  // its answer carries the tcp_info getsockopt(TCP_INFO) would read (the
  // same tcp_get_info()): for a connected socket (getpeername() answers),
  // ask it first and skip that call. A listener, a socket never connected,
  // CLOSE and SYN_SENT say ENOTCONN and take the getsockopt.
  std::optional<struct tcp_info> diag_info;
  std::optional<bool> md5;
  sys::Result<SocketAddress> early_peer{SocketAddress(), ENOTCONN,
                                        sys::Op::kGetPeerName};
  if (options.check_carriable) {
    early_peer = sys.GetPeerName(fd);
    if (early_peer.ok()) {
      // Still connected: the local address read ahead is still its own.
      if (ahead != nullptr) s.local = ahead->local;
      ctx.SetEndpoints(s.local, early_peer.value);
      SOCCR_ASSIGN_OR_RETURN(
          const internal::SockDiagAnswer a,
          internal::AskSockDiag(sys, fd, s.local, early_peer.value, ctx));
      md5 = a.md5;
      diag_info = a.info;
    } else if (early_peer.err != ENOTCONN) {
      return ctx.SysError("read peer address", early_peer);
    }
  }
  struct tcp_info ti = {};
  if (diag_info.has_value()) {
    ti = *diag_info;
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
    if (absl::Status st = RefuseWhatARestoreCannotCarry(sys, fd, s, ctx, md5);
        !st.ok()) {
      return st;
    }
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
    SOCCR_RETURN_IF_ERROR(SaveConnection(sys, fd, ti, options.buffer, s, ctx));
  }

  if (options.socket_options) {
    std::optional<int> reuse_addr;
    if (socket.in_repair_mode()) {
      reuse_addr = internal::PausedSocketAccess::ReuseAddr(socket);
    }
    if (ahead != nullptr) {
      SOCCR_RETURN_IF_ERROR(
          internal::SaveSocketBuffers(sys, fd, s, ctx, &ahead->buffer_locks));
      s.socket_options = ahead->socket_options;
    } else if (options.socket_options_read_ahead != nullptr) {
      SOCCR_RETURN_IF_ERROR(internal::SaveSocketBuffers(sys, fd, s, ctx));
      s.socket_options = *options.socket_options_read_ahead;
    } else {
      SOCCR_RETURN_IF_ERROR(
          internal::SaveSocketOptions(sys, fd, reuse_addr, s, ctx));
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
