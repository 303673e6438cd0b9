#include "fuzz/fuzz_input.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/time.h>

#include <algorithm>
#include <set>
#include <utility>

#include "soccr/restore_plan.h"
#include "soccr/socket_options.h"

namespace soccr::fuzzing {
namespace {

SocketAddress Address(FuzzInput& in, int kind) {
  const uint16_t port = in.U16();
  switch (kind) {
    case 0:
      return SocketAddress::V4(in.U32(), port);
    case 1: {
      uint8_t a[16];
      for (uint8_t& b : a) b = in.U8();
      const uint32_t flowinfo = in.U32();
      return SocketAddress::V6(a, port, flowinfo, in.U32());
    }
    case 2: {
      uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      for (int i = 12; i < 16; ++i) a[i] = in.U8();
      return SocketAddress::V6(a, port);
    }
    default:
      return SocketAddress();
  }
}

QueueBytes Queue(FuzzInput& in) {
  // Up to 64 KiB: enough for every code path, small enough to be fast. A
  // size class first (empty, 1 byte, ... 64 KiB), so that random inputs
  // give short and empty queues as often as long ones.
  const size_t cap = (size_t{1} << (in.U8() % 17)) - 1;
  const std::string bytes = in.Bytes(cap);
  return QueueBytes::Copy(bytes);
}

// Brings `value` into what the kernel's setter for `spec` accepts.
void ShapeValue(const SockOptSpec& spec, std::string& value) {
  if (spec.kind == SockOptKind::kInt && value.size() == sizeof(int)) {
    int v = 0;
    memcpy(&v, value.data(), sizeof(v));
    const int64_t span = int64_t{spec.max_int} - spec.min_int + 1;
    v = static_cast<int>(spec.min_int + (int64_t{v} - INT_MIN) % span);
    memcpy(value.data(), &v, sizeof(v));
  } else if (spec.kind == SockOptKind::kTimeval &&
             value.size() == sizeof(struct timeval)) {
    struct timeval t = {};
    memcpy(&t, value.data(), sizeof(t));
    t.tv_usec =
        static_cast<suseconds_t>(static_cast<uint64_t>(t.tv_usec) % 1000000);
    memcpy(value.data(), &t, sizeof(t));
  }
}

void SocketOptions(FuzzInput& in, bool raw, ConnectionState& s) {
  const absl::Span<const SockOptSpec> table = SocketOptionTable();
  const int count = in.U8() % 8;
  std::set<std::pair<int, int>> seen;
  for (int i = 0; i < count; ++i) {
    const size_t pick = in.U8() % (table.size() + 1);
    SocketOption o;
    if (pick == table.size()) {
      o.level = static_cast<int32_t>(in.U32());
      o.name = static_cast<int32_t>(in.U32());
      o.value = in.Bytes(32);
    } else {
      const SockOptSpec& spec = table[pick];
      o.level = spec.level;
      o.name = spec.name;
      if (spec.kind == SockOptKind::kString) {
        o.value = in.Bytes(raw ? 64 : spec.max_size);
      } else {
        std::string v(spec.max_size, '\0');
        for (char& c : v) c = static_cast<char>(in.U8());
        o.value = raw ? in.Bytes(64) : v;
        // Shaped: mostly a value the kernel's setter takes (the range the
        // table gives for it), sometimes any value.
        if (!raw && (in.U8() % 8) != 0) ShapeValue(spec, o.value);
      }
      if (!raw && (!SocketOptionApplies(spec, s.local.family()) ||
                   !seen.insert({o.level, o.name}).second)) {
        continue;
      }
    }
    if (!raw && pick == table.size()) continue;
    s.socket_options.push_back(std::move(o));
  }
}

}  // namespace

std::string FuzzInput::Bytes(size_t max) {
  size_t n = U16();
  n = std::min({n, max, remaining()});
  std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
  pos_ += n;
  return out;
}

ConnectionState StateFromInput(FuzzInput& in) {
  const uint8_t raw = in.U8();
  ConnectionState s;
  // Every state a checkpoint can produce, ESTABLISHED most often; raw: any
  // byte at all.
  static constexpr TcpState kStates[] = {
      TcpState::kEstablished, TcpState::kEstablished, TcpState::kEstablished,
      TcpState::kEstablished, TcpState::kEstablished, TcpState::kEstablished,
      TcpState::kEstablished, TcpState::kEstablished, TcpState::kFinWait1,
      TcpState::kFinWait2,    TcpState::kCloseWait,   TcpState::kLastAck,
      TcpState::kClosing,     TcpState::kClose,       TcpState::kSynSent,
      TcpState::kListen};
  const uint8_t state = in.U8();
  s.state = (raw & 1) ? static_cast<TcpState>(state) : kStates[state % 16];

  // Addresses: both of one kind, or (raw) any mix, empty included.
  const int kind = in.U8() % 4;
  s.local = Address(in, (raw & 2) ? kind : kind % 3);
  s.peer = Address(in, (raw & 2) ? in.U8() % 4 : kind % 3);
  if (!(raw & 2)) {
    if (s.local.port() == 0) s.local.set_port(1);
    if (s.peer.port() == 0) s.peer.set_port(1);
    if (s.local.is_v4_mapped() != s.peer.is_v4_mapped()) s.peer = s.local;
    // A listener has no peer, nor has a socket never connected (CLOSE,
    // sometimes).
    if (s.state == TcpState::kListen ||
        (s.state == TcpState::kClose && (state & 0x30) == 0)) {
      s.peer = SocketAddress();
    }
  }

  s.inq_seq = in.U32();
  s.outq_seq = in.U32();

  const uint8_t bits = in.U8();
  s.options.sack = bits & 1;
  s.options.timestamps = bits & 2;
  s.options.window_scaling = bits & 4;
  s.options.snd_wscale = in.U8();
  s.options.rcv_wscale = in.U8();
  s.options.mss_clamp = in.U32();
  if (!(raw & 8)) {
    // What the kernel can hold: scales up to TCP_MAX_WSCALE and only with
    // window scaling (tcp_get_info()), an MSS in tcp_options_received's
    // u16, any value at all there (a peer may advertise 1).
    if (s.options.window_scaling) {
      s.options.snd_wscale %= kMaxWindowScale + 1;
      s.options.rcv_wscale %= kMaxWindowScale + 1;
    } else {
      s.options.snd_wscale = s.options.rcv_wscale = 0;
    }
    s.options.mss_clamp %= 65536;
  }
  s.timestamp = in.U32();

  if (in.Bit()) {
    TcpWindow w{in.U32(), in.U32(), in.U32(), in.U32(), in.U32()};
    if (!(raw & 16)) {
      // The relations tcp_repair_set_window() checks, and nothing else:
      // snd_wnd within max_window, rcv_wup at or before rcv_nxt, snd_wl1
      // within rcv_wnd of it (the window sizes themselves are left as
      // drawn: the kernel keeps rcv_wnd beyond what the scale expresses).
      // Sometimes one relation is off by one, at the kernel's edge.
      const uint8_t edge = in.U8();
      if (w.max_window < w.snd_wnd) std::swap(w.max_window, w.snd_wnd);
      // The kernel's rcv_nxt counts a received FIN.
      const bool fin = s.state == TcpState::kCloseWait ||
                       s.state == TcpState::kLastAck ||
                       s.state == TcpState::kClosing;
      const uint32_t rcv_nxt = s.inq_seq + (fin ? 1 : 0);
      w.rcv_wup = rcv_nxt - (w.rcv_wup % 65536);
      w.snd_wl1 = rcv_nxt + w.rcv_wnd - (w.snd_wl1 % 65536);
      switch (edge % 8) {
        case 0:
          w.rcv_wup = rcv_nxt;
          w.snd_wl1 = rcv_nxt + w.rcv_wnd;
          break;
        case 1:
          w.rcv_wup = rcv_nxt + 1;
          break;
        case 2:
          w.snd_wl1 = rcv_nxt + w.rcv_wnd + 1;
          break;
        case 3:
          if (w.snd_wnd > 0) w.max_window = w.snd_wnd - 1;
          break;
        default:
          break;
      }
    }
    s.window = w;
  }
  if (in.Bit()) {
    const uint32_t snd = in.U32(), rcv = in.U32();
    const uint8_t locks = in.U8();
    s.buffers = SocketBuffers{(raw & 32) ? snd : snd % (1u << 30),
                              (raw & 32) ? rcv : rcv % (1u << 30),
                              (locks & 1) != 0, (locks & 2) != 0};
  }
  SocketOptions(in, (raw & 32) != 0, s);

  // The fields of some states only; raw (bit 0, with the state): any value.
  const uint32_t backlog = in.U32();
  const uint8_t error = in.U8();
  if (raw & 1) {
    s.listen_backlog = backlog;
    s.pending_error = error;
  } else {
    if (s.state == TcpState::kListen) s.listen_backlog = backlog % 4096;
    if (s.state == TcpState::kClose) {
      // Every error a closed socket is left with (tcp_reset(),
      // tcp_write_err(), ICMP errors), restorable or not.
      static constexpr uint32_t kErrors[] = {
          0,           ECONNRESET,   EPIPE,
          ETIMEDOUT,   ECONNREFUSED, EHOSTUNREACH,
          ENETUNREACH, ECONNABORTED};
      s.pending_error = kErrors[error % 8];
    }
  }

  // The queues last, so that a short input still sets every field above.
  const uint32_t inq_len = in.U32();
  const uint32_t outq_len = in.U32();
  const uint32_t unsent = in.U32();
  s.recv_queue = Queue(in);
  s.send_queue = Queue(in);
  if (raw & 4) {
    s.inq_len = inq_len;
    s.outq_len = outq_len;
    s.unsent_len = unsent;
  } else {
    // Queues where the kernel reports them: none for a listener, a SYN_SENT
    // socket or one never connected; no send queue once the peer has
    // acknowledged our FIN (FIN_WAIT2) or the connection is over (CLOSE).
    const bool connection = s.state != TcpState::kListen &&
                            s.state != TcpState::kSynSent && !s.peer.empty();
    if (!connection) s.recv_queue = QueueBytes();
    if (!connection || s.state == TcpState::kFinWait2 ||
        s.state == TcpState::kClose) {
      s.send_queue = QueueBytes();
    }
    s.inq_len = static_cast<uint32_t>(s.recv_queue.size());
    s.outq_len = static_cast<uint32_t>(s.send_queue.size());
    s.unsent_len = unsent % (s.outq_len + 1);
  }
  return s;
}

}  // namespace soccr::fuzzing
