// The image path (soccr/image/image.h) for one connection with the bytes in
// its receive queue, against memcpy of the same bytes:
//
// ImageWrite: WriteImage of the state into a new in-memory file (memfd,
//   truncated before each write): the one copy, from the checkpoint's
//   buffers into the file's pages.
// ImageRead: mapping that file, ImageReader::Open and Read: the queue stays
//   in the mapping (no copy); what is left is the checksum over it and the
//   page faults of the new mapping.
// EndToEnd: Checkpoint (fresh memory) -> WriteImage -> map, Open, Read ->
//   Restore, the restore in another network namespace (as on another host;
//   the original connection still exists in the first). Restoring copies
//   the queue from the mapping into the new socket.
//
// An in-memory file keeps the disk out of the figures: what is measured is
// the CPU work of soccr and the kernel, at most one copy each way.
//
// ColdEndToEnd<Memfd|Ext4|Stream>: the pipeline as a caller runs it, with a
// new connection per repetition whose receive queue the peer filled, timed
// wall-clock (manual time; CPU time of the thread beside it) from the pause
// to the restored socket: Pause + Checkpoint -> the image -> Restore in the
// other namespace. The image goes into
// - Memfd: a new memfd, mapped and read in place;
// - Ext4: a new file in $SOCCR_BENCH_IMAGE_DIR (default /tmp; the label
//   says which file system it is on: ext4 on this machine), written,
//   mapped and read in place, no fsync (the page cache, as a checkpoint
//   followed by a restore on the same host sees it), unlinked untimed;
// - Stream: a pipe, written by a second thread (WriteImageToStream) while
//   this one reads it (ReadImageStream) and restores.
//
// SerializeIdle/conns:N/check:C: SerializeImage of N idle connections'
// states (checkpointed with their socket options, as a migration's are)
// into one image in memory, wall-clock (manual time) per connection, with
// the thread's CPU time beside it (cpu_s_per_conn): with the writer's
// PlanRestore of each state (check:1, the default) and without it
// (check:0, as soccr::Send writes each chunk; its destination plans).

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/cold.h"
#include "bench/fixtures.h"
#include "bench/registry.h"
#include "benchmark/benchmark.h"
#include "soccr/batch.h"
#include "soccr/checkpoint.h"
#include "soccr/image/image.h"
#include "soccr/image/mapped_file.h"
#include "soccr/image/stream.h"
#include "soccr/paused_socket.h"
#include "soccr/restore.h"
#include "soccr/status_macros.h"

