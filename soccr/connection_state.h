// soccr/connection_state.h: everything needed to recreate a TCP connection.
//
// A ConnectionState is a plain value: Checkpoint() fills one from a paused
// socket, Restore() builds a new socket from one, and the image format
// stores one. A test harness may also build one from nothing (choose the
// addresses and sequence numbers, leave the queues empty) to create a
// connection without a handshake.
//
//   soccr::ConnectionState s;
//   s.state = soccr::TcpState::kEstablished;
//   s.local = soccr::SocketAddress::Loopback4(1000);
//   s.peer = soccr::SocketAddress::Loopback4(2000);
//   s.inq_seq = 1000;   // the next byte we expect from the peer
//   s.outq_seq = 5000;  // the next byte we will send
//
// Sequence-number conventions: `inq_seq` is the sequence number just past
// the last byte of data received, `outq_seq` just past the last byte of data
// written. The receive queue therefore starts at inq_seq - inq_len, and the
// send queue (its oldest unacknowledged byte) at outq_seq - outq_len. Only
// data counts: a FIN is not a byte of any queue, so where the kernel's own
// numbers (rcv_nxt and write_seq, which libsoccr saves as they are) count
// one, these do not, and the FIN's sequence number is inq_seq (the peer's)
// or outq_seq (ours). Which FINs exist follows from `state`:
//
//   state        our FIN                 the peer's FIN
//   ESTABLISHED  -                       -
//   FIN_WAIT1    queued or sent, unacked -
//   FIN_WAIT2    acknowledged            -
//   CLOSE_WAIT   -                       received
//   LAST_ACK     queued or sent, unacked received
//   CLOSING      queued or sent, unacked received
//
// Whether our unacknowledged FIN was sent already is not saved: it is
// queued behind unsent data when there is some, and counts as sent (the
// kernel retransmits it) when there is none. Other states:
//
//   SYN_SENT  outq_seq is the initial sequence number + 1 (where data would
//             start); inq_seq is 0; no queues, no negotiated options, no
//             window or timestamp yet.
//   CLOSE     With a peer address: a connection that ended (reset, or both
//             FINs exchanged) whose socket is still open. Only received data
//             is left (outq_len is 0); inq_seq is the kernel's rcv_nxt as it
//             was, which may count the peer's FIN (the kernel does not say;
//             a closed socket never receives again, so nothing depends on
//             it). `pending_error` is the error it has not reported yet.
//             Without a peer address: a socket never connected, bound to
//             `local` (or not bound, if the local port is 0).
//   LISTEN    `local` and `listen_backlog`; no peer, no queues.

#ifndef SOCCR_CONNECTION_STATE_H_
#define SOCCR_CONNECTION_STATE_H_

#include <stdint.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "soccr/address.h"
#include "soccr/field_list.h"
#include "soccr/queue_bytes.h"
#include "soccr/socket_options.h"
#include "soccr/tcp_state.h"

namespace soccr {

// Options negotiated in the handshake (restored with TCP_REPAIR_OPTIONS).
struct TcpOptions {
  bool sack = false;
  bool timestamps = false;
  bool window_scaling = false;
  // Shift applied to the window the peer advertises (its scale), and to the
  // window we advertise (ours). At most 14 (RFC 7323).
  uint8_t snd_wscale = 0;
  uint8_t rcv_wscale = 0;
  // The largest segment the peer accepts (its MSS option; the kernel's
  // mss_clamp). 0: unknown, leave the kernel's default.
  uint32_t mss_clamp = 0;

  // Compares every field of kTcpOptionsFields.
  friend bool operator==(const TcpOptions& a, const TcpOptions& b);
  friend bool operator!=(const TcpOptions& a, const TcpOptions& b) {
    return !(a == b);
  }
};

// Window parameters (TCP_REPAIR_WINDOW, Linux 4.8+), in bytes, unscaled.
struct TcpWindow {
  uint32_t snd_wl1 = 0;     // segment sequence of the last window update
  uint32_t snd_wnd = 0;     // the peer's receive window
  uint32_t max_window = 0;  // the largest window the peer has offered
  uint32_t rcv_wnd = 0;     // our current receive window
  uint32_t rcv_wup = 0;     // rcv_nxt at our last window update

