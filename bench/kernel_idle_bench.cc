// The kernel's floor for moving an idle connection: the reference the idle
// C API figures (c_api_bench.cc) and the batch (connection_bench.cc) are
// measured against in the same run.
//
// KernelIdleMigrate: one connection moved again and again with nothing but
//   the kernel calls the repair interface needs for an idle connection, in
//   the order libsoccr makes them, and no check or error text of any kind:
//   TCP_REPAIR on; getsockname and getpeername (CRIU takes the addresses
//   from one sock_diag dump of all sockets, a caller of libsoccr without
//   it asks for them); TCP_INFO; SIOCOUTQ, SIOCOUTQNSD, SIOCINQ; both
//   queues' TCP_REPAIR_QUEUE and TCP_QUEUE_SEQ; TCP_MAXSEG, TCP_TIMESTAMP,
//   TCP_REPAIR_WINDOW; close (silent, in repair mode). Then socket,
//   TCP_REPAIR on, both queues' TCP_REPAIR_QUEUE and TCP_QUEUE_SEQ, bind,
//   connect, TCP_REPAIR_OPTIONS, TCP_TIMESTAMP, TCP_REPAIR_WINDOW,
//   TCP_REPAIR off. 12 setsockopt + 6 getsockopt + 8 others + 2 close.
//   To be compared with CIdleMigrate (the same move through libsoccr_*).
// KernelIdleCheckpoint / KernelIdleRestore: its two halves, timed as
//   CIdleCheckpoint and CIdleRestore are (blocks of 100 connections; the
//   checkpoint's connections resumed, the restore's copies closed
//   silently, untimed).
// KernelIdleCheckpointChecked/kept:K: KernelIdleCheckpoint with the
//   question a checkpoint that refuses TCP-MD5 connections must ask, raw:
//   SO_COOKIE, then one sock_diag request for exactly this socket
//   (INET_DIAG_INFO, whose reply carries the keys), whose tcp_info and
//   queue lengths stand in for TCP_INFO and the three ioctls, as soccr
//   takes them. kept:0 opens and closes a netlink socket for the question,
//   as the C API and a C++ checkpoint without a session must; kept:1 asks
//   on one kept open, as a SockDiagSession does. The floors for
//   CIdleCheckpoint and IdleCheckpointSession.
// KernelBatchMigrate/conns:N/threads:T: the same for N connections, each
//   of T threads moving its share (checkpoint and close all of them, then
//   restore all of them), wall-clock: the floor for BatchMigrate.
//
// Both check afterwards (untimed) that the moved connections still carry
// a byte each way, so the floor is a real move and not a faster failure.

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/fixtures.h"
#include "bench/idle_loop.h"
#include "bench/registry.h"
#include "bench/syscall_count.h"
#include "benchmark/benchmark.h"

namespace soccr::bench {
namespace {

// What the repair interface needs of an idle connection.
struct RawIdleState {
  sockaddr_storage local = {};
  sockaddr_storage peer = {};
  socklen_t addr_len = 0;
  tcp_info info = {};
  uint32_t recv_seq = 0;
  uint32_t send_seq = 0;
  int mss = 0;
  uint32_t timestamp = 0;
  tcp_repair_window window = {};
};

bool SetInt(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof(value)) == 0;
}

template <typename T>
bool Get(int fd, int name, T* out) {
  socklen_t len = sizeof(*out);
  return ::getsockopt(fd, SOL_TCP, name, out, &len) == 0;
}

bool RawQueueSeq(int fd, int queue, uint32_t* seq) {
  return SetInt(fd, SOL_TCP, TCP_REPAIR_QUEUE, queue) &&
         Get(fd, TCP_QUEUE_SEQ, seq);
}

// A checkpoint's first calls: repair mode on, then both addresses.
bool RawPauseAndAddresses(int fd, RawIdleState* s) {
  socklen_t local_len = sizeof(s->local);
  socklen_t peer_len = sizeof(s->peer);
  const bool ok =
      SetInt(fd, SOL_TCP, TCP_REPAIR, 1) &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&s->local), &local_len) ==
          0 &&
      ::getpeername(fd, reinterpret_cast<sockaddr*>(&s->peer), &peer_len) == 0;
  s->addr_len = local_len;
  return ok;
}

