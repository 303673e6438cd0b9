#include "tools/check.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "tools/progress.h"

#ifndef TCP_ULP
#define TCP_ULP 31
#endif
#ifndef TCP_AO_INFO
#define TCP_AO_INFO 40  // Linux 6.7
#endif

namespace soccr {
namespace {

using Outcome = Probe::Outcome;
using loopback::TcpPair;

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

struct Feature {
  const char* name;
  bool basic;
};
constexpr Feature kFeatures[] = {
    {kLoopback, true},   {kRepair, true},  {kQueues, true},   {kOptions, true},
    {kTimestamps, true}, {kWindow, false}, {kNoProbe, false}, {kBuffers, false},
    {kInjection, false}, {kMd5, false},    {kAo, false},      {kTls, false},
    {kRoundTrip, true},
};

std::string CallFailed(absl::string_view call, int err) {
  return absl::StrCat(call, ": ", ::strerror(err));
}

// setsockopt/getsockopt returning 0 or errno.
int Set(BorrowedFd fd, int level, int name, const void* value, socklen_t len) {
  return ::setsockopt(fd.get(), level, name, value, len) == 0 ? 0 : errno;
}
int SetInt(BorrowedFd fd, int level, int name, int value) {
  return Set(fd, level, name, &value, sizeof(value));
}
int Get(BorrowedFd fd, int level, int name, void* value, socklen_t len) {
  return ::getsockopt(fd.get(), level, name, value, &len) == 0 ? 0 : errno;
}

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  // "4096\t16384\t4194304" -> "4096 16384 4194304"
  return absl::StrJoin(
      absl::StrSplit(s.str(), absl::ByAnyChar(" \t\n"), absl::SkipEmpty()),
      " ");
}

// Whether capability `bit` is in this process's effective set.
std::string HasCapability(int bit) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v = line;
    if (!absl::ConsumePrefix(&v, "CapEff:")) continue;
    uint64_t caps = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(v), &caps)) break;
    return (caps >> bit) & 1 ? "yes" : "no";
  }
  return "unknown";
}

class Checker {
 public:
  Checker() {
    for (const Feature& f : kFeatures) {
      probes_.push_back({f.name, f.basic, Outcome::kSkipped, ""});
    }
  }

  void Run();
  std::vector<Probe> Take() && { return std::move(probes_); }

 private:
  Probe& Find(absl::string_view feature) {
    for (Probe& p : probes_) {
      if (p.feature == feature) return p;
    }
    return probes_.front();  // unreachable: every name is in kFeatures
  }
  void Record(absl::string_view f, Outcome outcome, std::string detail) {
    Probe& p = Find(f);
    p.outcome = outcome;
    p.detail = std::move(detail);
  }
  void Ok(absl::string_view f, std::string detail) {
    Record(f, Outcome::kOk, std::move(detail));
  }
  void Missing(absl::string_view f, std::string detail) {
    Record(f, Outcome::kMissing, std::move(detail));
  }
  // Marks `f` skipped, unless a probe already decided it.
  void Skip(absl::string_view f, absl::string_view why) {
    Probe& p = Find(f);
    if (p.outcome == Outcome::kSkipped && p.detail.empty()) {
      p.detail = std::string(why);
    }
  }

  bool ProbePaused(BorrowedFd client);
  void ProbeRepairSocket(const SocketAddress& peer);
  void ProbeBuffers();
  void ProbeInjection(bool repair);
  void ProbeRoundTrip();
  void ProbeRefusals();

  std::vector<Probe> probes_;
};