  // Compares every field of kTcpWindowFields.
  friend bool operator==(const TcpWindow& a, const TcpWindow& b);
  friend bool operator!=(const TcpWindow& a, const TcpWindow& b) {
    return !(a == b);
  }
};

// Socket buffer sizes as getsockopt(SO_SNDBUF/SO_RCVBUF) reports them (the
// kernel's doubled values), and whether the application fixed them
// (SO_BUF_LOCK's bits; an unlocked buffer is autotuned).
struct SocketBuffers {
  uint32_t sndbuf = 0;
  uint32_t rcvbuf = 0;
  bool sndbuf_locked = false;
  bool rcvbuf_locked = false;

  // Compares every field of kSocketBuffersFields.
  friend bool operator==(const SocketBuffers& a, const SocketBuffers& b);
  friend bool operator!=(const SocketBuffers& a, const SocketBuffers& b) {
    return !(a == b);
  }
};

// The complete state of one TCP socket: a connection in any state the
// kernel lets a descriptor see, a listener, or a socket never connected. See
// the file comment.
struct ConnectionState {
  TcpState state = TcpState::kClose;

  SocketAddress local;
  SocketAddress peer;

  // Receive queue: bytes received and not yet read by the application.
  uint32_t inq_seq = 0;  // rcv_nxt
  uint32_t inq_len = 0;  // == recv_queue.size()
  QueueBytes recv_queue;

  // Send queue: bytes written and not yet acknowledged. Its last
  // `unsent_len` bytes have not been sent at all yet.
  uint32_t outq_seq = 0;    // write_seq
  uint32_t outq_len = 0;    // == send_queue.size()
  uint32_t unsent_len = 0;  // <= outq_len
  QueueBytes send_queue;

  TcpOptions options;
  // The TCP timestamp clock as the peer sees it (TCP_TIMESTAMP); meaningful
  // when options.timestamps.
  uint32_t timestamp = 0;

  // Absent when the kernel that took the checkpoint had no
  // TCP_REPAIR_WINDOW (the C API's SOCCR_FLAGS_WINDOW).
  std::optional<TcpWindow> window;

  // Absent when the checkpoint did not save socket options.
  std::optional<SocketBuffers> buffers;
  std::vector<SocketOption> socket_options;

  // LISTEN only (0 otherwise): the backlog the listener was given, as the
  // kernel holds it (listen()'s argument capped at net.core.somaxconn).
  uint32_t listen_backlog = 0;
  // CLOSE with a peer only (0 otherwise): the errno the socket reports next
  // (SO_ERROR, and the next read or write), e.g. ECONNRESET after a reset.
  // 0: none pending.
  uint32_t pending_error = 0;

  // One line for logs and test failures, generated from the field lists
  // below, so that a member added to a struct and its list is shown too:
  // every field as name=value, by its list name, in list order, separated
  // by single spaces (wrapped here):
  //
  //   state=ESTABLISHED local=127.0.0.1:80 peer=127.0.0.1:4242
  //   inq_seq=1000 inq_len=2 recv_queue=<2 bytes> outq_seq=5000
  //   outq_len=0 unsent_len=0 send_queue=<0 bytes> options={sack=1
  //   timestamps=0 window_scaling=0 snd_wscale=0 rcv_wscale=0
  //   mss_clamp=1460} timestamp=0 window=none buffers={sndbuf=4096
  //   rcvbuf=8192 sndbuf_locked=1 rcvbuf_locked=0}
  //   socket_options=[TCP_NODELAY=1] listen_backlog=0 pending_error=0
  //
  // Numbers in decimal, bools as 1 or 0, the state by its name
  // (TcpStateName), addresses by SocketAddress::ToString() ("(none)" when
  // empty), a queue by its size only (its bytes are never shown), a struct
  // with a field list as {its fields}, an absent optional as "none", and
  // the socket options as SocketOptionToString() each, in [...]. Not a
  // format to parse: it changes with the fields.
  std::string ToString() const;
  // "10.0.0.1:80->10.0.0.2:4242"
  std::string Endpoints() const;

