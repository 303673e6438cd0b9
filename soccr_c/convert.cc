#include "soccr_c/convert.h"

#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "soccr/kernel_seq.h"
#include "soccr/restore_plan.h"
#include "soccr/tcp_state.h"

namespace soccr::c_api {
namespace {

// tcp_info's option bits (TCPI_OPT_*), as libsoccr saves them in opt_mask.
constexpr uint32_t kOptTimestamps = 1;
constexpr uint32_t kOptSack = 2;
constexpr uint32_t kOptWscale = 4;
// ECN (8), ECN_SEEN (16), SYN_DATA (32), TFO_CHILD (128): facts about how
// the connection began, which a restore can neither set nor needs.
// libsoccr saves them and ignores them; so does soccr.
constexpr uint32_t kOptIgnored = 8 | 16 | 32 | 128;
// Microsecond timestamps (Linux 6.7+): TCP_TIMESTAMP cannot restore them.
constexpr uint32_t kOptUsecTimestamps = 64;

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(what);
}

// The buffer of one queue, checked against the length `data` claims.
absl::StatusOr<QueueBytes> QueueView(const QueueInput& in, uint32_t len,
                                     absl::string_view queue,
                                     absl::string_view len_field,
                                     absl::string_view queue_id) {
  if (len == 0) return QueueBytes();
  // soccr (memory safety), all three: the length must be backed by bytes the
  // caller gave, and fit the core's int-sized queues.
  if (in.bytes == nullptr) {
    return Invalid(
        absl::StrCat("data.", len_field, " is ", len, " but no ", queue,
                     " queue bytes were given (libsoccr_set_queue_bytes(sk, ",
                     queue_id, ", ...))"));
  }
  if (len > kMaxQueueBytes) {
    return Invalid(absl::StrCat("data.", len_field, " ", len, " exceeds ",
                                kMaxQueueBytes));
  }
  if (in.known_size != SIZE_MAX && len > in.known_size) {
    return Invalid(
        absl::StrCat("data.", len_field, " is ", len, " but the ", queue,
                     " queue buffer given with SOCCR_MEM_EXCL holds only ",
                     in.known_size, " bytes"));
  }
  return QueueBytes::View(absl::Span<const uint8_t>(
                              reinterpret_cast<const uint8_t*>(in.bytes), len),
                          in.owner);
}

}  // namespace

absl::Status CheckMemFlags(unsigned flags) {
  // soccr: an unknown bit asks for something this library does not do.
  if ((flags & ~kKnownMemFlags) != 0) {
    return Invalid(absl::StrFormat(
        "flags 0x%x: unknown bits 0x%x (only SOCCR_MEM_EXCL, 0x%x, exists)",
        flags, flags & ~kKnownMemFlags, kKnownMemFlags));
  }
  return absl::OkStatus();
}

absl::StatusOr<sys::RepairQueue> QueueFromId(int queue_id) {
  switch (queue_id) {
    case TCP_RECV_QUEUE:
      return sys::RepairQueue::kRecv;
    case TCP_SEND_QUEUE:
      return sys::RepairQueue::kSend;
    default:  // soccr: there are only two queues.
      return Invalid(absl::StrCat(
          "queue id ", queue_id, " is neither TCP_RECV_QUEUE (", TCP_RECV_QUEUE,
          ") nor TCP_SEND_QUEUE (", TCP_SEND_QUEUE, ")"));
  }
}

