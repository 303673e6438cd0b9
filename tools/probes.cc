#include "tools/probes.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "soccr/internal/status_code.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "tools/progress.h"
#include "tools/system_facts.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef TCP_AO_INFO
#define TCP_AO_INFO 40  // Linux 6.7
#endif

namespace soccr::tools {
namespace {

using loopback::TcpPair;
using Outcome = Probe::Outcome;

constexpr char kLoopback[] = "loopback connection";
constexpr char kRepair[] = "repair mode (TCP_REPAIR)";
constexpr char kQueues[] = "repair queues (TCP_REPAIR_QUEUE)";
constexpr char kOptions[] = "repair options (TCP_REPAIR_OPTIONS)";
constexpr char kTimestamps[] = "timestamps (TCP_TIMESTAMP)";
constexpr char kWindow[] = "repair window (TCP_REPAIR_WINDOW)";
constexpr char kNoProbe[] = "repair off without window probe";
constexpr char kBuffers[] = "raising buffers (SO_*BUFFORCE)";
constexpr char kInjection[] = "raw packet injection (CAP_NET_RAW)";
constexpr char kMd5[] = "TCP-MD5 connections refused";
constexpr char kAo[] = "TCP-AO connections refused";
constexpr char kTls[] = "kTLS connections refused";
constexpr char kRoundTrip[] = "checkpoint and restore";

constexpr ProbeSet::Feature kFeatures[] = {
    {kLoopback, true},   {kRepair, true},  {kQueues, true},   {kOptions, true},
    {kTimestamps, true}, {kWindow, false}, {kNoProbe, false}, {kBuffers, false},
    {kInjection, false}, {kMd5, false},    {kAo, false},      {kTls, false},
    {kRoundTrip, true},
};

std::string Failed(absl::string_view call, int err) {
  return absl::StrCat(call, ": ", ::strerror(err));
}

// The probes of one run, on one Sys.
class Prober {
 public:
  Prober(const sys::Sys& sys, ProbeSet& probes) : sys_(sys), probes_(probes) {}

  void Run();

 private:
  bool ProbePaused(BorrowedFd client);
  std::string ProbeQueues(BorrowedFd client);
  void ProbeRepairSocket(const SocketAddress& peer);
  void ProbeBuffers();
  void ProbeInjection(bool repair);
  absl::Status RestoreCloseWait();
  void ProbeRoundTrip();
  std::string RefusedFor(BorrowedFd fd, absl::string_view feature);
  void ProbeMd5();
  void ProbeAo();
  void ProbeTls();

