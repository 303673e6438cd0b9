// Queue throughput as a caller sees it: a new connection for every
// repetition, its queue filled the way a peer fills it (the peer writes
// into the receive queue; the application writes into the send queue of a
// connection whose peer drops every packet), wall-clock time as the figure
// (manual time, CLOCK_MONOTONIC), and the thread's CPU time beside it
// (counter cpu_bytes_per_second). Building and filling the connection is
// never timed; nor is releasing what the timed part returned.
//
// Cold<Checkpoint|Restore><Recv|Send>: the C++ API.
//   Checkpoint: PausedSocket::Pause + Checkpoint (socket options included,
//   as by default), into fresh memory.
//   Restore: Restore of that checkpoint's state (the original closed in
//   repair mode); for the send queue, Resume() too, which is where the part
//   the original had not sent yet goes in (the peer lets packets through
//   again first, so the in-flight probe gets its answer).
// CCold<...>: the same through the libsoccr C API: libsoccr_pause,
//   libsoccr_save and libsoccr_get_queue_bytes (both queues, SOCCR_MEM_EXCL)
//   and the two addresses; and socket, libsoccr_pause, set_queue_bytes,
//   set_addr, libsoccr_restore (and libsoccr_resume for the send queue).
//   CColdRestore<Recv|Send> pass flags 0 to set_queue_bytes: the caller
//   keeps its buffers (freed untimed), which are promised only until
//   libsoccr_restore returns, so that call copies the part it queues at
//   resume (the unsent part of the send queue).
// CColdRestore<Recv|Send>Excl: the same restore as CRIU makes it, both
//   queue buffers handed over with SOCCR_MEM_EXCL: no copy, and the
//   library frees them inside the timed part (the receive queue's in
//   libsoccr_restore, the send queue's in libsoccr_resume).
// ColdPlainSend: the kernel's own send path, the reference for the
//   send-queue refill: a fresh connected pair whose peer receives normally
//   (and reads nothing), and the application writing the same bytes with
//   nonblocking send() calls until all are accepted (poll for room on
//   EAGAIN), which over loopback delivers them into the peer's receive
//   queue inside those calls. It is the path the unsent part of a restored
//   send queue takes in Resume(); the peer's receive queue is checked to
//   hold all of them afterwards (untimed).
// FirstCheckpoint<Recv|Send>/CFirstCheckpoint<...>: the checkpoint as the
//   first call of a fresh process: the benchmark fork()s and exec()s itself
//   with --first-checkpoint, the child checkpoints the inherited connection
//   once and reports the time it took (from its own clocks). To be compared
//   with Cold* (the steady state of one process).
// FirstTouch: the part of that the kernel must do whatever the library
//   does: a fresh process (--first-touch) takes the memory for N queue
//   bytes as a checkpoint does (QueueBytes::Allocate, populated or huge
//   pages as its size asks) and writes every 4 KiB page of it, as
//   FreshBuffer does in a long-lived process. FirstCheckpoint's excess over
//   Cold* minus this is what the library could still win.

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "bench/cold.h"
#include "bench/fixtures.h"
#include "bench/registry.h"
#include "benchmark/benchmark.h"
#include "soccr/checkpoint.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/paused_socket.h"
#include "soccr/queue_bytes.h"
#include "soccr/restore.h"
#include "soccr/status_macros.h"
#include "soccr_c/soccr.h"

namespace soccr::bench {

void ColdTimer::Start() {
  faults_start_ = ThreadMinorFaults();
  wall_start_ = WallSeconds();
  cpu_start_ = ThreadCpuSeconds();
}

void ColdTimer::Stop(benchmark::State& state) {
  const double wall = WallSeconds() - wall_start_;
  cpu_ += ThreadCpuSeconds() - cpu_start_;
  faults_ += ThreadMinorFaults() - faults_start_;
  wall_ += wall;
  state.SetIterationTime(wall);
}

void ColdTimer::Add(benchmark::State& state, double wall, double cpu,
                    double faults) {
  wall_ += wall;
  cpu_ += cpu;
  faults_ += faults;
  state.SetIterationTime(wall);
}

void ColdTimer::Report(benchmark::State& state, size_t bytes) const {
  const double total =
      static_cast<double>(state.iterations()) * static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(total));
  if (cpu_ > 0) state.counters["cpu_bytes_per_second"] = total / cpu_;
  if (state.iterations() > 0) {
    state.counters["minor_faults"] =
        faults_ / static_cast<double>(state.iterations());
  }
}