// Repair mode, the queues, the timestamp, the window and TCP-AO on a real
// connection (with 1000 bytes unread), then leaving repair mode silently.
// Returns whether repair mode works.
bool Checker::ProbePaused(BorrowedFd client) {
  if (const int err = SetInt(client, SOL_TCP, TCP_REPAIR, TCP_REPAIR_ON)) {
    std::string why = CallFailed("setsockopt(TCP_REPAIR)", err);
    if (err == EPERM) {
      absl::StrAppend(&why,
                      " (needs CAP_NET_ADMIN over this network namespace; "
                      "`soccr check --private-netns` shows what the kernel "
                      "supports)");
    } else if (err == ENOPROTOOPT) {
      absl::StrAppend(&why, " (the kernel has no TCP repair mode)");
    }
    Missing(kRepair, std::move(why));
    return false;
  }
  Ok(kRepair, "a loopback connection paused and resumed");

  // The queues: select each, read where it ends, peek the received bytes.
  {
    std::string failed;
    uint32_t seq = 0;
    char buf[1000];
    if (int err = SetInt(client, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE)) {
      failed = CallFailed("setsockopt(TCP_REPAIR_QUEUE)", err);
    } else if (int err =
                   Get(client, SOL_TCP, TCP_QUEUE_SEQ, &seq, sizeof(seq))) {
      failed = CallFailed("getsockopt(TCP_QUEUE_SEQ)", err);
    } else if (::recv(client.get(), buf, sizeof(buf),
                      MSG_PEEK | MSG_DONTWAIT) != sizeof(buf) ||
               std::string(buf, sizeof(buf)) != loopback::Pattern(1000, 7)) {
      failed = CallFailed("recv(MSG_PEEK) of the receive queue", errno);
    } else if (int err =
                   SetInt(client, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE)) {
      failed = CallFailed("setsockopt(TCP_REPAIR_QUEUE)", err);
    } else if (int err =
                   Get(client, SOL_TCP, TCP_QUEUE_SEQ, &seq, sizeof(seq))) {
      failed = CallFailed("getsockopt(TCP_QUEUE_SEQ)", err);
    }
    (void)SetInt(client, SOL_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
    if (failed.empty()) {
      Ok(kQueues,
         "both queues' sequence numbers read, the received bytes "
         "peeked");
    } else {
      Missing(kQueues, std::move(failed));
    }
  }

  uint32_t ts = 0;
  if (int err = Get(client, SOL_TCP, TCP_TIMESTAMP, &ts, sizeof(ts))) {
    Missing(kTimestamps, CallFailed("getsockopt(TCP_TIMESTAMP)", err));
  }
  struct tcp_repair_window window = {};
  if (int err =
          Get(client, SOL_TCP, TCP_REPAIR_WINDOW, &window, sizeof(window))) {
    Missing(kWindow,
            CallFailed("getsockopt(TCP_REPAIR_WINDOW)", err) +
                (err == ENOPROTOOPT ? " (Linux 4.8+; without it a restored "
                                      "connection starts from a default "
                                      "window)"
                                    : ""));
  }

  // Leave repair mode: quietly if the kernel can.
  if (int err = SetInt(client, SOL_TCP, TCP_REPAIR, TCP_REPAIR_OFF_NO_WP)) {
    Missing(kNoProbe,
            CallFailed("setsockopt(TCP_REPAIR, TCP_REPAIR_OFF_NO_WP)", err) +
                " (Linux 4.14+; resuming then always sends a window probe)");
    (void)SetInt(client, SOL_TCP, TCP_REPAIR, TCP_REPAIR_OFF);
  } else {
    Ok(kNoProbe, "TCP_REPAIR_OFF_NO_WP accepted");
  }
  return true;
}

// What a restore sets on a new socket in repair mode: the queues' sequence
// numbers, a connect() without a handshake, the options, the timestamp and
// the window. The socket is closed still in repair mode: nothing is sent.
void Checker::ProbeRepairSocket(const SocketAddress& peer) {
  OwnedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd) {
    Missing(kOptions, CallFailed("socket(AF_INET, SOCK_STREAM)", errno));
    return;
  }
  const BorrowedFd s = fd.borrow();
  const SocketAddress local = SocketAddress::Loopback4(0);
  std::string failed;
  if (int err = SetInt(s, SOL_TCP, TCP_REPAIR, TCP_REPAIR_ON)) {
    failed = CallFailed("setsockopt(TCP_REPAIR)", err);
  } else if (int err = SetInt(s, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE)) {
    failed = CallFailed("setsockopt(TCP_REPAIR_QUEUE)", err);
  } else if (int err = SetInt(s, SOL_TCP, TCP_QUEUE_SEQ, 5000)) {
    failed = CallFailed("setsockopt(TCP_QUEUE_SEQ)", err);
  } else if (int err = SetInt(s, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE)) {
    failed = CallFailed("setsockopt(TCP_REPAIR_QUEUE)", err);
  } else if (int err = SetInt(s, SOL_TCP, TCP_QUEUE_SEQ, 1000)) {
    failed = CallFailed("setsockopt(TCP_QUEUE_SEQ)", err);
  } else if (::bind(s.get(), local.sockaddr(), local.length()) != 0) {
    failed = CallFailed("bind", errno);
  } else if (::connect(s.get(), peer.sockaddr(), peer.length()) != 0) {
    failed = CallFailed("connect in repair mode", errno);
  }
  if (!failed.empty()) {
    Missing(kOptions, std::move(failed));
    return;
  }
  const struct tcp_repair_opt opts[] = {
      {TCPOPT_MAXSEG, 1460},
      {TCPOPT_WINDOW, 7 | (7 << 16)},
      {TCPOPT_SACK_PERMITTED, 0},
      {TCPOPT_TIMESTAMP, 0},
  };
  if (int err = Set(s, SOL_TCP, TCP_REPAIR_OPTIONS, opts, sizeof(opts))) {
    Missing(kOptions, CallFailed("setsockopt(TCP_REPAIR_OPTIONS)", err));
  } else {
    Ok(kOptions,
       "MSS, window scaling, SACK and timestamps set on a socket "
       "connected in repair mode");
  }
  if (Find(kTimestamps).outcome == Outcome::kSkipped) {
    if (int err = SetInt(s, SOL_TCP, TCP_TIMESTAMP, 123456)) {
      Missing(kTimestamps, CallFailed("setsockopt(TCP_TIMESTAMP)", err));
    } else {
      Ok(kTimestamps,
         "the clock read on a paused connection, set on a "
         "socket in repair mode");
    }
  }
  if (Find(kWindow).outcome == Outcome::kSkipped) {
    struct tcp_repair_window w = {};
    if (int err = Get(s, SOL_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w))) {
      Missing(kWindow, CallFailed("getsockopt(TCP_REPAIR_WINDOW)", err));
    } else if (int err = Set(s, SOL_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w))) {
      Missing(kWindow, CallFailed("setsockopt(TCP_REPAIR_WINDOW)", err));
    } else {
      Ok(kWindow,
         "read on a paused connection, set on a socket in repair "
         "mode");
    }
  }
}