  const sys::Sys& sys_;
  ProbeSet& probes_;
};

// The queues of a paused connection with 1000 bytes unread: select each,
// read where it ends, peek the received bytes. Empty if all went well.
std::string Prober::ProbeQueues(BorrowedFd client) {
  if (auto r = sys_.SetRepairQueue(client, sys::RepairQueue::kRecv); !r.ok()) {
    return Failed("setsockopt(TCP_REPAIR_QUEUE)", r.err);
  }
  if (auto r = sys_.GetQueueSeq(client); !r.ok()) {
    return Failed("getsockopt(TCP_QUEUE_SEQ)", r.err);
  }
  uint8_t buf[1000];
  const sys::Result<size_t> peek = sys_.Peek(client, buf);
  if (!peek.ok() || peek.value != sizeof(buf) ||
      std::string(reinterpret_cast<const char*>(buf), sizeof(buf)) !=
          loopback::Pattern(1000, 7)) {
    return Failed("recv(MSG_PEEK) of the receive queue", peek.err);
  }
  if (auto r = sys_.SetRepairQueue(client, sys::RepairQueue::kSend); !r.ok()) {
    return Failed("setsockopt(TCP_REPAIR_QUEUE)", r.err);
  }
  if (auto r = sys_.GetQueueSeq(client); !r.ok()) {
    return Failed("getsockopt(TCP_QUEUE_SEQ)", r.err);
  }
  return "";
}

// Repair mode, the queues, the timestamp, the window and TCP-AO on a real
// connection (with 1000 bytes unread), then leaving repair mode silently.
// Returns whether repair mode works.
bool Prober::ProbePaused(BorrowedFd client) {
  if (const sys::Result<void> r = sys_.SetRepair(client, sys::RepairMode::kOn);
      !r.ok()) {
    std::string why = Failed("setsockopt(TCP_REPAIR)", r.err);
    if (r.err == EPERM) {
      absl::StrAppend(&why,
                      " (needs CAP_NET_ADMIN over this network namespace; "
                      "`soccr check --private-netns` shows what the kernel "
                      "supports)");
    } else if (r.err == ENOPROTOOPT) {
      absl::StrAppend(&why, " (the kernel has no TCP repair mode)");
    }
    probes_.Missing(kRepair, std::move(why));
    return false;
  }
  probes_.Ok(kRepair, "a loopback connection paused and resumed");

  std::string queues = ProbeQueues(client);
  (void)sys_.SetRepairQueue(client, sys::RepairQueue::kNone);
  if (queues.empty()) {
    probes_.Ok(kQueues,
               "both queues' sequence numbers read, the received bytes "
               "peeked");
  } else {
    probes_.Missing(kQueues, std::move(queues));
  }

  if (auto r = sys_.GetTimestamp(client); !r.ok()) {
    probes_.Missing(kTimestamps, Failed("getsockopt(TCP_TIMESTAMP)", r.err));
  }
  if (auto r = sys_.GetRepairWindow(client); !r.ok()) {
    probes_.Missing(kWindow,
                    Failed("getsockopt(TCP_REPAIR_WINDOW)", r.err) +
                        (r.err == ENOPROTOOPT ? " (Linux 4.8+; without it a "
                                                "restored connection starts "
                                                "from a default window)"
                                              : ""));
  }

  // Leave repair mode: quietly if the kernel can.
  if (auto r = sys_.SetRepair(client, sys::RepairMode::kOffNoWindowProbe);
      !r.ok()) {
    probes_.Missing(
        kNoProbe,
        Failed("setsockopt(TCP_REPAIR, TCP_REPAIR_OFF_NO_WP)", r.err) +
            " (Linux 4.14+; resuming then always sends a window probe)");
    (void)sys_.SetRepair(client, sys::RepairMode::kOff);
  } else {
    probes_.Ok(kNoProbe, "TCP_REPAIR_OFF_NO_WP accepted");
  }
  return true;
}

// What a restore sets on a new socket in repair mode: the queues' sequence
// numbers, a connect() without a handshake, the options, the timestamp and
// the window. The socket is closed still in repair mode: nothing is sent.
void Prober::ProbeRepairSocket(const SocketAddress& peer) {
  sys::Result<OwnedFd> sock =
      sys_.Socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (!sock.ok()) {
    probes_.Missing(kOptions, Failed("socket(AF_INET, SOCK_STREAM)", sock.err));
    return;
  }
  const BorrowedFd s = sock.value.borrow();
  const SocketAddress local = SocketAddress::Loopback4(0);
  const std::string failed = [&]() -> std::string {
    if (auto r = sys_.SetRepair(s, sys::RepairMode::kOn); !r.ok()) {
      return Failed("setsockopt(TCP_REPAIR)", r.err);
    }
    for (const auto& [queue, seq] :
         {std::pair{sys::RepairQueue::kSend, 5000u},
          std::pair{sys::RepairQueue::kRecv, 1000u}}) {
      if (auto r = sys_.SetRepairQueue(s, queue); !r.ok()) {
        return Failed("setsockopt(TCP_REPAIR_QUEUE)", r.err);
      }
      if (auto r = sys_.SetQueueSeq(s, seq); !r.ok()) {
        return Failed("setsockopt(TCP_QUEUE_SEQ)", r.err);
      }
    }
    if (auto r = sys_.Bind(s, local); !r.ok()) return Failed("bind", r.err);
    if (auto r = sys_.Connect(s, peer); !r.ok()) {
      return Failed("connect in repair mode", r.err);
    }
    return "";
  }();
  if (!failed.empty()) {
    probes_.Missing(kOptions, failed);
    return;
  }
  const struct tcp_repair_opt opts[] = {
      {TCPOPT_MAXSEG, 1460},
      {TCPOPT_WINDOW, 7 | (7 << 16)},
      {TCPOPT_SACK_PERMITTED, 0},
      {TCPOPT_TIMESTAMP, 0},
  };
  if (auto r = sys_.SetRepairOptions(s, opts); !r.ok()) {
    probes_.Missing(kOptions, Failed("setsockopt(TCP_REPAIR_OPTIONS)", r.err));
  } else {
    probes_.Ok(kOptions,
               "MSS, window scaling, SACK and timestamps set on a socket "
               "connected in repair mode");
  }
  if (probes_.outcome(kTimestamps) == Outcome::kSkipped) {
    if (auto r = sys_.SetTimestamp(s, 123456); !r.ok()) {
      probes_.Missing(kTimestamps, Failed("setsockopt(TCP_TIMESTAMP)", r.err));
    } else {
      probes_.Ok(kTimestamps,
                 "the clock read on a paused connection, set on a "
                 "socket in repair mode");
    }
  }
  if (probes_.outcome(kWindow) == Outcome::kSkipped) {
    const sys::Result<struct tcp_repair_window> w = sys_.GetRepairWindow(s);
    if (!w.ok()) {
      probes_.Missing(kWindow, Failed("getsockopt(TCP_REPAIR_WINDOW)", w.err));
    } else if (auto r = sys_.SetRepairWindow(s, w.value); !r.ok()) {
      probes_.Missing(kWindow, Failed("setsockopt(TCP_REPAIR_WINDOW)", r.err));
    } else {
      probes_.Ok(kWindow,
                 "read on a paused connection, set on a socket in repair "
                 "mode");
    }
  }
}

void Prober::ProbeBuffers() {
  sys::Result<OwnedFd> sock =
      sys_.Socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (!sock.ok()) {
    probes_.Missing(kBuffers, Failed("socket(AF_INET, SOCK_STREAM)", sock.err));
    return;
  }
  const BorrowedFd fd = sock.value.borrow();
  const char* call = "setsockopt(SO_SNDBUFFORCE)";
  sys::Result<void> r =
      sys_.SetSockOptInt(fd, SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20);
  if (r.ok()) {
    call = "setsockopt(SO_RCVBUFFORCE)";
    r = sys_.SetSockOptInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20);
  }
  if (r.ok()) {
    probes_.Ok(kBuffers, "a restore can size buffers for queues of any size");
    return;
  }
  std::string why = Failed(call, r.err);
  if (r.err == EPERM) {
    absl::StrAppend(
        &why,
        " (needs CAP_NET_ADMIN in the initial user namespace). Restores "
        "fall back to SO_SNDBUF/SO_RCVBUF, capped by net.core.wmem_max=",
        ReadSysctl("net/core/wmem_max"),
        " and rmem_max=", ReadSysctl("net/core/rmem_max"),
        ", and to what new sockets start with (net.ipv4.tcp_wmem=",
        ReadSysctl("net/ipv4/tcp_wmem"),
        ", tcp_rmem=", ReadSysctl("net/ipv4/tcp_rmem"),
        "); a larger queue fails, naming the sysctl to raise");
  }
  probes_.Missing(kBuffers, std::move(why));
}

// A CLOSE_WAIT connection checkpointed, closed silently and restored: the
// restore injects the peer's FIN.
absl::Status Prober::RestoreCloseWait() {
  absl::StatusOr<TcpPair> pair = loopback::ConnectedPair(loopback::Family::kV4);
  if (!pair.ok()) return pair.status();
  if (::shutdown(pair->server.get(), SHUT_WR) != 0) {
    return internal::ErrnoStatus(errno, "shutdown(SHUT_WR)");
  }
  if (absl::Status w = loopback::WaitTcpState(
          pair->client.borrow(), static_cast<int>(TcpState::kCloseWait));
      !w.ok()) {
    return w;
  }
  absl::StatusOr<ConnectionState> state;
  {
    absl::StatusOr<PausedSocket> paused =
        PausedSocket::Pause(pair->client.borrow(), sys_);
    if (!paused.ok()) return paused.status();
    state = Checkpoint(*paused);
    if (state.ok()) std::move(*paused).LeaveInRepairMode();
  }
  if (!state.ok()) return state.status();
  pair->client.reset();  // in repair mode: silent
  absl::StatusOr<RestoredSocket> restored = Restore(*state, sys_);
  if (!restored.ok()) return restored.status();
  absl::StatusOr<OwnedFd> fd = std::move(*restored).Resume();
  if (!fd.ok()) return fd.status();
  if (loopback::TcpStateNumber(fd->borrow()) !=
      static_cast<int>(TcpState::kCloseWait)) {
    return absl::InternalError(absl::StrCat(
        "the restored connection is in state ",
        loopback::TcpStateNumber(fd->borrow()), ", not CLOSE_WAIT"));
  }
  return loopback::ExpectEof(fd->borrow());
}

// A raw socket with the injected packets' mark, then (with repair mode) a
// real restore of a CLOSE_WAIT connection, whose FIN from the peer is
// injected.
void Prober::ProbeInjection(bool repair) {
  const char* consequence =
      "; connections in FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING "
      "and CLOSE after a reset cannot be restored";
  {
    sys::Result<OwnedFd> raw =
        sys_.Socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (!raw.ok()) {
      probes_.Missing(
          kInjection,
          absl::StrCat(Failed("socket(AF_INET, SOCK_RAW)", raw.err),
                       raw.err == EPERM ? " (needs CAP_NET_RAW)" : "",
                       consequence));
      return;
    }
    if (auto r = sys_.SetSockOptInt(raw.value.borrow(), SOL_SOCKET, SO_MARK,
                                    static_cast<int>(kInjectedPacketMark));
        !r.ok()) {
      probes_.Missing(
          kInjection,
          absl::StrCat(
              Failed("setsockopt(SO_MARK)", r.err),
              r.err == EPERM ? " (needs CAP_NET_ADMIN or CAP_NET_RAW)" : "",
              consequence));
      return;
    }
  }
  if (!repair) {
    probes_.Ok(kInjection,
               "a raw socket with SO_MARK; restoring through it not "
               "tried without repair mode");
    return;
  }
  if (absl::Status s = RestoreCloseWait(); !s.ok()) {
    probes_.Missing(kInjection, absl::StrCat("restoring a CLOSE_WAIT "
                                             "connection: ",
                                             s.message()));
    return;
  }
  probes_.Ok(kInjection, absl::StrFormat("a CLOSE_WAIT connection restored, "
                                         "the peer's FIN injected with mark "
                                         "0x%x",
                                         kInjectedPacketMark));
}

// The whole thing: a connection with data in both queues, checkpointed,
// closed silently, restored on a new socket, every byte checked.
void Prober::ProbeRoundTrip() {
  constexpr size_t kBytes = 4096;
  const std::string down = loopback::Pattern(kBytes, 11);
  const std::string up = loopback::Pattern(kBytes, 12);
  absl::Status s = [&]() -> absl::Status {
    absl::StatusOr<TcpPair> pair =
        loopback::ConnectedPair(loopback::Family::kV4);
    if (!pair.ok()) return pair.status();
    const BorrowedFd client = pair->client.borrow();
    const BorrowedFd server = pair->server.borrow();
    if (absl::Status w = loopback::WriteAll(server, down); !w.ok()) return w;
    if (absl::Status w = loopback::WaitInq(client, kBytes); !w.ok()) return w;
    // The server drops what arrives, so `up` stays unacknowledged in the
    // client's send queue.
    if (absl::Status w = loopback::DropIncoming(server); !w.ok()) return w;
    if (absl::Status w = loopback::WriteAll(client, up); !w.ok()) return w;
    absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(client, sys_);
    if (!paused.ok()) return paused.status();
    absl::StatusOr<ConnectionState> state = Checkpoint(*paused);
    if (!state.ok()) return state.status();
    if (state->inq_len != kBytes || state->outq_len != kBytes) {
      return absl::InternalError(absl::StrCat(
          "the checkpoint holds ", state->inq_len, " and ", state->outq_len,
          " bytes in the queues, not ", kBytes, " each"));
    }
    std::move(*paused).LeaveInRepairMode();
    pair->client.reset();
    if (absl::Status w = loopback::AcceptIncoming(server); !w.ok()) return w;
    absl::StatusOr<RestoredSocket> restored = Restore(*state, sys_);
    if (!restored.ok()) return restored.status();
    absl::StatusOr<OwnedFd> fd = std::move(*restored).Resume();
    if (!fd.ok()) return fd.status();
    absl::StatusOr<std::string> got =
        loopback::ReadExactly(fd->borrow(), kBytes);
    if (!got.ok()) return got.status();
    if (*got != down) return absl::DataLossError("the receive queue differs");
    got = loopback::ReadExactly(server, kBytes);
    if (!got.ok()) return got.status();
    if (*got != up) return absl::DataLossError("the send queue differs");
    return absl::OkStatus();
  }();
  if (s.ok()) {
    probes_.Ok(kRoundTrip,
               absl::StrCat("a loopback connection with ", FormatBytes(kBytes),
                            " in each queue moved to a new socket, "
                            "every byte checked"));
  } else {
    probes_.Missing(kRoundTrip, std::string(s.message()));
  }
}

// What the checkpoint of `fd` says: "" if it was refused for `feature`
// (the message names it), else what happened instead.
std::string Prober::RefusedFor(BorrowedFd fd, absl::string_view feature) {
  absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd, sys_);
  if (!paused.ok()) return std::string(paused.status().message());
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused);
  (void)std::move(*paused).Resume();
  if (state.ok()) return "checkpointed anyway: soccr did not see it";
  if (absl::IsFailedPrecondition(state.status()) &&
      absl::StrContains(state.status().message(), feature)) {
    return "";
  }
  return std::string(state.status().message());
}