absl::StatusOr<SilentPair> PeerFilledPair(Queue queue, size_t bytes) {
  SOCCR_RETURN_IF_ERROR(UseLargeBufferNamespace());
  absl::StatusOr<loopback::TcpPair> p =
      queue == Queue::kRecv ? PairWithRecvQueue(PatternBytes(bytes))
                            : PairWithSendQueue(PatternBytes(bytes));
  if (!p.ok()) return p.status();
  return SilentPair(*std::move(p));
}

CCheckpoint::~CCheckpoint() {
  free(inq);
  free(outq);
  free(self);
  free(peer);
}

absl::Status CCheckpoint::Take(int fd, bool release) {
  libsoccr_sk* h = libsoccr_pause(fd);
  if (h == nullptr) return absl::InternalError("libsoccr_pause failed");
  const int n = libsoccr_save(h, &data, sizeof(data));
  if (n < 0) {
    libsoccr_resume(h);
    return absl::InternalError("libsoccr_save failed");
  }
  inq = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL);
  outq = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, SOCCR_MEM_EXCL);
  self = libsoccr_get_addr(h, 1, SOCCR_MEM_EXCL);
  peer = libsoccr_get_addr(h, 0, SOCCR_MEM_EXCL);
  if (release) {
    libsoccr_release(h);
  } else {
    libsoccr_resume(h);
  }
  if (inq == nullptr || outq == nullptr || self == nullptr || peer == nullptr) {
    return absl::InternalError("libsoccr_get_* failed");
  }
  return absl::OkStatus();
}

namespace {

// libsoccr_set_queue_bytes of `*bytes`; with SOCCR_MEM_EXCL, `*bytes` is
// the library's once that succeeds and the caller's pointer is cleared.
bool SetQueue(libsoccr_sk* h, int queue_id, char** bytes, unsigned flags) {
  if (libsoccr_set_queue_bytes(h, queue_id, *bytes, flags) != 0) return false;
  if ((flags & SOCCR_MEM_EXCL) != 0) *bytes = nullptr;
  return true;
}

}  // namespace

absl::StatusOr<CRestored> CRestore(CCheckpoint& c, unsigned queue_flags) {
  const int sk = ::socket(c.self->sa.sa_family, SOCK_STREAM, IPPROTO_TCP);
  if (sk < 0) return absl::ErrnoToStatus(errno, "socket");
  libsoccr_sk* h = libsoccr_pause(sk);
  if (h == nullptr) {
    ::close(sk);
    return absl::InternalError("libsoccr_pause of the new socket failed");
  }
  libsoccr_sk_data data = c.data;
  // On a failure libsoccr_release frees what was handed over already.
  if (!SetQueue(h, TCP_RECV_QUEUE, &c.inq, queue_flags) ||
      !SetQueue(h, TCP_SEND_QUEUE, &c.outq, queue_flags) ||
      libsoccr_set_addr(h, 1, c.self, 0) != 0 ||
      libsoccr_set_addr(h, 0, c.peer, 0) != 0 ||
      libsoccr_restore(h, &data, sizeof(data)) != 0) {
    libsoccr_release(h);
    ::close(sk);
    return absl::InternalError("libsoccr restore failed (see the log)");
  }
  return CRestored{h, sk};
}