// Its last: both queues' sequence numbers, the MSS, the timestamp and the
// window.
bool RawSequenceAndWindow(int fd, RawIdleState* s) {
  return RawQueueSeq(fd, TCP_RECV_QUEUE, &s->recv_seq) &&
         RawQueueSeq(fd, TCP_SEND_QUEUE, &s->send_seq) &&
         Get(fd, TCP_MAXSEG, &s->mss) &&
         Get(fd, TCP_TIMESTAMP, &s->timestamp) &&
         Get(fd, TCP_REPAIR_WINDOW, &s->window);
}

// Pauses and saves `fd`, which stays in repair mode.
bool RawCheckpoint(int fd, RawIdleState* s) {
  bool ok = RawPauseAndAddresses(fd, s);
  int outq = -1;
  int unsent = -1;
  int inq = -1;
  ok = ok && Get(fd, TCP_INFO, &s->info) && ::ioctl(fd, SIOCOUTQ, &outq) == 0 &&
       ::ioctl(fd, SIOCOUTQNSD, &unsent) == 0 &&
       ::ioctl(fd, SIOCINQ, &inq) == 0;
  // Idle: a queue with bytes in it would need the peeks this floor leaves
  // out.
  ok = ok && outq == 0 && unsent == 0 && inq == 0;
  return ok && RawSequenceAndWindow(fd, s);
}

// The netlink socket for RawCheckedCheckpoint's question, or -1.
int RawDiagSocket() {
  return ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
                  NETLINK_SOCK_DIAG);
}

// RawCheckpoint with sock_diag's answer (on `diag`, a netlink socket; -1:
// one opened and closed for it) in place of TCP_INFO and the ioctls; false
// also if the answer is not about this socket or shows TCP-MD5 keys.
bool RawCheckedCheckpoint(int fd, int diag, RawIdleState* s) {
  bool ok = RawPauseAndAddresses(fd, s);
  uint64_t cookie = 0;
  socklen_t cookie_len = sizeof(cookie);
  ok = ok && ::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &cookie_len) == 0;
  if (!ok) return false;
  const int nl = diag >= 0 ? diag : RawDiagSocket();
  if (nl < 0) return false;
  struct {
    nlmsghdr h;
    inet_diag_req_v2 r;
  } req = {};
  req.h.nlmsg_len = sizeof(req);
  req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.r.sdiag_family = static_cast<__u8>(s->local.ss_family);
  req.r.sdiag_protocol = IPPROTO_TCP;
  req.r.idiag_states = ~0u;
  req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
  if (s->local.ss_family == AF_INET) {
    const auto& l = reinterpret_cast<const sockaddr_in&>(s->local);
    const auto& p = reinterpret_cast<const sockaddr_in&>(s->peer);
    req.r.id.idiag_sport = l.sin_port;
    req.r.id.idiag_dport = p.sin_port;
    req.r.id.idiag_src[0] = l.sin_addr.s_addr;
    req.r.id.idiag_dst[0] = p.sin_addr.s_addr;
  } else {
    const auto& l = reinterpret_cast<const sockaddr_in6&>(s->local);
    const auto& p = reinterpret_cast<const sockaddr_in6&>(s->peer);
    req.r.id.idiag_sport = l.sin6_port;
    req.r.id.idiag_dport = p.sin6_port;
    memcpy(req.r.id.idiag_src, &l.sin6_addr, 16);
    memcpy(req.r.id.idiag_dst, &p.sin6_addr, 16);
  }
  req.r.id.idiag_cookie[0] = static_cast<__u32>(cookie);
  req.r.id.idiag_cookie[1] = static_cast<__u32>(cookie >> 32);
  alignas(nlmsghdr) char buf[8192];
  ok = ::send(nl, &req, sizeof(req), 0) == static_cast<ssize_t>(sizeof(req));
  const ssize_t n = ok ? ::recv(nl, buf, sizeof(buf), 0) : -1;
  if (diag < 0) ::close(nl);
  const auto* h = reinterpret_cast<const nlmsghdr*>(buf);
  if (n < static_cast<ssize_t>(NLMSG_LENGTH(sizeof(inet_diag_msg))) ||
      !NLMSG_OK(h, static_cast<size_t>(n)) ||
      h->nlmsg_type != SOCK_DIAG_BY_FAMILY) {
    return false;
  }
  const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
  ok = msg->id.idiag_cookie[0] == req.r.id.idiag_cookie[0] &&
       msg->id.idiag_cookie[1] == req.r.id.idiag_cookie[1];
  bool info = false;
  int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
  for (const rtattr* a = reinterpret_cast<const rtattr*>(msg + 1);
       RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == INET_DIAG_MD5SIG && RTA_PAYLOAD(a) > 0) ok = false;
    if (a->rta_type == INET_DIAG_INFO) {
      memcpy(&s->info, RTA_DATA(a),
             std::min<size_t>(RTA_PAYLOAD(a), sizeof(s->info)));
      info = true;
    }
  }
  // Idle, as RawCheckpoint requires.
  ok = ok && info && msg->idiag_rqueue == 0 && msg->idiag_wqueue == 0;
  return ok && RawSequenceAndWindow(fd, s);
}

