// Throughput of moving queue bytes: checkpoint (drain) and restore (refill)
// of each queue separately, against a memcpy between warm buffers of the
// same size in the same run.
//
// CheckpointReused* checkpoints into a CheckpointBuffer reused across
// checkpoints. Besides the public API (Checkpoint*, Restore*), two
// benchmarks take the drain apart: PeekWarm* is the kernel's copy alone,
// into a buffer reused and so already faulted in (what a checkpoint into a
// reusable buffer can reach), FreshBuffer is what a fresh buffer for the
// bytes costs (QueueBytes::Allocate plus its release), and PeekFreshRecv
// the copy into fresh memory. RefillRecv is the restore's receive-queue
// writes alone.

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/fixtures.h"
#include "bench/registry.h"
#include "benchmark/benchmark.h"
#include "soccr/checkpoint.h"
#include "soccr/checkpoint_buffer.h"
#include "soccr/paused_socket.h"
#include "soccr/queue_bytes.h"
#include "soccr/restore.h"
#include "soccr/status_macros.h"
#include "soccr/sys/counting_sys.h"
#include "soccr/sys/sys.h"

namespace soccr::bench {
namespace {

const char* QueueName(Queue q) { return q == Queue::kRecv ? "Recv" : "Send"; }

PairCache& Cache() { return SharedPairCache(); }

void SetBytes(benchmark::State& state, size_t bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(bytes));
}

// Both buffers come from QueueBytes::Allocate, as a checkpoint's queue
// buffers do (the heap below 1 MiB, page-aligned mmap from 1 MiB), so the
// reference copies with their alignment. (A destination 1-31 bytes past
// its source modulo 4096 -- 4K aliasing -- copies at a tenth of the speed
// on this machine; the counter dst_minus_src_mod_4096 shows the offset.)
void BM_Memcpy(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  uint8_t* src = nullptr;
  uint8_t* dst = nullptr;
  QueueBytes src_bytes = QueueBytes::Allocate(bytes, &src);
  QueueBytes dst_bytes = QueueBytes::Allocate(bytes, &dst);
  memset(src, 1, bytes);  // Both faulted in and warm.
  memset(dst, 2, bytes);
  state.counters["dst_minus_src_mod_4096"] = static_cast<double>(
      (reinterpret_cast<uintptr_t>(dst) - reinterpret_cast<uintptr_t>(src)) %
      4096);
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    memcpy(dst, src, bytes);
    benchmark::DoNotOptimize(dst);
    benchmark::ClobberMemory();
  }
  const double cpu = ThreadCpuSeconds() - cpu_start;
  SetBytes(state, bytes);
  // Wall-clock is the figure (UseRealTime), as for the cold benchmarks; CPU
  // time beside it, the reference for the CPU-time figures.
  if (cpu > 0) {
    state.counters["cpu_bytes_per_second"] =
        static_cast<double>(state.iterations()) * static_cast<double>(bytes) /
        cpu;
  }
}