namespace {

const char* QueueName(Queue q) { return q == Queue::kRecv ? "Recv" : "Send"; }

size_t QueuedBytes(const ConnectionState& s) {
  return s.recv_queue.size() + s.send_queue.size();
}

void BM_ColdCheckpoint(benchmark::State& state, Queue queue) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  SharedPairCache().Clear();
  ColdTimer timer;
  for (auto _ : state) {
    absl::StatusOr<SilentPair> pair = PeerFilledPair(queue, bytes);
    if (!pair.ok()) {
      state.SkipWithError(pair.status().ToString().c_str());
      break;
    }
    timer.Start();
    absl::StatusOr<PausedSocket> paused =
        PausedSocket::Pause(pair->client.borrow());
    absl::StatusOr<ConnectionState> s =
        paused.ok() ? Checkpoint(*paused)
                    : absl::StatusOr<ConnectionState>(paused.status());
    timer.Stop(state);
    if (!s.ok()) {
      state.SkipWithError(s.status().ToString().c_str());
      break;
    }
    if (QueuedBytes(*s) != bytes) {
      state.SkipWithError("the checkpoint found another number of bytes");
      break;
    }
  }
  timer.Report(state, bytes);
}

void BM_CColdCheckpoint(benchmark::State& state, Queue queue) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  SharedPairCache().Clear();
  ColdTimer timer;
  for (auto _ : state) {
    absl::StatusOr<SilentPair> pair = PeerFilledPair(queue, bytes);
    if (!pair.ok()) {
      state.SkipWithError(pair.status().ToString().c_str());
      break;
    }
    CCheckpoint c;
    timer.Start();
    libsoccr_sk* h = libsoccr_pause(pair->client.get());
    const int n = h == nullptr ? -1 : libsoccr_save(h, &c.data, sizeof(c.data));
    if (n >= 0) {
      c.inq = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL);
      c.outq = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, SOCCR_MEM_EXCL);
      c.self = libsoccr_get_addr(h, 1, SOCCR_MEM_EXCL);
      c.peer = libsoccr_get_addr(h, 0, SOCCR_MEM_EXCL);
    }
    timer.Stop(state);
    if (h != nullptr) libsoccr_resume(h);
    if (n < 0 || c.inq == nullptr || c.outq == nullptr || c.self == nullptr ||
        c.peer == nullptr) {
      state.SkipWithError("libsoccr checkpoint failed");
      break;
    }
    if (c.data.inq_len + c.data.outq_len != bytes) {
      state.SkipWithError("the checkpoint found another number of bytes");
      break;
    }
  }
  timer.Report(state, bytes);
}

void BM_ColdRestore(benchmark::State& state, Queue queue) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  SharedPairCache().Clear();
  ColdTimer timer;
  double unsent = 0;
  for (auto _ : state) {
    absl::StatusOr<SilentPair> pair = PeerFilledPair(queue, bytes);
    if (!pair.ok()) {
      state.SkipWithError(pair.status().ToString().c_str());
      break;
    }
    absl::StatusOr<ConnectionState> s;
    {
      absl::StatusOr<PausedSocket> paused =
          PausedSocket::Pause(pair->client.borrow());
      if (!paused.ok()) {
        state.SkipWithError(paused.status().ToString().c_str());
        break;
      }
      s = Checkpoint(*paused);
      std::move(*paused).LeaveInRepairMode();
      pair->client.reset();  // Silently: its address is free again.
    }
    if (!s.ok() || QueuedBytes(*s) != bytes) {
      state.SkipWithError("the checkpoint failed or found another size");
      break;
    }
    unsent += s->unsent_len;
    if (queue == Queue::kSend) {
      // The restored socket's peer answers again (see the file comment).
      if (absl::Status st = loopback::AcceptIncoming(pair->server.borrow());
          !st.ok()) {
        state.SkipWithError(st.ToString().c_str());
        break;
      }
    }
    timer.Start();
    absl::StatusOr<RestoredSocket> r = Restore(*s);
    absl::StatusOr<OwnedFd> live;
    if (r.ok() && queue == Queue::kSend) live = std::move(*r).Resume();
    timer.Stop(state);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    if (queue == Queue::kSend) {
      if (!live.ok()) {
        state.SkipWithError(live.status().ToString().c_str());
        break;
      }
      CloseSilently(*std::move(live));
    }
  }
  timer.Report(state, bytes);
  if (state.iterations() > 0) {
    state.counters["unsent_bytes"] =
        unsent / static_cast<double>(state.iterations());
  }
}