absl::Status CheckDataSize(unsigned data_size) {
  // soccr (memory safety): the struct is read whole.
  if (data_size < sizeof(struct libsoccr_sk_data)) {
    return Invalid(absl::StrCat("data_size ", data_size,
                                " is smaller than struct libsoccr_sk_data (",
                                sizeof(struct libsoccr_sk_data), " bytes)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SocketAddress> AddressFromC(const union libsoccr_addr* addr) {
  // soccr (memory safety): the family says how many bytes to read.
  if (addr == nullptr) return Invalid("the address is NULL");
  socklen_t len = 0;
  switch (addr->sa.sa_family) {
    case AF_INET:
      len = sizeof(struct sockaddr_in);
      break;
    case AF_INET6:
      len = sizeof(struct sockaddr_in6);
      break;
    default:
      return Invalid(absl::StrCat("address family ", addr->sa.sa_family,
                                  " is neither AF_INET (", AF_INET,
                                  ") nor AF_INET6 (", AF_INET6, ")"));
  }
  return SocketAddress::FromSockaddr(&addr->sa, len);
}

union libsoccr_addr AddressToC(const SocketAddress& addr) {
  union libsoccr_addr out;
  memset(&out, 0, sizeof(out));
  const socklen_t len = addr.length();
  if (len > 0 && len <= sizeof(out)) memcpy(&out, addr.sockaddr(), len);
  return out;
}

struct libsoccr_sk_data SkDataFromState(const ConnectionState& s) {
  struct libsoccr_sk_data d;
  memset(&d, 0, sizeof(d));
  d.state = static_cast<uint32_t>(s.state);
  // libsoccr saves the kernel's rcv_nxt and write_seq, which count a FIN;
  // ConnectionState's sequence numbers end the data. The lengths count
  // data only in both.
  d.inq_len = s.inq_len;
  d.inq_seq = KernelInqSeq(s.state, s.inq_seq);
  d.outq_len = s.outq_len;
  d.outq_seq = KernelOutqSeq(s.state, s.outq_seq);
  d.unsq_len = s.unsent_len;
  if (s.options.timestamps) d.opt_mask |= kOptTimestamps;
  if (s.options.sack) d.opt_mask |= kOptSack;
  if (s.options.window_scaling) d.opt_mask |= kOptWscale;
  d.mss_clamp = s.options.mss_clamp;
  d.snd_wscale = s.options.snd_wscale;
  d.rcv_wscale = s.options.rcv_wscale;
  d.timestamp = s.timestamp;
  if (s.window.has_value()) {
    d.flags |= SOCCR_FLAGS_WINDOW;
    d.snd_wl1 = s.window->snd_wl1;
    d.snd_wnd = s.window->snd_wnd;
    d.max_window = s.window->max_window;
    d.rcv_wnd = s.window->rcv_wnd;
    d.rcv_wup = s.window->rcv_wup;
  }
  return d;
}

absl::StatusOr<ConnectionState> StateFromSkData(
    const struct libsoccr_sk_data& d, const RestoreInputs& in) {
  ConnectionState s;
  // soccr: the core's state is an enum of the kernel's state numbers.
  if (!IsKnownTcpState(d.state)) {
    return Invalid(
        absl::StrCat("data.state ", d.state, " is not a TCP state number"));
  }
  s.state = static_cast<TcpState>(d.state);
  // soccr: an unknown flag or option bit would be dropped silently.
  if ((d.flags & ~kKnownDataFlags) != 0) {
    return Invalid(absl::StrFormat(
        "data.flags 0x%x: unknown bits 0x%x (only SOCCR_FLAGS_WINDOW, 0x%x, "
        "exists)",
        d.flags, d.flags & ~kKnownDataFlags, kKnownDataFlags));
  }
  constexpr uint32_t kKnownOpts =
      kOptTimestamps | kOptSack | kOptWscale | kOptIgnored | kOptUsecTimestamps;
  if ((d.opt_mask & ~kKnownOpts) != 0) {
    return Invalid(absl::StrFormat(
        "data.opt_mask 0x%x: unknown bits 0x%x (tcp_info's TCPI_OPT_* bits "
        "fit in 0xff)",
        d.opt_mask, d.opt_mask & ~kKnownOpts));
  }
  // soccr: the core does not carry the microsecond timestamp mode yet (the
  // kernel keeps it in bit 0 of TCP_TIMESTAMP since Linux 6.7).
  if ((d.opt_mask & kOptUsecTimestamps) != 0) {
    return absl::UnimplementedError(
        "data.opt_mask has TCPI_OPT_USEC_TS: the connection used microsecond "
        "TCP timestamps, which the kernel's repair interface cannot restore");
  }
  // kernel: tcp_repair_options_est() refuses a scale above 14 (EFBIG);
  // checked here, before they narrow to the core's 8-bit fields.
  if (d.snd_wscale > kMaxWindowScale) {
    return Invalid(absl::StrCat("data.snd_wscale ", d.snd_wscale,
                                " exceeds the maximum ", kMaxWindowScale));
  }
  if (d.rcv_wscale > kMaxWindowScale) {
    return Invalid(absl::StrCat("data.rcv_wscale ", d.rcv_wscale,
                                " exceeds the maximum ", kMaxWindowScale));
  }

  s.local = in.local;
  s.peer = in.peer;
  // The kernel's numbers (libsoccr's) count a FIN; ConnectionState's do not.
  s.inq_seq = InqSeqFromKernel(s.state, d.inq_seq);
  s.inq_len = d.inq_len;
  s.outq_seq = OutqSeqFromKernel(s.state, d.outq_seq);
  s.outq_len = d.outq_len;
  s.unsent_len = d.unsq_len;
  // libsoccr_sk_data has no field for a listener's backlog: the kernel's
  // largest (listen() caps it at net.core.somaxconn).
  if (s.state == TcpState::kListen) s.listen_backlog = SOMAXCONN;
  absl::StatusOr<QueueBytes> recv =
      QueueView(in.recv, d.inq_len, "receive", "inq_len", "TCP_RECV_QUEUE");
  if (!recv.ok()) return recv.status();
  s.recv_queue = *std::move(recv);
  absl::StatusOr<QueueBytes> send =
      QueueView(in.send, d.outq_len, "send", "outq_len", "TCP_SEND_QUEUE");
  if (!send.ok()) return send.status();
  s.send_queue = *std::move(send);

  s.options.timestamps = (d.opt_mask & kOptTimestamps) != 0;
  s.options.sack = (d.opt_mask & kOptSack) != 0;
  s.options.window_scaling = (d.opt_mask & kOptWscale) != 0;
  s.options.snd_wscale = static_cast<uint8_t>(d.snd_wscale);
  s.options.rcv_wscale = static_cast<uint8_t>(d.rcv_wscale);
  s.options.mss_clamp = d.mss_clamp;
  if (s.options.timestamps) s.timestamp = d.timestamp;
  if ((d.flags & SOCCR_FLAGS_WINDOW) != 0) {
    s.window =
        TcpWindow{d.snd_wl1, d.snd_wnd, d.max_window, d.rcv_wnd, d.rcv_wup};
  }
  return s;
}

}  // namespace soccr::c_api