// Checkpoint() of a connection with `bytes` in one queue and nothing in the
// other, as a caller would run it (socket options included).
void BM_Checkpoint(benchmark::State& state, Queue queue) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  absl::StatusOr<const loopback::TcpPair*> pair = Cache().Get(queue, bytes);
  if (!pair.ok()) return state.SkipWithError(pair.status().ToString().c_str());
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause((*pair)->client.borrow());
  if (!paused.ok()) {
    return state.SkipWithError(paused.status().ToString().c_str());
  }
  {
    absl::StatusOr<ConnectionState> first = Checkpoint(*paused);
    if (!first.ok()) {
      return state.SkipWithError(first.status().ToString().c_str());
    }
    const size_t got = queue == Queue::kRecv ? first->recv_queue.size()
                                             : first->send_queue.size();
    if (got != bytes ||
        first->recv_queue.size() + first->send_queue.size() != bytes) {
      return state.SkipWithError(
          absl::StrCat("checkpoint found ", first->recv_queue.size(), "+",
                       first->send_queue.size(), " bytes, not ", bytes)
              .c_str());
    }
  }
  for (auto _ : state) {
    absl::StatusOr<ConnectionState> s = Checkpoint(*paused);
    if (!s.ok()) {
      state.SkipWithError(s.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(s->recv_queue.data());
    benchmark::DoNotOptimize(s->send_queue.data());
  }
  SetBytes(state, bytes);
}

// Checkpoint() into a CheckpointBuffer reused from one checkpoint to the
// next (CheckpointOptions::buffer): the public API's way to the PeekWarm
// figures. Each iteration's state is dropped before the next, so the buffer
// reuses its memory.
void BM_CheckpointReused(benchmark::State& state, Queue queue) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  absl::StatusOr<const loopback::TcpPair*> pair = Cache().Get(queue, bytes);
  if (!pair.ok()) return state.SkipWithError(pair.status().ToString().c_str());
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause((*pair)->client.borrow());
  if (!paused.ok()) {
    return state.SkipWithError(paused.status().ToString().c_str());
  }
  CheckpointBuffer buffer;
  CheckpointOptions options;
  options.buffer = &buffer;
  for (auto _ : state) {
    absl::StatusOr<ConnectionState> s = Checkpoint(*paused, options);
    if (!s.ok()) {
      state.SkipWithError(s.status().ToString().c_str());
      break;
    }
    if (s->recv_queue.size() + s->send_queue.size() != bytes) {
      state.SkipWithError("the checkpoint found another number of bytes");
      break;
    }
    benchmark::DoNotOptimize(s->recv_queue.data());
    benchmark::DoNotOptimize(s->send_queue.data());
  }
  SetBytes(state, bytes);
}

// The cached pair's client for `queue` and `bytes`, paused, with that
// queue selected (TCP_REPAIR_QUEUE) for peeking.
absl::StatusOr<PausedSocket> PausedWithQueue(Queue queue, size_t bytes) {
  absl::StatusOr<const loopback::TcpPair*> pair = Cache().Get(queue, bytes);
  if (!pair.ok()) return pair.status();
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause((*pair)->client.borrow());
  if (!paused.ok()) return paused.status();
  if (!sys::LinuxSys()
           .SetRepairQueue(paused->fd(), queue == Queue::kRecv
                                             ? sys::RepairQueue::kRecv
                                             : sys::RepairQueue::kSend)
           .ok()) {
    return absl::InternalError("setsockopt(TCP_REPAIR_QUEUE) failed");
  }
  return paused;
}

// The kernel's copy of one queue (recv with MSG_PEEK in repair mode):
// PeekWarm* into a buffer that is reused, so already faulted in;
// PeekFreshRecv into a new QueueBytes::Allocate buffer each time (as a
// checkpoint's; new pages, nothing kept for reuse), faulted in by the copy
// itself, and released: PeekWarm
// and FreshBuffer together as the kernel does them, without the rest of a
// checkpoint.
void BM_Peek(benchmark::State& state, Queue queue, bool fresh) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  absl::StatusOr<PausedSocket> paused = PausedWithQueue(queue, bytes);
  if (!paused.ok()) {
    return state.SkipWithError(paused.status().ToString().c_str());
  }
  const sys::Sys& sys = sys::LinuxSys();
  std::vector<uint8_t> warm(fresh ? 0 : bytes + 1, 0);
  std::optional<NoQueueMemoryReuse> new_pages;
  if (fresh) new_pages.emplace();
  for (auto _ : state) {
    uint8_t* buf = warm.data();
    QueueBytes q;
    if (fresh) q = QueueBytes::Allocate(bytes + 1, &buf);
    const sys::Result<size_t> r =
        sys.Peek(paused->fd(), absl::Span<uint8_t>(buf, bytes + 1));
    if (!r.ok() || r.value != bytes) {
      state.SkipWithError(
          absl::StrCat("peek returned ", r.value, " errno ", r.err).c_str());
      break;
    }
    benchmark::DoNotOptimize(buf);
  }
  SetBytes(state, bytes);
}

// A connection to restore, made in the namespace whose buffers take large
// queues, with the cache of paused pairs emptied first (a queue of 256 MiB
// held meanwhile skews the figures).
absl::StatusOr<RestorableConnection> RestorableInLargeBuffers() {
  Cache().Clear();
  SOCCR_RETURN_IF_ERROR(UseLargeBufferNamespace());
  return MakeRestorableConnection();
}

