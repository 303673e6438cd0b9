#include "bench/fixtures.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "soccr/checkpoint.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/paused_socket.h"
#include "soccr/status_macros.h"

namespace soccr::bench {
namespace {

absl::Status RaiseOpenFileLimit() {
  struct rlimit lim = {};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return absl::ErrnoToStatus(errno, "getrlimit(RLIMIT_NOFILE)");
  }
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return absl::ErrnoToStatus(errno, "setrlimit(RLIMIT_NOFILE)");
  }
  return absl::OkStatus();
}

// /proc/self/task/<tid>/ns/net of the calling thread, opened.
absl::StatusOr<OwnedFd> OpenThreadNetns() {
  const std::string path =
      absl::StrCat("/proc/self/task/", ::gettid(), "/ns/net");
  OwnedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  return fd;
}

// The namespaces EnterBenchmarkNamespace made; they live as long as the
// process.
OwnedFd& DefaultNetns() {
  static OwnedFd* const fd = new OwnedFd;
  return *fd;
}
OwnedFd& LargeBufferNetns() {
  static OwnedFd* const fd = new OwnedFd;
  return *fd;
}
OwnedFd& RestoreTargetNetns() {
  static OwnedFd* const fd = new OwnedFd;
  return *fd;
}
OwnedFd& InFlightNetns() {
  static OwnedFd* const fd = new OwnedFd;
  return *fd;
}

absl::Status Use(const OwnedFd& netns, absl::string_view name) {
  if (!netns) {
    return absl::FailedPreconditionError(
        "EnterBenchmarkNamespace() has not run");
  }
  if (::setns(netns.get(), CLONE_NEWNET) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setns(", name, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnterBenchmarkNamespace() {
  for (OwnedFd* netns : {&DefaultNetns(), &RestoreTargetNetns(),
                         &InFlightNetns(), &LargeBufferNetns()}) {
    SOCCR_RETURN_IF_ERROR(loopback::EnterPrivateNetns());
    if (absl::Status s = loopback::SetSysctl("net/core/somaxconn", "65535");
        !s.ok()) {
      return s;
    }
    if (netns != &DefaultNetns()) {
      if (absl::Status s = loopback::RaiseTcpBuffers(kSocketBufferBytes,
                                                     2 * kSocketBufferBytes);
          !s.ok()) {
        return s;
      }
    }
    if (netns == &InFlightNetns()) {
      // No RTT cached from earlier connections to the peer (tcp_metrics):
      // a restored socket starts as on a host that never talked to it.
      if (absl::Status s =
              loopback::SetSysctl("net/ipv4/tcp_no_metrics_save", "1");
          !s.ok()) {
        return s;
      }
    }
    absl::StatusOr<OwnedFd> fd = OpenThreadNetns();
    if (!fd.ok()) return fd.status();
    *netns = *std::move(fd);
  }
  return RaiseOpenFileLimit();
}

absl::Status UseLargeBufferNamespace() {
  return Use(LargeBufferNetns(), "large-buffer namespace");
}

absl::Status UseDefaultNamespace() {
  return Use(DefaultNetns(), "default namespace");
}

absl::Status UseRestoreTargetNamespace() {
  return Use(RestoreTargetNetns(), "restore target namespace");
}

absl::Status UseInFlightNamespace() {
  return Use(InFlightNetns(), "in-flight namespace");
}

absl::StatusOr<const loopback::TcpPair*> PairCache::Get(Queue queue,
                                                        size_t bytes) {
  SOCCR_RETURN_IF_ERROR(UseLargeBufferNamespace());
  if (pair_.has_value() && queue_ == queue && bytes_ == bytes) {
    return &*pair_;
  }
  if (pair_.has_value()) CloseSilently(*pair_);  // Frees it first.
  pair_.reset();
  absl::StatusOr<loopback::TcpPair> p =
      queue == Queue::kRecv ? PairWithRecvQueue(PatternBytes(bytes))
                            : PairWithSendQueue(PatternBytes(bytes));
  if (!p.ok()) return p.status();
  pair_ = *std::move(p);
  queue_ = queue;
  bytes_ = bytes;
  return &*pair_;
}

void PairCache::Clear() {
  if (pair_.has_value()) CloseSilently(*pair_);
  pair_.reset();
}

PairCache& SharedPairCache() {
  static PairCache* const cache = new PairCache;
  return *cache;
}

absl::string_view PatternBytes(size_t n) {
  static const std::string* const pattern =
      new std::string(loopback::Pattern(kMaxQueueBytes, 42));
  return absl::string_view(*pattern).substr(0, n);
}

absl::StatusOr<loopback::TcpPair> PairWithRecvQueue(absl::string_view data) {
  absl::StatusOr<loopback::TcpPair> pair =
      loopback::ConnectedPair(loopback::Family::kV4);
  if (!pair.ok()) return pair.status();
  if (absl::Status s = loopback::WriteAll(pair->server.borrow(), data);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = loopback::WaitInq(pair->client.borrow(), data.size());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = loopback::WaitNothingInFlight(pair->server.borrow());
      !s.ok()) {
    return s;
  }
  if (loopback::InqLen(pair->client.borrow()) !=
      static_cast<int>(data.size())) {
    return absl::InternalError(absl::StrCat(
        "receive queue holds ", loopback::InqLen(pair->client.borrow()),
        " bytes, not ", data.size()));
  }
  return pair;
}

absl::StatusOr<loopback::TcpPair> PairWithSendQueue(absl::string_view data) {
  absl::StatusOr<loopback::TcpPair> pair =
      loopback::ConnectedPair(loopback::Family::kV4);
  if (!pair.ok()) return pair.status();
  // The server drops every packet, so nothing the client sends is ever
  // acknowledged and its send queue keeps exactly what was written. (A
  // server that merely reads nothing is not enough: when it collapses its
  // receive queue to save memory its window reopens, and the client's queue
  // shrinks under the benchmark.)
  SOCCR_RETURN_IF_ERROR(loopback::DropIncoming(pair->server.borrow()));
  const BorrowedFd client = pair->client.borrow();
  absl::StatusOr<size_t> n = loopback::WriteSome(client, data);
  if (!n.ok()) return n.status();
  if (*n != data.size() ||
      loopback::OutqLen(client) != static_cast<int>(data.size())) {
    return absl::InternalError(absl::StrCat(
        "could not leave ", data.size(), " bytes in the send queue (", *n,
        " written, ", loopback::OutqLen(client), " queued)"));
  }
  return pair;
}

absl::StatusOr<IdleConnections> MakeIdleConnections(size_t n) {
  IdleConnections out;
  out.listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!out.listener) return absl::ErrnoToStatus(errno, "socket");
  const SocketAddress any = SocketAddress::Loopback4(0);
  if (::bind(out.listener.get(), any.sockaddr(), any.length()) != 0) {
    return absl::ErrnoToStatus(errno, "bind");
  }
  if (::listen(out.listener.get(), static_cast<int>(n) + 16) != 0) {
    return absl::ErrnoToStatus(errno, "listen");
  }
  struct sockaddr_in sin = {};
  socklen_t len = sizeof(sin);
  if (::getsockname(out.listener.get(), reinterpret_cast<sockaddr*>(&sin),
                    &len) != 0) {
    return absl::ErrnoToStatus(errno, "getsockname");
  }
  const SocketAddress server = SocketAddress::Loopback4(ntohs(sin.sin_port));
  out.clients.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    OwnedFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!c) return absl::ErrnoToStatus(errno, "socket");
    if (::connect(c.get(), server.sockaddr(), server.length()) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("connect #", i));
    }
    out.clients.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<RestorableConnection> MakeRestorableConnection() {
  absl::StatusOr<loopback::TcpPair> pair =
      loopback::ConnectedPair(loopback::Family::kV4);
  if (!pair.ok()) return pair.status();
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause(pair->client.borrow());
  if (!paused.ok()) return paused.status();
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused);
  if (!state.ok()) return state.status();
  std::move(*paused).LeaveInRepairMode();
  pair->client.reset();
  return RestorableConnection{*std::move(state), std::move(pair->server)};
}