void Checker::ProbeBuffers() {
  OwnedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd) {
    Missing(kBuffers, CallFailed("socket(AF_INET, SOCK_STREAM)", errno));
    return;
  }
  int err = SetInt(fd.borrow(), SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20);
  const char* call = "setsockopt(SO_SNDBUFFORCE)";
  if (err == 0) {
    err = SetInt(fd.borrow(), SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20);
    call = "setsockopt(SO_RCVBUFFORCE)";
  }
  if (err == 0) {
    Ok(kBuffers, "a restore can size buffers for queues of any size");
    return;
  }
  std::string why = CallFailed(call, err);
  if (err == EPERM) {
    absl::StrAppend(
        &why,
        " (needs CAP_NET_ADMIN in the initial user namespace). Restores "
        "fall back to SO_SNDBUF/SO_RCVBUF, capped by net.core.wmem_max=",
        ReadSmallFile("/proc/sys/net/core/wmem_max"),
        " and rmem_max=", ReadSmallFile("/proc/sys/net/core/rmem_max"),
        ", and to what new sockets start with (net.ipv4.tcp_wmem=",
        ReadSmallFile("/proc/sys/net/ipv4/tcp_wmem"),
        ", tcp_rmem=", ReadSmallFile("/proc/sys/net/ipv4/tcp_rmem"),
        "); a larger queue fails, naming the sysctl to raise");
  }
  Missing(kBuffers, std::move(why));
}