// The refill alone: the receive-queue writes a restore makes (send() in
// repair mode with the receive queue selected, at most 17 pages each), into
// a connection restored with empty queues just before (not timed, nor is
// closing it). CPU time of this thread, as RestoreRecv.
void BM_RefillRecv(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  absl::StatusOr<RestorableConnection> conn = RestorableInLargeBuffers();
  if (!conn.ok()) return state.SkipWithError(conn.status().ToString().c_str());
  const absl::string_view data = PatternBytes(bytes);
  const sys::Sys& sys = sys::LinuxSys();
  size_t writes = 0;
  for (auto _ : state) {
    absl::StatusOr<RestoredSocket> r = Restore(conn->state);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    OwnedFd fd = std::move(*r).ReleaseInRepairMode();
    const double start = ThreadCpuSeconds();
    sys::Result<void> sel =
        sys.SetRepairQueue(fd.borrow(), sys::RepairQueue::kRecv);
    size_t done = 0;
    writes = 0;
    while (sel.ok() && done < bytes) {
      const sys::Result<size_t> w = sys.Send(
          fd.borrow(), absl::Span<const uint8_t>(
                           reinterpret_cast<const uint8_t*>(data.data()) + done,
                           bytes - done));
      if (!w.ok() || w.value == 0) break;
      done += w.value;
      ++writes;
    }
    const double end = ThreadCpuSeconds();
    if (done != bytes) {
      state.SkipWithError(
          absl::StrCat("refill took ", done, " of ", bytes, " bytes").c_str());
      break;
    }
    state.SetIterationTime(end - start);
    // Closed in repair mode: nothing reaches the peer.
  }
  state.counters["writes"] = static_cast<double>(writes);
  SetBytes(state, bytes);
}

// The last 64 KiB of a receive queue of `bytes`, peeked at an offset
// (SO_PEEK_OFF): the copy is the same whatever the queue's length, so what
// grows with it is the kernel walking the queue from its head to find the
// skb to copy from. A full peek does that walk once per skb, which is why
// draining a receive queue gets slower than linear. Reports time only.
void BM_PeekRecvTail(benchmark::State& state) {
  constexpr size_t kTail = 64 << 10;
  const size_t bytes = static_cast<size_t>(state.range(0));
  if (bytes < kTail) return state.SkipWithError("queue smaller than the tail");
  absl::StatusOr<PausedSocket> paused = PausedWithQueue(Queue::kRecv, bytes);
  if (!paused.ok()) {
    return state.SkipWithError(paused.status().ToString().c_str());
  }
  const BorrowedFd fd = paused->fd();
  const sys::Sys& sys = sys::LinuxSys();
  const int offset = static_cast<int>(bytes - kTail);
  if (!sys.SetSockOptInt(fd, SOL_SOCKET, SO_PEEK_OFF, offset).ok()) {
    return state.SkipWithError("SO_PEEK_OFF is not supported for TCP here");
  }
  std::vector<uint8_t> buf(kTail, 0);
  for (auto _ : state) {
    // A peek with SO_PEEK_OFF set moves the offset on; put it back.
    const sys::Result<void> off =
        sys.SetSockOptInt(fd, SOL_SOCKET, SO_PEEK_OFF, offset);
    const sys::Result<size_t> r = sys.Peek(fd, absl::MakeSpan(buf));
    if (!off.ok() || !r.ok() || r.value != kTail) {
      state.SkipWithError(
          absl::StrCat("peek returned ", r.value, " errno ", r.err).c_str());
      break;
    }
    benchmark::DoNotOptimize(buf.data());
  }
  (void)sys.SetSockOptInt(fd, SOL_SOCKET, SO_PEEK_OFF, -1);
}