// `queue_flags`: what CRestore passes to libsoccr_set_queue_bytes.
void BM_CColdRestore(benchmark::State& state, Queue queue,
                     unsigned queue_flags) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  SharedPairCache().Clear();
  ColdTimer timer;
  double unsent = 0;
  for (auto _ : state) {
    absl::StatusOr<SilentPair> pair = PeerFilledPair(queue, bytes);
    if (!pair.ok()) {
      state.SkipWithError(pair.status().ToString().c_str());
      break;
    }
    CCheckpoint c;
    if (absl::Status st = c.Take(pair->client.get(), /*release=*/true);
        !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
    pair->client.reset();  // In repair mode: nothing reaches the peer.
    if (c.data.inq_len + c.data.outq_len != bytes) {
      state.SkipWithError("the checkpoint found another number of bytes");
      break;
    }
    unsent += c.data.unsq_len;
    if (queue == Queue::kSend) {
      if (absl::Status st = loopback::AcceptIncoming(pair->server.borrow());
          !st.ok()) {
        state.SkipWithError(st.ToString().c_str());
        break;
      }
    }
    timer.Start();
    absl::StatusOr<CRestored> r = CRestore(c, queue_flags);
    if (r.ok() && queue == Queue::kSend) libsoccr_resume(r->handle);
    timer.Stop(state);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    if (queue == Queue::kRecv) libsoccr_release(r->handle);
    CloseSilently(OwnedFd(r->fd));
  }
  timer.Report(state, bytes);
  if (state.iterations() > 0) {
    state.counters["unsent_bytes"] =
        unsent / static_cast<double>(state.iterations());
  }
}

void BM_ColdPlainSend(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  SharedPairCache().Clear();
  const absl::string_view data = PatternBytes(bytes);  // Made before timing.
  ColdTimer timer;
  for (auto _ : state) {
    if (absl::Status st = UseLargeBufferNamespace(); !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
    absl::StatusOr<loopback::TcpPair> p =
        loopback::ConnectedPair(loopback::Family::kV4);
    if (!p.ok()) {
      state.SkipWithError(p.status().ToString().c_str());
      break;
    }
    SilentPair pair(*std::move(p));
    timer.Start();
    const absl::Status sent = loopback::WriteAll(pair.client.borrow(), data);
    timer.Stop(state);
    if (!sent.ok()) {
      state.SkipWithError(sent.ToString().c_str());
      break;
    }
    // All of it reached the peer (whatever is still on its way by now).
    if (absl::Status st = loopback::WaitInq(pair.server.borrow(), bytes);
        !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
    if (loopback::InqLen(pair.server.borrow()) != static_cast<int>(bytes)) {
      state.SkipWithError(absl::StrCat("the peer's receive queue holds ",
                                       loopback::InqLen(pair.server.borrow()),
                                       " bytes, not ", bytes)
                              .c_str());
      break;
    }
  }
  timer.Report(state, bytes);
}

// Runs this binary again as a fresh process with `flag`, `arg` (and `api`,
// unless null) and the pipe to answer on, keeping `fd` (if not -1) open
// across the exec; returns the child's wall-clock and CPU seconds and minor
// faults (RunFirstCheckpoint, RunFirstTouch below).
absl::Status TimeInChild(const char* flag, const std::string& arg,
                         const char* api, int fd, double* wall, double* cpu,
                         double* faults) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0)
    return absl::ErrnoToStatus(errno, "pipe");
  OwnedFd rd(pipefd[0]);
  OwnedFd wr(pipefd[1]);
  const std::string out_arg = absl::StrCat(wr.get());
  const char* args[] = {"soccr_bench", flag,    arg.c_str(),
                        api,           nullptr, nullptr};
  args[api == nullptr ? 3 : 4] = out_arg.c_str();
  const pid_t pid = ::fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    if (fd >= 0) ::fcntl(fd, F_SETFD, 0);
    ::fcntl(pipefd[1], F_SETFD, 0);
    ::execv("/proc/self/exe", const_cast<char* const*>(args));
    ::_exit(127);
  }
  wr.reset();
  std::string answer;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(rd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(
        "the ", flag, " child failed (status ", status, "): ", answer));
  }
  std::vector<std::string> parts = absl::StrSplit(answer, ' ');
  if (parts.size() != 3 || !absl::SimpleAtod(parts[0], wall) ||
      !absl::SimpleAtod(parts[1], cpu) || !absl::SimpleAtod(parts[2], faults)) {
    return absl::InternalError(absl::StrCat("child said: ", answer));
  }
  return absl::OkStatus();
}