// A raw socket with the injected packets' mark, then (with repair mode) a
// real restore of a CLOSE_WAIT connection, whose FIN from the peer is
// injected.
void Checker::ProbeInjection(bool repair) {
  OwnedFd raw(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
  const char* consequence =
      "; connections in FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING "
      "and CLOSE after a reset cannot be restored";
  if (!raw) {
    const int err = errno;
    Missing(
        kInjection,
        absl::StrCat(CallFailed("socket(AF_INET, SOCK_RAW)", err),
                     err == EPERM ? " (needs CAP_NET_RAW)" : "", consequence));
    return;
  }
  if (int err = SetInt(raw.borrow(), SOL_SOCKET, SO_MARK,
                       static_cast<int>(kInjectedPacketMark))) {
    Missing(kInjection,
            absl::StrCat(
                CallFailed("setsockopt(SO_MARK)", err),
                err == EPERM ? " (needs CAP_NET_ADMIN or CAP_NET_RAW)" : "",
                consequence));
    return;
  }
  raw.reset();
  if (!repair) {
    Ok(kInjection,
       "a raw socket with SO_MARK; restoring through it not "
       "tried without repair mode");
    return;
  }
  absl::Status s = [&]() -> absl::Status {
    absl::StatusOr<TcpPair> pair =
        loopback::ConnectedPair(loopback::Family::kV4);
    if (!pair.ok()) return pair.status();
    if (::shutdown(pair->server.get(), SHUT_WR) != 0) {
      return absl::ErrnoToStatus(errno, "shutdown(SHUT_WR)");
    }
    if (absl::Status w = loopback::WaitTcpState(
            pair->client.borrow(), static_cast<int>(TcpState::kCloseWait));
        !w.ok()) {
      return w;
    }
    absl::StatusOr<ConnectionState> state = [&] {
      absl::StatusOr<PausedSocket> paused =
          PausedSocket::Pause(pair->client.borrow());
      if (!paused.ok()) return absl::StatusOr<ConnectionState>(paused.status());
      absl::StatusOr<ConnectionState> st = Checkpoint(*paused);
      if (st.ok()) std::move(*paused).LeaveInRepairMode();
      return st;
    }();
    if (!state.ok()) return state.status();
    pair->client.reset();  // in repair mode: silent
    absl::StatusOr<RestoredSocket> restored = Restore(*state);
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
  }();
  if (s.ok()) {
    Ok(kInjection, absl::StrFormat("a CLOSE_WAIT connection restored, the "
                                   "peer's FIN injected with mark 0x%x",
                                   kInjectedPacketMark));
  } else {
    Missing(kInjection,
            absl::StrCat("restoring a CLOSE_WAIT connection: ", s.message()));
  }
}

// The whole thing: a connection with data in both queues, checkpointed,
// closed silently, restored on a new socket, every byte checked.
void Checker::ProbeRoundTrip() {
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
    absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(client);
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
    absl::StatusOr<RestoredSocket> restored = Restore(*state);
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
    Ok(kRoundTrip,
       absl::StrCat("a loopback connection with ", FormatBytes(kBytes),
                    " in each queue moved to a new socket, "
                    "every byte checked"));
  } else {
    Missing(kRoundTrip, std::string(s.message()));
  }
}

void Checker::Run() {
  absl::StatusOr<TcpPair> pair = loopback::ConnectedPair(loopback::Family::kV4);
  if (!pair.ok()) {
    Missing(kLoopback, absl::StrCat(pair.status().message(),
                                    " (is lo up in this network namespace?)"));
    for (const Feature& f : kFeatures) Skip(f.name, "needs a connection");
    return;
  }
  absl::Status data =
      loopback::WriteAll(pair->server.borrow(), loopback::Pattern(1000, 7));
  if (data.ok()) data = loopback::WaitInq(pair->client.borrow(), 1000);
  if (!data.ok()) {
    Missing(kLoopback, std::string(data.message()));
    for (const Feature& f : kFeatures) Skip(f.name, "needs a connection");
    return;
  }
  Ok(kLoopback, "127.0.0.1, in this network namespace");

  struct sockaddr_storage ss = {};
  socklen_t len = sizeof(ss);
  ::getsockname(pair->server.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  absl::StatusOr<SocketAddress> server_addr =
      SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);

  const bool repair = ProbePaused(pair->client.borrow());
  if (repair && server_addr.ok()) ProbeRepairSocket(*server_addr);
  ProbeBuffers();
  ProbeInjection(repair);
  if (repair) ProbeRoundTrip();
  if (repair) ProbeRefusals();
  for (const Feature& f : kFeatures) Skip(f.name, "needs repair mode");
}

// What the checkpoint of `fd` says: "" if it was refused for `feature`
// (the message names it), else what happened instead.
std::string RefusedFor(BorrowedFd fd, absl::string_view feature) {
  absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd);
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