namespace soccr::bench {
namespace {

void SetBytes(benchmark::State& state, size_t bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(bytes));
}

absl::StatusOr<OwnedFd> NewMemFile() {
  OwnedFd fd(::memfd_create("soccr-bench-image", MFD_CLOEXEC));
  if (!fd) return absl::ErrnoToStatus(errno, "memfd_create");
  return fd;
}

// Empties `file` and writes an image of `s` into it.
absl::Status WriteFresh(BorrowedFd file, const ConnectionState& s) {
  if (::ftruncate(file.get(), 0) != 0 ||
      ::lseek(file.get(), 0, SEEK_SET) != 0) {
    return absl::ErrnoToStatus(errno, "truncate the image file");
  }
  return WriteImage(file, {s});
}

// Maps `file` and parses its only connection, queues in place.
absl::StatusOr<ConnectionState> ReadInPlace(BorrowedFd file) {
  absl::StatusOr<MappedFile> mapped = MappedFile::Map(file);
  if (!mapped.ok()) return mapped.status();
  absl::StatusOr<ImageReader> reader = ImageReader::Open(*mapped);
  if (!reader.ok()) return reader.status();
  return reader->Read(0);
}

// The state of a closed idle connection with `bytes` in its receive queue.
absl::StatusOr<ConnectionState> StateWithRecvQueue(size_t bytes) {
  SOCCR_RETURN_IF_ERROR(UseLargeBufferNamespace());
  absl::StatusOr<RestorableConnection> conn = MakeRestorableConnection();
  if (!conn.ok()) return conn.status();
  return WithRecvQueue(conn->state, PatternBytes(bytes));
}

void BM_ImageWrite(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  SharedPairCache().Clear();
  absl::StatusOr<ConnectionState> s = StateWithRecvQueue(bytes);
  if (!s.ok()) return state.SkipWithError(s.status().ToString().c_str());
  absl::StatusOr<OwnedFd> file = NewMemFile();
  if (!file.ok()) return state.SkipWithError(file.status().ToString().c_str());
  for (auto _ : state) {
    if (absl::Status st = WriteFresh(file->borrow(), *s); !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  SetBytes(state, bytes);
}

void BM_ImageRead(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  SharedPairCache().Clear();
  absl::StatusOr<ConnectionState> s = StateWithRecvQueue(bytes);
  if (!s.ok()) return state.SkipWithError(s.status().ToString().c_str());
  absl::StatusOr<OwnedFd> file = NewMemFile();
  if (!file.ok()) return state.SkipWithError(file.status().ToString().c_str());
  if (absl::Status st = WriteFresh(file->borrow(), *s); !st.ok()) {
    return state.SkipWithError(st.ToString().c_str());
  }
  for (auto _ : state) {
    absl::StatusOr<ConnectionState> read = ReadInPlace(file->borrow());
    if (!read.ok()) {
      state.SkipWithError(read.status().ToString().c_str());
      break;
    }
    if (read->recv_queue.size() != bytes) {
      state.SkipWithError("the image holds another number of bytes");
      break;
    }
    benchmark::DoNotOptimize(read->recv_queue.data());
  }
  SetBytes(state, bytes);
}

void BM_EndToEnd(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  absl::StatusOr<const loopback::TcpPair*> pair =
      SharedPairCache().Get(Queue::kRecv, bytes);
  if (!pair.ok()) return state.SkipWithError(pair.status().ToString().c_str());
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause((*pair)->client.borrow());
  if (!paused.ok()) {
    return state.SkipWithError(paused.status().ToString().c_str());
  }
  absl::StatusOr<OwnedFd> file = NewMemFile();
  if (!file.ok()) return state.SkipWithError(file.status().ToString().c_str());
  for (auto _ : state) {
    const double start = ThreadCpuSeconds();
    absl::Status st = UseLargeBufferNamespace();
    absl::StatusOr<ConnectionState> s =
        st.ok() ? Checkpoint(*paused) : absl::StatusOr<ConnectionState>(st);
    if (s.ok()) st = WriteFresh(file->borrow(), *s);
    absl::StatusOr<ConnectionState> read =
        st.ok() ? ReadInPlace(file->borrow())
                : absl::StatusOr<ConnectionState>(st);
    if (read.ok()) st = UseRestoreTargetNamespace();
    absl::StatusOr<RestoredSocket> restored =
        read.ok() && st.ok()
            ? Restore(*read)
            : absl::StatusOr<RestoredSocket>(st.ok() ? read.status() : st);
    const double end = ThreadCpuSeconds();
    if (!restored.ok()) {
      state.SkipWithError(restored.status().ToString().c_str());
      break;
    }
    if (read->recv_queue.size() != bytes) {
      state.SkipWithError("the image holds another number of bytes");
      break;
    }
    state.SetIterationTime(end - start);
    // The restored socket closes here, in repair mode, untimed.
  }
  (void)UseLargeBufferNamespace();
  SetBytes(state, bytes);
}

enum class Medium { kMemfd, kExt4, kStream };

std::string ImageDir() {
  const char* dir = getenv("SOCCR_BENCH_IMAGE_DIR");
  return dir != nullptr && *dir != 0 ? dir : "/tmp";
}

std::string FileSystemName(const std::string& dir) {
  struct statfs fs = {};
  if (::statfs(dir.c_str(), &fs) != 0) return "unknown";
  switch (fs.f_type) {
    case EXT4_SUPER_MAGIC:  // ext2, ext3 and ext4 share it.
      return "ext4";
    case TMPFS_MAGIC:
      return "tmpfs";
    case BTRFS_SUPER_MAGIC:
      return "btrfs";
    case XFS_SUPER_MAGIC:
      return "xfs";
    case OVERLAYFS_SUPER_MAGIC:
      return "overlayfs";
    default:
      return absl::StrCat("f_type 0x", absl::Hex(fs.f_type));
  }
}

// Wall-clock seconds of each step of ThroughFile, summed over iterations
// (the benchmark's counters: where the pipeline's time goes).
struct Phases {
  double checkpoint = 0;  // Pause + Checkpoint
  double write = 0;       // WriteImage
  double read = 0;        // map + Open + Read
  double restore = 0;     // Restore
  double release = 0;     // dropping the states and the mapping
};

// Checkpoint -> file -> restore; `file` is new and empty. `t0` is when the
// pause began.
absl::StatusOr<RestoredSocket> ThroughFile(PausedSocket& paused,
                                           BorrowedFd file, double t0,
                                           Phases& phases) {
  absl::StatusOr<RestoredSocket> out = absl::InternalError("not restored");
  double t = t0;
  auto lap = [&t](double& phase) {
    const double now = WallSeconds();
    phase += now - t;
    t = now;
  };
  {
    absl::StatusOr<ConnectionState> s = Checkpoint(paused);
    lap(phases.checkpoint);
    if (!s.ok()) return s.status();
    if (absl::Status st = WriteImage(file, {*s}); !st.ok()) return st;
    lap(phases.write);
    absl::StatusOr<ConnectionState> read = ReadInPlace(file);
    lap(phases.read);
    if (!read.ok()) return read.status();
    if (absl::Status st = UseRestoreTargetNamespace(); !st.ok()) return st;
    out = Restore(*read);
    lap(phases.restore);
  }
  lap(phases.release);
  return out;
}

// Checkpoint -> pipe (another thread writes) -> restore.
absl::StatusOr<RestoredSocket> ThroughPipe(PausedSocket& paused) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe");
  OwnedFd rd(fds[0]);
  OwnedFd wr(fds[1]);
  absl::Status written;
  std::thread writer([&] {
    absl::StatusOr<ConnectionState> s = Checkpoint(paused);
    if (!s.ok()) {
      written = s.status();
    } else {
      written = WriteImageToStream(wr.borrow(), {*s}).status();
    }
    wr.reset();  // The reader sees the end if the image never came.
  });
  absl::StatusOr<ImageReader> image = ReadImageStream(rd.borrow());
  absl::StatusOr<RestoredSocket> out =
      absl::InternalError("the image did not arrive");
  if (image.ok()) {
    absl::StatusOr<ConnectionState> read = image->Read(0);
    if (!read.ok()) {
      out = read.status();
    } else if (absl::Status st = UseRestoreTargetNamespace(); !st.ok()) {
      out = st;
    } else {
      out = Restore(*read);
    }
  } else {
    out = image.status();
  }
  writer.join();
  if (!written.ok()) return written;
  return out;
}

void BM_ColdEndToEnd(benchmark::State& state, Medium medium) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  SharedPairCache().Clear();
  const std::string dir = ImageDir();
  if (medium == Medium::kExt4) state.SetLabel(FileSystemName(dir));
  ColdTimer timer;
  Phases phases;
  for (auto _ : state) {
    absl::StatusOr<SilentPair> pair = PeerFilledPair(Queue::kRecv, bytes);
    if (!pair.ok()) {
      state.SkipWithError(pair.status().ToString().c_str());
      break;
    }
    std::string path;
    OwnedFd file;
    if (medium == Medium::kExt4) {
      path = absl::StrCat(dir, "/soccr-bench-image-XXXXXX");
      file.reset(::mkostemp(path.data(), O_CLOEXEC));
      if (!file) {
        state.SkipWithError(
            absl::StrCat("mkostemp in ", dir, ": ", strerror(errno)).c_str());
        break;
      }
    } else if (medium == Medium::kMemfd) {
      absl::StatusOr<OwnedFd> f = NewMemFile();
      if (!f.ok()) {
        state.SkipWithError(f.status().ToString().c_str());
        break;
      }
      file = *std::move(f);
    }
    timer.Start();
    const double t0 = WallSeconds();
    absl::StatusOr<PausedSocket> paused =
        PausedSocket::Pause(pair->client.borrow());
    absl::StatusOr<RestoredSocket> restored =
        !paused.ok() ? absl::StatusOr<RestoredSocket>(paused.status())
        : medium == Medium::kStream
            ? ThroughPipe(*paused)
            : ThroughFile(*paused, file.borrow(), t0, phases);
    timer.Stop(state);
    if (!path.empty()) ::unlink(path.c_str());
    absl::Status back = UseLargeBufferNamespace();
    if (!restored.ok()) {
      state.SkipWithError(restored.status().ToString().c_str());
      break;
    }
    if (!back.ok()) {
      state.SkipWithError(back.ToString().c_str());
      break;
    }
    // The restored socket closes here, in repair mode, untimed.
  }
  timer.Report(state, bytes);
  if (medium != Medium::kStream && state.iterations() > 0) {
    const double n = static_cast<double>(state.iterations());
    state.counters["checkpoint_ms"] = phases.checkpoint / n * 1e3;
    state.counters["write_ms"] = phases.write / n * 1e3;
    state.counters["read_ms"] = phases.read / n * 1e3;
    state.counters["restore_ms"] = phases.restore / n * 1e3;
    state.counters["release_ms"] = phases.release / n * 1e3;
  }
}

// The states of `n` idle connections (default sysctls, socket options
// saved, as a migration's checkpoints hold them), the originals closed.
absl::StatusOr<std::vector<ConnectionState>> IdleStates(size_t n) {
  SOCCR_RETURN_IF_ERROR(UseDefaultNamespace());
  absl::StatusOr<IdleConnections> conns = MakeIdleConnections(n);
  if (!conns.ok()) return conns.status();
  BatchOptions options;
  options.threads = 1;
  options.checkpoint.socket_options = true;
  std::vector<ConnectionState> states;
  states.reserve(n);
  for (absl::StatusOr<ConnectionState>& s :
       CheckpointAndCloseMany(absl::MakeSpan(conns->clients), options)) {
    if (!s.ok()) return s.status();
    states.push_back(*std::move(s));
  }
  return states;
}

// SerializeImage of a chunk of idle states, as soccr::Send builds each
// image (it writes them unchecked: check:0), wall-clock with the thread's
// CPU time beside it.
void BM_SerializeIdle(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  ImageWriteOptions options;
  options.check_restorable = state.range(1) != 0;
  absl::StatusOr<std::vector<ConnectionState>> states = IdleStates(n);
  if (!states.ok()) {
    return state.SkipWithError(states.status().ToString().c_str());
  }
  double cpu = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const double wall_start = WallSeconds();
    const double cpu_start = ThreadCpuSeconds();
    absl::StatusOr<std::string> image = SerializeImage(*states, options);
    cpu += ThreadCpuSeconds() - cpu_start;
    state.SetIterationTime(WallSeconds() - wall_start);
    if (!image.ok()) {
      state.SkipWithError(image.status().ToString().c_str());
      break;
    }
    bytes = image->size();
    benchmark::DoNotOptimize(image->data());
  }
  state.counters["s_per_conn"] = benchmark::Counter(
      static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                  benchmark::Counter::kInvert);
  state.counters["cpu_s_per_conn"] =
      cpu / static_cast<double>(std::max<int64_t>(state.iterations(), 1)) /
      static_cast<double>(n);
  state.counters["image_bytes_per_conn"] =
      static_cast<double>(bytes) / static_cast<double>(n);
}

}  // namespace