ConnectionState WithRecvQueue(const ConnectionState& base,
                              absl::string_view data) {
  ConnectionState s = base;
  s.recv_queue = QueueBytes::Copy(data);
  s.inq_len = static_cast<uint32_t>(data.size());
  return s;
}

ConnectionState WithSentQueue(const ConnectionState& base,
                              absl::string_view data) {
  ConnectionState s = base;
  s.send_queue = QueueBytes::Copy(data);
  s.outq_len = static_cast<uint32_t>(data.size());
  s.unsent_len = 0;
  return s;
}

namespace {
double CpuSeconds(clockid_t clock) {
  struct timespec ts = {};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) +
         static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

double ThreadCpuSeconds() { return CpuSeconds(CLOCK_THREAD_CPUTIME_ID); }

double ThreadMinorFaults() {
  struct rusage ru = {};
  if (::getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
  return static_cast<double>(ru.ru_minflt);
}
double ProcessCpuSeconds() { return CpuSeconds(CLOCK_PROCESS_CPUTIME_ID); }
double WallSeconds() { return CpuSeconds(CLOCK_MONOTONIC); }

void CloseSilently(loopback::TcpPair& pair) {
  if (pair.client) CloseSilently(std::move(pair.client));
  if (pair.server) CloseSilently(std::move(pair.server));
}

void CloseSilently(OwnedFd fd) {
  if (!fd) return;
  absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(fd.borrow());
  if (paused.ok()) std::move(*paused).LeaveInRepairMode();
  fd.reset();
}

absl::Status CarriesAByte(BorrowedFd fd, BorrowedFd peer) {
  for (auto [from, to] : {std::pair{fd, peer}, std::pair{peer, fd}}) {
    SOCCR_RETURN_IF_ERROR(loopback::WriteAll(from, "x"));
    SOCCR_RETURN_IF_ERROR(
        loopback::ReadExactly(to, 1, absl::Seconds(10)).status());
  }
  return absl::OkStatus();
}

}  // namespace soccr::bench
