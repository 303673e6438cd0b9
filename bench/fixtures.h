// bench/fixtures.h: connections in known states for the benchmarks.
//
//   absl::StatusOr<soccr::loopback::TcpPair> p =
//       soccr::bench::PairWithRecvQueue(soccr::bench::PatternBytes(1 << 20));
//   // p->client's receive queue now holds exactly those bytes, unread.
//
// Everything here runs inside the benchmark's private network namespace
// (bench_main.cc enters it before any benchmark runs).

#ifndef SOCCR_BENCH_FIXTURES_H_
#define SOCCR_BENCH_FIXTURES_H_

#include <stddef.h>

#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/queue_bytes.h"

namespace soccr::bench {

// Socket buffers every benchmark socket starts with (tcp_rmem[1] and
// tcp_wmem[1] in the benchmark's namespace): room for the largest queue.
inline constexpr int64_t kSocketBufferBytes = int64_t{768} << 20;
// The largest queue the benchmarks build.
inline constexpr size_t kMaxQueueBytes = size_t{256} << 20;

// Makes the benchmark's two private network namespaces (in a private user
// namespace: the calling process must still be single-threaded), raises
// the open-file limit to its hard limit, and leaves the calling thread in
// the large-buffer one:
// - large buffers: tcp_rmem/tcp_wmem start sockets at kSocketBufferBytes,
//   so one queue can hold kMaxQueueBytes (the queue benchmarks);
// - default: the kernel's default TCP sysctls, as an ordinary host has
//   (the idle-connection benchmarks, whose syscall counts depend on them);
// - in-flight: large buffers and no cached RTTs (UseInFlightNamespace);
// (and the restore target, see below) all with a backlog (somaxconn) for
// 10,000 connections.
[[nodiscard]] absl::Status EnterBenchmarkNamespace();

// Moves the calling thread into one of the namespaces (setns). Threads it
// starts afterwards inherit it. The restore target is a second
// large-buffer namespace: a connection checkpointed in the first can be
// restored there while its original still exists (as on another host).
[[nodiscard]] absl::Status UseLargeBufferNamespace();
[[nodiscard]] absl::Status UseDefaultNamespace();
[[nodiscard]] absl::Status UseRestoreTargetNamespace();
// Large buffers, and net.ipv4.tcp_no_metrics_save=1: no RTT is cached
// from one connection to the next, so a restore there starts as on a host
// that never talked to the peer (ResumeInFlight).
[[nodiscard]] absl::Status UseInFlightNamespace();

enum class Queue { kRecv, kSend };

// Filling a queue of 256 MiB over loopback takes a while, and Google
// Benchmark calls a benchmark function several times: the last pair made
// (in the large-buffer namespace) is kept for the next call that wants the
// same queue. Get() leaves the calling thread in that namespace.
class PairCache {
 public:
  absl::StatusOr<const loopback::TcpPair*> Get(Queue queue, size_t bytes);
  void Clear();

 private:
  std::optional<loopback::TcpPair> pair_;
  Queue queue_ = Queue::kRecv;
  size_t bytes_ = 0;
};
PairCache& SharedPairCache();

// The first `n` bytes of one fixed pseudo-random pattern (made once, up to
// kMaxQueueBytes).
absl::string_view PatternBytes(size_t n);

// A loopback pair whose client's receive queue holds exactly `data`, sent by
// the server and not read; both send queues are empty.
[[nodiscard]] absl::StatusOr<loopback::TcpPair> PairWithRecvQueue(
    absl::string_view data);

// A loopback pair whose client's send queue holds exactly `data`, never to
// be acknowledged (the server drops every packet); the client's receive
// queue is empty.
[[nodiscard]] absl::StatusOr<loopback::TcpPair> PairWithSendQueue(
    absl::string_view data);

// `n` idle connections to one listener that never accepts them: the server
// ends live in the listener's accept queue, so only the clients and the
// listener take descriptors (the open-file limit stays out of the way).
struct IdleConnections {
  OwnedFd listener;
  std::vector<OwnedFd> clients;
};
[[nodiscard]] absl::StatusOr<IdleConnections> MakeIdleConnections(size_t n);

// The state of one idle connection whose original socket is closed already
// (silently, in repair mode): Restore() recreates it as often as asked, as
// long as each copy is closed before the next. `peer` keeps the server end.
struct RestorableConnection {
  ConnectionState state;
  OwnedFd peer;
};
[[nodiscard]] absl::StatusOr<RestorableConnection> MakeRestorableConnection();

// `base` with its receive queue replaced by `data` (sequence numbers moved
// so the state stays consistent).
ConnectionState WithRecvQueue(const ConnectionState& base,
                              absl::string_view data);
// `base` with its send queue replaced by `data`, all of it sent and
// unacknowledged, so that Restore() writes it in repair mode.
ConnectionState WithSentQueue(const ConnectionState& base,
                              absl::string_view data);

// CPU time of the calling thread, and of all the process's threads,
// kernel time included.
double ThreadCpuSeconds();
// Minor page faults of the calling thread so far (getrusage RUSAGE_THREAD):
// pages the kernel allocated (and zeroed) on first touch.
double ThreadMinorFaults();
double ProcessCpuSeconds();
// Wall-clock time (CLOCK_MONOTONIC), for the cold benchmarks' headline.
double WallSeconds();

// While it lives, QueueBytes::Allocate keeps no released memory for reuse
// (QueueBytes::SetReuseLimit(0)): for the benchmarks that measure what new
// pages cost (FreshBuffer, PeekFreshRecv).
class NoQueueMemoryReuse {
 public:
  NoQueueMemoryReuse() : old_(QueueBytes::SetReuseLimit(0)) {}
  NoQueueMemoryReuse(const NoQueueMemoryReuse&) = delete;
  NoQueueMemoryReuse& operator=(const NoQueueMemoryReuse&) = delete;
  ~NoQueueMemoryReuse() { QueueBytes::SetReuseLimit(old_); }

 private:
  size_t old_;
};

// Puts a live socket back into repair mode and closes it: nothing reaches
// its peer, and its address is free for the next restore.
void CloseSilently(OwnedFd fd);

// Both ends of `pair`, so. A benchmark's pair is never closed the ordinary
// way: an end with megabytes in its send queue and a peer that drops
// everything (PairWithSendQueue) would linger as an orphan for minutes,
// retransmitting, and hundreds of those hold so much of the kernel's TCP
// memory (net.ipv4.tcp_mem, shared by the whole machine) that new sockets'
// buffers stop growing.
void CloseSilently(loopback::TcpPair& pair);

// One byte each way between a moved connection `fd` and its `peer`, within
// 10 s: the benchmarks' check (untimed) that a move was real.
[[nodiscard]] absl::Status CarriesAByte(BorrowedFd fd, BorrowedFd peer);

// A pair that closes silently (above) when it goes.
struct SilentPair : loopback::TcpPair {
  explicit SilentPair(loopback::TcpPair p) : loopback::TcpPair(std::move(p)) {}
  SilentPair(SilentPair&&) = default;
  SilentPair& operator=(SilentPair&&) = delete;
  ~SilentPair() { CloseSilently(*this); }
};

}  // namespace soccr::bench

#endif  // SOCCR_BENCH_FIXTURES_H_