void RegisterImageBenchmarks(const Config& config) {
  for (int64_t n : config.batch_connections) {
    for (int64_t check : {0, 1}) {
      benchmark::RegisterBenchmark("SerializeIdle", BM_SerializeIdle)
          ->ArgNames({"conns", "check"})
          ->Args({n, check})
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (int64_t n : config.queue_bytes) {
    benchmark::RegisterBenchmark("ImageWrite", BM_ImageWrite)->Arg(n);
    benchmark::RegisterBenchmark("ImageRead", BM_ImageRead)->Arg(n);
  }
  for (int64_t n : config.queue_bytes) {
    benchmark::RegisterBenchmark("EndToEnd", BM_EndToEnd)
        ->Arg(n)
        ->UseManualTime();
  }
  for (int64_t n : config.cold_queue_bytes) {
    benchmark::RegisterBenchmark("ColdEndToEndMemfd", BM_ColdEndToEnd,
                                 Medium::kMemfd)
        ->Arg(n)
        ->UseManualTime();
    benchmark::RegisterBenchmark("ColdEndToEndExt4", BM_ColdEndToEnd,
                                 Medium::kExt4)
        ->Arg(n)
        ->UseManualTime();
    benchmark::RegisterBenchmark("ColdEndToEndStream", BM_ColdEndToEnd,
                                 Medium::kStream)
        ->Arg(n)
        ->UseManualTime();
  }
}

}  // namespace soccr::bench