// RawCheckpoint, then close (silently: it is in repair mode).
bool RawCheckpointAndClose(int fd, RawIdleState* s) {
  const bool ok = RawCheckpoint(fd, s);
  ::close(fd);
  return ok;
}

// Recreates `s` on a new socket and resumes it; the descriptor or -1.
int RawRestore(const RawIdleState& s) {
  const int fd = ::socket(s.local.ss_family, SOCK_STREAM, IPPROTO_TCP);
  if (fd < 0) return -1;
  tcp_repair_opt opts[4];
  int n = 0;
  opts[n++] = {TCPOPT_MAXSEG, static_cast<uint32_t>(s.mss)};
  if (s.info.tcpi_options & TCPI_OPT_WSCALE) {
    opts[n++] = {TCPOPT_WINDOW,
                 static_cast<uint32_t>(s.info.tcpi_snd_wscale) |
                     (static_cast<uint32_t>(s.info.tcpi_rcv_wscale) << 16)};
  }
  if (s.info.tcpi_options & TCPI_OPT_SACK)
    opts[n++] = {TCPOPT_SACK_PERMITTED, 0};
  if (s.info.tcpi_options & TCPI_OPT_TIMESTAMPS) {
    opts[n++] = {TCPOPT_TIMESTAMP, 0};
  }
  const bool ok =
      SetInt(fd, SOL_TCP, TCP_REPAIR, 1) &&
      SetInt(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE) &&
      SetInt(fd, SOL_TCP, TCP_QUEUE_SEQ, static_cast<int>(s.recv_seq)) &&
      SetInt(fd, SOL_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) &&
      SetInt(fd, SOL_TCP, TCP_QUEUE_SEQ, static_cast<int>(s.send_seq)) &&
      ::bind(fd, reinterpret_cast<const sockaddr*>(&s.local), s.addr_len) ==
          0 &&
      ::connect(fd, reinterpret_cast<const sockaddr*>(&s.peer), s.addr_len) ==
          0 &&
      ::setsockopt(fd, SOL_TCP, TCP_REPAIR_OPTIONS, opts,
                   static_cast<socklen_t>(n * sizeof(opts[0]))) == 0 &&
      (!(s.info.tcpi_options & TCPI_OPT_TIMESTAMPS) ||
       SetInt(fd, SOL_TCP, TCP_TIMESTAMP, static_cast<int>(s.timestamp))) &&
      ::setsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &s.window,
                   sizeof(s.window)) == 0 &&
      SetInt(fd, SOL_TCP, TCP_REPAIR, 0);
  if (!ok) {
    CloseSilently(OwnedFd(fd));
    return -1;
  }
  return fd;
}

int RawMigrateOnce(int fd) {
  RawIdleState s;
  if (!RawCheckpointAndClose(fd, &s)) return -1;
  return RawRestore(s);
}

void BM_KernelIdleMigrate(benchmark::State& state) {
  MoveOneRepeatedly(state, RawMigrateOnce, "raw move");
}

// Timed in blocks of this many connections, as CIdleCheckpoint and
// CIdleRestore are, so that reading the clock weighs nothing.
constexpr size_t kBlock = 100;