void BM_FirstCheckpoint(benchmark::State& state, Queue queue, bool c_api) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  SharedPairCache().Clear();
  ColdTimer timer;
  for (auto _ : state) {
    absl::StatusOr<SilentPair> pair = PeerFilledPair(queue, bytes);
    if (!pair.ok()) {
      state.SkipWithError(pair.status().ToString().c_str());
      break;
    }
    double wall = 0;
    double cpu = 0;
    double faults = 0;
    const int fd = pair->client.get();
    if (absl::Status st =
            TimeInChild("--first-checkpoint", absl::StrCat(fd),
                        c_api ? "c" : "cc", fd, &wall, &cpu, &faults);
        !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
    timer.Add(state, wall, cpu, faults);
  }
  timer.Report(state, bytes);
}

void BM_FirstTouch(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  ColdTimer timer;
  for (auto _ : state) {
    double wall = 0;
    double cpu = 0;
    double faults = 0;
    if (absl::Status st = TimeInChild("--first-touch", absl::StrCat(bytes),
                                      nullptr, -1, &wall, &cpu, &faults);
        !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
    timer.Add(state, wall, cpu, faults);
  }
  timer.Report(state, bytes);
}

}  // namespace

int RunFirstTouch(int argc, char** argv) {
  size_t bytes = 0;
  int out = -1;
  if (argc != 4 || !absl::SimpleAtoi(argv[2], &bytes) || bytes == 0 ||
      !absl::SimpleAtoi(argv[3], &out)) {
    fprintf(stderr, "usage: soccr_bench --first-touch BYTES OUT_FD\n");
    return 2;
  }
  const double faults_start = ThreadMinorFaults();
  const double wall_start = WallSeconds();
  const double cpu_start = ThreadCpuSeconds();
  uint8_t* p = nullptr;
  // One byte more, as a checkpoint's peek asks for (to see the queue end).
  QueueBytes q = QueueBytes::Allocate(bytes + 1, &p);
  for (size_t off = 0; off < bytes; off += 4096) p[off] = 1;
  benchmark::DoNotOptimize(p);
  benchmark::ClobberMemory();
  const double wall = WallSeconds() - wall_start;
  const double cpu = ThreadCpuSeconds() - cpu_start;
  const double faults = ThreadMinorFaults() - faults_start;
  const std::string answer = absl::StrCat(wall, " ", cpu, " ", faults);
  return ::write(out, answer.data(), answer.size()) ==
                 static_cast<ssize_t>(answer.size())
             ? 0
             : 1;
}

