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

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/fixtures.h"
#include "bench/registry.h"
#include "benchmark/benchmark.h"
#include "soccr/checkpoint.h"
#include "soccr/image/image.h"
#include "soccr/image/mapped_file.h"
#include "soccr/paused_socket.h"
#include "soccr/restore.h"

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
  if (absl::Status s = UseLargeBufferNamespace(); !s.ok()) return s;
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

}  // namespace

void RegisterImageBenchmarks(const Config& config) {
  for (int64_t n : config.queue_bytes) {
    benchmark::RegisterBenchmark("ImageWrite", BM_ImageWrite)->Arg(n);
    benchmark::RegisterBenchmark("ImageRead", BM_ImageRead)->Arg(n);
  }
  for (int64_t n : config.queue_bytes) {
    benchmark::RegisterBenchmark("EndToEnd", BM_EndToEnd)
        ->Arg(n)
        ->UseManualTime();
  }
}

}  // namespace soccr::bench