// Times `checkpoint` of each of `conns`' clients (which it leaves in
// repair mode), in blocks of kBlock; the kernel calls of the first are
// counted untimed, and the sockets are resumed untimed after each block.
void TimeRawCheckpoints(
    benchmark::State& state, IdleConnections& conns,
    absl::FunctionRef<bool(int fd, RawIdleState* s)> checkpoint) {
  std::vector<RawIdleState> saved(kBlock);
  const SyscallCounts before = CurrentSyscalls();
  bool ok = checkpoint(conns.clients[0].get(), &saved[0]);
  const SyscallCounts calls = CurrentSyscalls() - before;
  ok &= SetInt(conns.clients[0].get(), SOL_TCP, TCP_REPAIR, 0);
  double cpu = 0;
  for (auto _ : state) {
    if (!ok) break;
    const double cpu_start = ThreadCpuSeconds();
    const double start = WallSeconds();
    for (size_t i = 0; i < kBlock; ++i) {
      ok &= checkpoint(conns.clients[i].get(), &saved[i]);
    }
    state.SetIterationTime(WallSeconds() - start);
    cpu += ThreadCpuSeconds() - cpu_start;
    for (const OwnedFd& fd : conns.clients) {  // Resumes, untimed.
      ok &= SetInt(fd.get(), SOL_TCP, TCP_REPAIR, 0);
    }
  }
  if (!ok) return state.SkipWithError("raw checkpoint failed");
  SetPerConnection(state, kBlock, calls, cpu);
}

void BM_KernelIdleCheckpoint(benchmark::State& state) {
  std::optional<IdleConnections> conns = IdleConnectionsOrSkip(state, kBlock);
  if (!conns.has_value()) return;
  TimeRawCheckpoints(state, *conns, RawCheckpoint);
}

void BM_KernelIdleCheckpointChecked(benchmark::State& state) {
  // The connections first: their namespace is where the netlink socket
  // must be made.
  std::optional<IdleConnections> conns = IdleConnectionsOrSkip(state, kBlock);
  if (!conns.has_value()) return;
  const bool kept = state.range(0) != 0;
  OwnedFd diag(kept ? RawDiagSocket() : -1);
  if (kept && !diag) {
    return state.SkipWithError(
        absl::StrCat("socket(NETLINK_SOCK_DIAG): ", strerror(errno)).c_str());
  }
  const int nl = kept ? diag.get() : -1;
  TimeRawCheckpoints(state, *conns, [nl](int fd, RawIdleState* s) {
    return RawCheckedCheckpoint(fd, nl, s);
  });
}

void BM_KernelIdleRestore(benchmark::State& state) {
  std::optional<IdleConnections> conns = IdleConnectionsOrSkip(state, kBlock);
  if (!conns.has_value()) return;
  std::vector<RawIdleState> saved(kBlock);
  bool ok = true;
  for (size_t i = 0; i < kBlock; ++i) {
    ok &= RawCheckpointAndClose(conns->clients[i].release(), &saved[i]);
  }
  if (!ok) return state.SkipWithError("raw checkpoint failed");
  SyscallCounts calls;
  {
    const SyscallCounts before = CurrentSyscalls();
    const int fd = RawRestore(saved[0]);
    calls = CurrentSyscalls() - before;
    if (fd < 0) return state.SkipWithError("raw restore failed");
    CloseSilently(OwnedFd(fd));
  }
  std::vector<int> restored(kBlock, -1);
  double cpu = 0;
  for (auto _ : state) {
    const double cpu_start = ThreadCpuSeconds();
    const double start = WallSeconds();
    for (size_t i = 0; i < kBlock; ++i) restored[i] = RawRestore(saved[i]);
    state.SetIterationTime(WallSeconds() - start);
    cpu += ThreadCpuSeconds() - cpu_start;
    for (int& fd : restored) {  // Closed silently for the next, untimed.
      ok &= fd >= 0;
      if (fd >= 0) CloseSilently(OwnedFd(fd));
      fd = -1;
    }
    if (!ok) break;
  }
  if (!ok) return state.SkipWithError("raw restore failed");
  SetPerConnection(state, kBlock, calls, cpu);
}