// What soccr refuses to checkpoint because a restore cannot carry it, tried
// for real where the kernel has the feature, so that the line says what
// soccr found, not what it hopes. TCP-MD5: a connection signed from its
// handshake.
void Prober::ProbeMd5() {
  sys::Result<OwnedFd> listener =
      sys_.Socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sys::Result<OwnedFd> client =
      sys_.Socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (!listener.ok() || !client.ok()) {
    probes_.Missing(kMd5, Failed("socket(AF_INET, SOCK_STREAM)",
                                 listener.ok() ? client.err : listener.err));
    return;
  }
  const BorrowedFd l = listener.value.borrow();
  const BorrowedFd c = client.value.borrow();
  struct tcp_md5sig sig = {};
  const SocketAddress any = SocketAddress::Loopback4(0);
  memcpy(&sig.tcpm_addr, any.sockaddr(), any.length());
  sig.tcpm_keylen = 8;
  memcpy(sig.tcpm_key, "soccrkey", 8);
  const absl::Span<const uint8_t> sig_bytes(
      reinterpret_cast<const uint8_t*>(&sig), sizeof(sig));
  sys::Result<void> set = sys_.SetSockOpt(l, SOL_TCP, TCP_MD5SIG, sig_bytes);
  if (set.ok()) set = sys_.SetSockOpt(c, SOL_TCP, TCP_MD5SIG, sig_bytes);
  if (!set.ok()) {
    probes_.Missing(kMd5, Failed("setsockopt(TCP_MD5SIG)", set.err) +
                              (set.err == ENOPROTOOPT || set.err == ENOENT
                                   ? " (a kernel without CONFIG_TCP_MD5SIG: no "
                                     "connection here can carry TCP-MD5 keys)"
                                   : ""));
    return;
  }
  const int err = [&] {
    if (auto r = sys_.Bind(l, any); !r.ok()) return r.err;
    if (auto r = sys_.Listen(l, 1); !r.ok()) return r.err;
    const sys::Result<SocketAddress> addr = sys_.GetSockName(l);
    if (!addr.ok()) return addr.err;
    if (auto r = sys_.Connect(c, addr.value); !r.ok()) return r.err;
    return 0;
  }();
  if (err != 0) {
    probes_.Missing(kMd5, Failed("a TCP-MD5 connection over loopback", err));
    return;
  }
  // The peer's end, accepted so that the connection is whole.
  OwnedFd accepted(::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
  const std::string why = RefusedFor(c, "TCP-MD5");
  if (why.empty()) {
    probes_.Ok(kMd5,
               "a connection signed with TCP-MD5 was refused at checkpoint "
               "(sock_diag shows its keys, which no getsockopt reads back)");
  } else {
    probes_.Missing(kMd5, why);
  }
}

// TCP-AO: the kernel says whether it has it.
void Prober::ProbeAo() {
  sys::Result<OwnedFd> sock =
      sys_.Socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (!sock.ok()) {
    probes_.Missing(kAo, Failed("socket(AF_INET, SOCK_STREAM)", sock.err));
    return;
  }
  uint8_t info[48] = {};
  const sys::Result<socklen_t> r =
      sys_.GetSockOpt(sock.value.borrow(), SOL_TCP, TCP_AO_INFO, info);
  if (r.ok() || r.err == ENOENT) {
    probes_.Ok(kAo,
               "the kernel has TCP-AO: a connection with keys (TCP_AO_INFO) "
               "is refused at checkpoint (not tried with a key here)");
  } else if (r.err == ENOPROTOOPT) {
    probes_.Missing(kAo, Failed("getsockopt(TCP_AO_INFO)", r.err) +
                             " (a kernel without CONFIG_TCP_AO: no connection "
                             "here can carry TCP-AO keys)");
  } else {
    probes_.Missing(kAo, Failed("getsockopt(TCP_AO_INFO)", r.err));
  }
}

// kTLS: the tls upper-layer protocol on a live connection.
void Prober::ProbeTls() {
  absl::StatusOr<TcpPair> pair = loopback::ConnectedPair(loopback::Family::kV4);
  if (!pair.ok()) {
    probes_.Missing(kTls, std::string(pair.status().message()));
    return;
  }
  const BorrowedFd client = pair->client.borrow();
  constexpr char kTlsUlp[] = "tls";
  if (auto r =
          sys_.SetSockOpt(client, SOL_TCP, TCP_ULP,
                          absl::Span<const uint8_t>(
                              reinterpret_cast<const uint8_t*>(kTlsUlp), 3));
      !r.ok()) {
    probes_.Missing(kTls,
                    Failed("setsockopt(TCP_ULP, \"tls\")", r.err) +
                        (r.err == ENOENT ? " (the tls module is not loaded: no "
                                           "connection here can use kTLS)"
                                         : ""));
    return;
  }
  const std::string why = RefusedFor(client, "kTLS");
  if (why.empty()) {
    probes_.Ok(kTls, "a kTLS connection was refused at checkpoint (TCP_ULP)");
  } else {
    probes_.Missing(kTls, why);
  }
}

void Prober::Run() {
  absl::StatusOr<TcpPair> pair = loopback::ConnectedPair(loopback::Family::kV4);
  if (!pair.ok()) {
    probes_.Missing(kLoopback,
                    absl::StrCat(pair.status().message(),
                                 " (is lo up in this network namespace?)"));
    probes_.SkipRest("needs a connection");
    return;
  }
  absl::Status data =
      loopback::WriteAll(pair->server.borrow(), loopback::Pattern(1000, 7));
  if (data.ok()) data = loopback::WaitInq(pair->client.borrow(), 1000);
  if (!data.ok()) {
    probes_.Missing(kLoopback, std::string(data.message()));
    probes_.SkipRest("needs a connection");
    return;
  }
  probes_.Ok(kLoopback, "127.0.0.1, in this network namespace");

  const sys::Result<SocketAddress> server_addr =
      sys_.GetSockName(pair->server.borrow());
  const bool repair = ProbePaused(pair->client.borrow());
  if (repair && server_addr.ok() && !server_addr.value.empty()) {
    ProbeRepairSocket(server_addr.value);
  }
  ProbeBuffers();
  ProbeInjection(repair);
  if (repair) {
    ProbeRoundTrip();
    ProbeMd5();
    ProbeAo();
    ProbeTls();
  }
  probes_.SkipRest("needs repair mode");
}

}  // namespace

absl::Span<const ProbeSet::Feature> ProbedFeatures() { return kFeatures; }

void RunProbes(const sys::Sys& sys, ProbeSet& probes) {
  Prober(sys, probes).Run();
}

}  // namespace soccr::tools