// What a fresh buffer for `bytes` costs: QueueBytes::Allocate (as a
// checkpoint makes one per queue), a write to each 4 KiB page (the page
// faults the kernel's copy would take where Allocate did not populate), and
// its release; new pages every time (nothing kept for reuse).
void BM_FreshBuffer(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  NoQueueMemoryReuse new_pages;
  for (auto _ : state) {
    uint8_t* out = nullptr;
    QueueBytes q = QueueBytes::Allocate(bytes + 1, &out);
    for (size_t off = 0; off < bytes; off += 4096) out[off] = 1;
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  SetBytes(state, bytes);
}

// Restore() of a connection whose only data is `bytes` in its receive
// queue. Timed (CPU time of this thread) from the call to its return;
// closing the restored socket is not. (No send-queue variant: since resumes
// hold the data in flight until Resume(), issue 12, a restore writes none
// of a send queue, so a hot loop of Restore() alone would time nothing of
// it; ColdRestoreSend times restore and resume together.)
void BM_Restore(benchmark::State& state, Queue queue) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  absl::StatusOr<RestorableConnection> conn = RestorableInLargeBuffers();
  if (!conn.ok()) return state.SkipWithError(conn.status().ToString().c_str());
  const ConnectionState s =
      queue == Queue::kRecv ? WithRecvQueue(conn->state, PatternBytes(bytes))
                            : WithSentQueue(conn->state, PatternBytes(bytes));
  // One untimed restore counts the kernel calls (the writes, above all: at
  // most 17 pages each into a receive queue).
  sys::CountingSys counting;
  {
    absl::StatusOr<RestoredSocket> r = Restore(s, counting);
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
  }
  state.counters["syscalls"] = static_cast<double>(counting.Total());
  state.counters["writes"] =
      static_cast<double>(counting.Count(sys::Op::kSend));
  for (auto _ : state) {
    const double start = ThreadCpuSeconds();
    absl::StatusOr<RestoredSocket> r = Restore(s);
    const double end = ThreadCpuSeconds();
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    state.SetIterationTime(end - start);
  }
  SetBytes(state, bytes);
}

}  // namespace

void RegisterQueueBenchmarks(const Config& config) {
  // Apply() takes a plain function pointer, so the sizes are added here.
  auto with_sizes = [&](benchmark::internal::Benchmark* b) {
    for (int64_t n : config.queue_bytes) b->Arg(n);
    return b;
  };
  // These hot loops' throughput is bytes over the benchmark thread's CPU
  // time, kernel time included (Google Benchmark's default;
  // ThreadCpuSeconds() for the manually timed restores), compared with
  // Memcpy's CPU-time figure (its counter cpu_bytes_per_second). None of
  // this work ever blocks, so on a quiet machine that equals wall-clock
  // time; on a shared one it leaves out the time other processes held the
  // CPU. Memcpy's own figure is wall-clock, the reference of the cold
  // benchmarks (cold_bench.cc).
  with_sizes(benchmark::RegisterBenchmark("Memcpy", BM_Memcpy))->UseRealTime();
  with_sizes(benchmark::RegisterBenchmark("FreshBuffer", BM_FreshBuffer));
  // Per queue and size, the benchmarks that share one filled connection run
  // one after the other, so it is built once (see PairCache).
  for (Queue q : {Queue::kRecv, Queue::kSend}) {
    for (int64_t n : config.queue_bytes) {
      benchmark::RegisterBenchmark(
          absl::StrCat("Checkpoint", QueueName(q)).c_str(), BM_Checkpoint, q)
          ->Arg(n);
      benchmark::RegisterBenchmark(
          absl::StrCat("CheckpointReused", QueueName(q)).c_str(),
          BM_CheckpointReused, q)
          ->Arg(n);
      benchmark::RegisterBenchmark(
          absl::StrCat("PeekWarm", QueueName(q)).c_str(), BM_Peek, q, false)
          ->Arg(n);
      if (q == Queue::kRecv) {
        benchmark::RegisterBenchmark("PeekFreshRecv", BM_Peek, Queue::kRecv,
                                     true)
            ->Arg(n);
        benchmark::RegisterBenchmark("PeekRecvTail", BM_PeekRecvTail)->Arg(n);
      }
    }
  }
  with_sizes(
      benchmark::RegisterBenchmark("RestoreRecv", BM_Restore, Queue::kRecv))
      ->UseManualTime();
  with_sizes(benchmark::RegisterBenchmark("RefillRecv", BM_RefillRecv))
      ->UseManualTime();
}

}  // namespace soccr::bench