int RunFirstCheckpoint(int argc, char** argv) {
  int fd = -1;
  int out = -1;
  if (argc != 5 || !absl::SimpleAtoi(argv[2], &fd) ||
      !absl::SimpleAtoi(argv[4], &out)) {
    fprintf(stderr, "usage: soccr_bench --first-checkpoint FD c|cc OUT_FD\n");
    return 2;
  }
  const bool c_api = strcmp(argv[3], "c") == 0;
  std::string answer;
  size_t got = 0;
  const double faults_start = ThreadMinorFaults();
  const double wall_start = WallSeconds();
  const double cpu_start = ThreadCpuSeconds();
  if (c_api) {
    CCheckpoint c;
    libsoccr_sk* h = libsoccr_pause(fd);
    const int n = h == nullptr ? -1 : libsoccr_save(h, &c.data, sizeof(c.data));
    if (n >= 0) {
      c.inq = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL);
      c.outq = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, SOCCR_MEM_EXCL);
      c.self = libsoccr_get_addr(h, 1, SOCCR_MEM_EXCL);
      c.peer = libsoccr_get_addr(h, 0, SOCCR_MEM_EXCL);
    }
    const double wall = WallSeconds() - wall_start;
    const double cpu = ThreadCpuSeconds() - cpu_start;
    const double faults = ThreadMinorFaults() - faults_start;
    if (h != nullptr) libsoccr_resume(h);
    if (n < 0 || c.inq == nullptr || c.outq == nullptr) {
      answer = "libsoccr checkpoint failed";
    } else {
      got = c.data.inq_len + c.data.outq_len;
      answer = absl::StrCat(wall, " ", cpu, " ", faults);
    }
  } else {
    absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(BorrowedFd(fd));
    absl::StatusOr<ConnectionState> s =
        paused.ok() ? Checkpoint(*paused)
                    : absl::StatusOr<ConnectionState>(paused.status());
    const double wall = WallSeconds() - wall_start;
    const double cpu = ThreadCpuSeconds() - cpu_start;
    const double faults = ThreadMinorFaults() - faults_start;
    if (!s.ok()) {
      answer = s.status().ToString();
    } else {
      got = QueuedBytes(*s);
      answer = absl::StrCat(wall, " ", cpu, " ", faults);
    }
  }
  const bool ok = got > 0;
  if (::write(out, answer.data(), answer.size()) !=
      static_cast<ssize_t>(answer.size())) {
    return 1;
  }
  return ok ? 0 : 1;
}

void RegisterColdBenchmarks(const Config& config) {
  for (Queue q : {Queue::kRecv, Queue::kSend}) {
    for (int64_t n : config.cold_queue_bytes) {
      benchmark::RegisterBenchmark(
          absl::StrCat("ColdCheckpoint", QueueName(q)).c_str(),
          BM_ColdCheckpoint, q)
          ->Arg(n)
          ->UseManualTime();
      benchmark::RegisterBenchmark(
          absl::StrCat("CColdCheckpoint", QueueName(q)).c_str(),
          BM_CColdCheckpoint, q)
          ->Arg(n)
          ->UseManualTime();
      benchmark::RegisterBenchmark(
          absl::StrCat("ColdRestore", QueueName(q)).c_str(), BM_ColdRestore, q)
          ->Arg(n)
          ->UseManualTime();
      for (unsigned flags : {0u, unsigned{SOCCR_MEM_EXCL}}) {
        benchmark::RegisterBenchmark(
            absl::StrCat("CColdRestore", QueueName(q), flags == 0 ? "" : "Excl")
                .c_str(),
            BM_CColdRestore, q, flags)
            ->Arg(n)
            ->UseManualTime();
      }
    }
    for (int64_t n : config.first_call_bytes) {
      for (bool c_api : {false, true}) {
        benchmark::RegisterBenchmark(
            absl::StrCat(c_api ? "CFirstCheckpoint" : "FirstCheckpoint",
                         QueueName(q))
                .c_str(),
            BM_FirstCheckpoint, q, c_api)
            ->Arg(n)
            ->UseManualTime()
            ->Iterations(config.first_call_iterations);
      }
    }
  }
  for (int64_t n : config.cold_queue_bytes) {
    benchmark::RegisterBenchmark("ColdPlainSend", BM_ColdPlainSend)
        ->Arg(n)
        ->UseManualTime();
  }
  for (int64_t n : config.first_call_bytes) {
    benchmark::RegisterBenchmark("FirstTouch", BM_FirstTouch)
        ->Arg(n)
        ->UseManualTime()
        ->Iterations(config.first_call_iterations);
  }
}

}  // namespace soccr::bench