// Moves fds[begin, end) once: all checkpointed and closed, then all
// restored. False if any failed (its slot is -1).
bool RawMigrateSlice(std::vector<int>& fds, size_t begin, size_t end) {
  std::vector<RawIdleState> states(end - begin);
  bool ok = true;
  for (size_t i = begin; i < end; ++i) {
    ok &= RawCheckpointAndClose(fds[i], &states[i - begin]);
  }
  for (size_t i = begin; i < end; ++i) {
    fds[i] = RawRestore(states[i - begin]);
    ok &= fds[i] >= 0;
  }
  return ok;
}

void BM_KernelBatchMigrate(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const size_t threads = static_cast<size_t>(state.range(1));
  std::optional<IdleConnections> conns = IdleConnectionsOrSkip(state, n);
  if (!conns.has_value()) return;
  std::vector<int> fds;
  for (OwnedFd& fd : conns->clients) fds.push_back(fd.release());
  // Kernel calls per connection: one connection moved once, untimed.
  const SyscallCounts before = CurrentSyscalls();
  fds[0] = RawMigrateOnce(fds[0]);
  const SyscallCounts calls = CurrentSyscalls() - before;
  bool ok = fds[0] >= 0;
  const double cpu_start = ProcessCpuSeconds();
  for (auto _ : state) {
    if (!ok) break;
    std::vector<std::thread> workers;
    std::vector<char> worker_ok(threads, 1);
    for (size_t t = 0; t < threads; ++t) {
      // Threads start in the calling thread's namespaces (setns is per
      // thread and inherited).
      workers.emplace_back([&fds, &worker_ok, t, threads, n] {
        worker_ok[t] =
            RawMigrateSlice(fds, n * t / threads, n * (t + 1) / threads);
      });
    }
    for (std::thread& w : workers) w.join();
    for (char w : worker_ok) ok &= w != 0;
  }
  const double cpu = ProcessCpuSeconds() - cpu_start;
  // The connections' peers wait in the listener's accept queue: the check
  // takes the one an accept() gives, whichever it is, and finds its moved
  // client by address.
  if (ok) {
    absl::Status check = absl::OkStatus();
    const int peer = ::accept4(conns->listener.get(), nullptr, nullptr,
                               SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (peer < 0) {
      check = absl::ErrnoToStatus(errno, "accept a peer");
    } else {
      sockaddr_storage want = {};
      socklen_t len = sizeof(want);
      if (::getpeername(peer, reinterpret_cast<sockaddr*>(&want), &len) != 0) {
        check = absl::ErrnoToStatus(errno, "getpeername of the peer");
      } else {
        check = absl::NotFoundError("no moved connection has that peer");
        for (int fd : fds) {
          sockaddr_storage local = {};
          socklen_t l = sizeof(local);
          if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &l) == 0 &&
              l == len && memcmp(&local, &want, len) == 0) {
            check = CarriesAByte(BorrowedFd(fd), BorrowedFd(peer));
            break;
          }
        }
      }
      CloseSilently(OwnedFd(peer));
    }
    if (!check.ok()) {
      state.SkipWithError(
          absl::StrCat("moved connection: ", check.ToString()).c_str());
    }
  } else {
    state.SkipWithError("raw move failed");
  }
  for (int fd : fds) {
    if (fd >= 0) CloseSilently(OwnedFd(fd));
  }
  SetPerConnection(state, static_cast<double>(n), calls, cpu);
  state.counters["threads"] = static_cast<double>(threads);
}

}  // namespace

void RegisterKernelIdleBenchmarks(const Config& config) {
  benchmark::RegisterBenchmark("KernelIdleCheckpoint", BM_KernelIdleCheckpoint)
      ->UseManualTime();
  benchmark::RegisterBenchmark("KernelIdleCheckpointChecked",
                               BM_KernelIdleCheckpointChecked)
      ->ArgName("kept")
      ->Arg(0)
      ->Arg(1)
      ->UseManualTime();
  benchmark::RegisterBenchmark("KernelIdleRestore", BM_KernelIdleRestore)
      ->UseManualTime();
  benchmark::RegisterBenchmark("KernelIdleMigrate", BM_KernelIdleMigrate)
      ->UseManualTime();
  auto* batch =
      benchmark::RegisterBenchmark("KernelBatchMigrate", BM_KernelBatchMigrate)
          ->ArgNames({"conns", "threads"})
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
  for (int64_t n : config.batch_connections) {
    for (int64_t t : config.batch_threads) batch->Args({n, t});
  }
}

}  // namespace soccr::bench