  // Compares every field of kConnectionStateFields.
  friend bool operator==(const ConnectionState& a, const ConnectionState& b);
  friend bool operator!=(const ConnectionState& a, const ConnectionState& b) {
    return !(a == b);
  }
};

// The field lists (soccr/field_list.h) of the structs above: every member,
// once, in declaration order. They are what operator== compares and what
// the tests perturb one field at a time (soccr/testing/perturbations.h),
// so that a field the image does not carry is caught. connection_state.cc
// checks each against its struct's member count: a member added to a
// struct and not here does not compile. A new member also needs a place in
// the image format (docs/image-format.md, soccr/image/writer.cc and
// reader.cc).
//
//   std::vector<std::string> names;
//   soccr::VisitFields(state, [&](const char* name, const auto& value) {
//     names.push_back(name);
//   });

inline constexpr auto kTcpOptionsFields =
    std::make_tuple(Field{"sack", &TcpOptions::sack},
                    Field{"timestamps", &TcpOptions::timestamps},
                    Field{"window_scaling", &TcpOptions::window_scaling},
                    Field{"snd_wscale", &TcpOptions::snd_wscale},
                    Field{"rcv_wscale", &TcpOptions::rcv_wscale},
                    Field{"mss_clamp", &TcpOptions::mss_clamp});
constexpr const auto& FieldListOf(const TcpOptions&) {
  return kTcpOptionsFields;
}

inline constexpr auto kTcpWindowFields =
    std::make_tuple(Field{"snd_wl1", &TcpWindow::snd_wl1},
                    Field{"snd_wnd", &TcpWindow::snd_wnd},
                    Field{"max_window", &TcpWindow::max_window},
                    Field{"rcv_wnd", &TcpWindow::rcv_wnd},
                    Field{"rcv_wup", &TcpWindow::rcv_wup});
constexpr const auto& FieldListOf(const TcpWindow&) { return kTcpWindowFields; }

inline constexpr auto kSocketBuffersFields =
    std::make_tuple(Field{"sndbuf", &SocketBuffers::sndbuf},
                    Field{"rcvbuf", &SocketBuffers::rcvbuf},
                    Field{"sndbuf_locked", &SocketBuffers::sndbuf_locked},
                    Field{"rcvbuf_locked", &SocketBuffers::rcvbuf_locked});
constexpr const auto& FieldListOf(const SocketBuffers&) {
  return kSocketBuffersFields;
}

// A field of ConnectionState (kept for the code that spells the type out).
template <typename M>
using ConnectionStateField = Field<ConnectionState, M>;

inline constexpr auto kConnectionStateFields =
    std::make_tuple(Field{"state", &ConnectionState::state},
                    Field{"local", &ConnectionState::local},
                    Field{"peer", &ConnectionState::peer},
                    Field{"inq_seq", &ConnectionState::inq_seq},
                    Field{"inq_len", &ConnectionState::inq_len},
                    Field{"recv_queue", &ConnectionState::recv_queue},
                    Field{"outq_seq", &ConnectionState::outq_seq},
                    Field{"outq_len", &ConnectionState::outq_len},
                    Field{"unsent_len", &ConnectionState::unsent_len},
                    Field{"send_queue", &ConnectionState::send_queue},
                    Field{"options", &ConnectionState::options},
                    Field{"timestamp", &ConnectionState::timestamp},
                    Field{"window", &ConnectionState::window},
                    Field{"buffers", &ConnectionState::buffers},
                    Field{"socket_options", &ConnectionState::socket_options},
                    Field{"listen_backlog", &ConnectionState::listen_backlog},
                    Field{"pending_error", &ConnectionState::pending_error});
constexpr const auto& FieldListOf(const ConnectionState&) {
  return kConnectionStateFields;
}

inline constexpr size_t kConnectionStateFieldCount =
    FieldCount<ConnectionState>();

inline bool operator==(const TcpOptions& a, const TcpOptions& b) {
  return FieldsEqual(a, b);
}
inline bool operator==(const TcpWindow& a, const TcpWindow& b) {
  return FieldsEqual(a, b);
}
inline bool operator==(const SocketBuffers& a, const SocketBuffers& b) {
  return FieldsEqual(a, b);
}

}  // namespace soccr

#endif  // SOCCR_CONNECTION_STATE_H_