// Connections a restore cannot carry: tried for real where the kernel has
// the feature, so the line says what soccr found, not what it hopes.
void Checker::ProbeRefusals() {
  // TCP-MD5: a connection signed from its handshake.
  {
    const SocketAddress server = SocketAddress::Loopback4(0);
    OwnedFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    OwnedFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct tcp_md5sig sig = {};
    const SocketAddress any = SocketAddress::Loopback4(0);
    memcpy(&sig.tcpm_addr, any.sockaddr(), any.length());
    sig.tcpm_keylen = 8;
    memcpy(sig.tcpm_key, "soccrkey", 8);
    struct sockaddr_storage ss = {};
    socklen_t len = sizeof(ss);
    int err = Set(listener.borrow(), SOL_TCP, TCP_MD5SIG, &sig, sizeof(sig));
    if (err == 0)
      err = Set(client.borrow(), SOL_TCP, TCP_MD5SIG, &sig, sizeof(sig));
    if (err != 0) {
      Missing(kMd5, CallFailed("setsockopt(TCP_MD5SIG)", err) +
                        (err == ENOPROTOOPT || err == ENOENT
                             ? " (a kernel without CONFIG_TCP_MD5SIG: no "
                               "connection here can carry TCP-MD5 keys)"
                             : ""));
    } else if (::bind(listener.get(), server.sockaddr(), server.length()) !=
                   0 ||
               ::listen(listener.get(), 1) != 0 ||
               ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&ss),
                             &len) != 0 ||
               ::connect(client.get(), reinterpret_cast<sockaddr*>(&ss), len) !=
                   0) {
      Missing(kMd5, CallFailed("a TCP-MD5 connection over loopback", errno));
    } else {
      OwnedFd accepted(
          ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      const std::string why = RefusedFor(client.borrow(), "TCP-MD5");
      if (why.empty()) {
        Ok(kMd5,
           "a connection signed with TCP-MD5 was refused at checkpoint "
           "(sock_diag shows its keys, which no getsockopt reads back)");
      } else {
        Missing(kMd5, why);
      }
    }
  }
  // TCP-AO: the kernel says whether it has it.
  {
    OwnedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    uint8_t info[48] = {};
    const int err = Get(fd.borrow(), SOL_TCP, TCP_AO_INFO, info, sizeof(info));
    if (err == ENOPROTOOPT) {
      Missing(kAo, CallFailed("getsockopt(TCP_AO_INFO)", err) +
                       " (a kernel without CONFIG_TCP_AO: no connection here "
                       "can carry TCP-AO keys)");
    } else if (err == ENOENT || err == 0) {
      Ok(kAo,
         "the kernel has TCP-AO: a connection with keys (TCP_AO_INFO) is "
         "refused at checkpoint (not tried with a key here)");
    } else {
      Missing(kAo, CallFailed("getsockopt(TCP_AO_INFO)", err));
    }
  }
  // kTLS: the tls upper-layer protocol on a live connection.
  {
    absl::StatusOr<TcpPair> pair =
        loopback::ConnectedPair(loopback::Family::kV4);
    if (!pair.ok()) {
      Missing(kTls, std::string(pair.status().message()));
    } else if (int err =
                   Set(pair->client.borrow(), SOL_TCP, TCP_ULP, "tls", 3)) {
      Missing(kTls, CallFailed("setsockopt(TCP_ULP, \"tls\")", err) +
                        (err == ENOENT ? " (the tls module is not loaded: no "
                                         "connection here can use kTLS)"
                                       : ""));
    } else {
      const std::string why = RefusedFor(pair->client.borrow(), "kTLS");
      if (why.empty()) {
        Ok(kTls, "a kTLS connection was refused at checkpoint (TCP_ULP)");
      } else {
        Missing(kTls, why);
      }
    }
  }
}

}  // namespace

bool CheckReport::BasicsPresent() const {
  for (const Probe& p : probes) {
    if (p.basic && p.outcome != Probe::Outcome::kOk) return false;
  }
  return true;
}

CheckReport RunChecks() {
  CheckReport report;
  struct utsname u = {};
  ::uname(&u);
  char netns[64] = "?";
  const ssize_t n = ::readlink("/proc/self/ns/net", netns, sizeof(netns) - 1);
  if (n > 0) netns[n] = '\0';
  report.context =
      absl::StrCat("Linux ", u.release, ", uid ", ::geteuid(),
                   ", CAP_NET_ADMIN ", HasCapability(12), ", CAP_NET_RAW ",
                   HasCapability(13), ", network namespace ", netns);
  Checker checker;
  checker.Run();
  report.probes = std::move(checker).Take();
  return report;
}

std::string FormatCheckReport(const CheckReport& report) {
  std::string out = absl::StrCat(report.context, "\n");
  std::vector<std::string> missing_basics;
  for (const Probe& p : report.probes) {
    const char* outcome = p.outcome == Outcome::kOk        ? "ok"
                          : p.outcome == Outcome::kMissing ? "missing"
                                                           : "skipped";
    absl::StrAppendFormat(&out, "%-7s %s %-36s %s\n", outcome,
                          p.basic ? "*" : " ", p.feature, p.detail);
    if (p.basic && p.outcome != Outcome::kOk) {
      missing_basics.push_back(p.feature);
    }
  }
  if (missing_basics.empty()) {
    absl::StrAppend(&out,
                    "all basic features (*) are present: soccr can "
                    "checkpoint and restore connections here\n");
  } else {
    absl::StrAppend(&out, "basic features (*) missing: ",
                    absl::StrJoin(missing_basics, ", "),
                    "; soccr cannot checkpoint and restore connections "
                    "here\n");
  }
  return out;
}

}  // namespace soccr
