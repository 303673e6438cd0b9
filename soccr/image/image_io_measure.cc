// image_io_measure: times the image path of one large connection, end to
// end, in a private network namespace, and counts page faults:
//
//   checkpoint (fresh memory vs. a reused CheckpointBuffer)
//   -> WriteImage to a file -> MappedFile + ImageReader::Read (in place)
//   -> Restore from the mapping -> every byte checked at the peer
//
//   ./bazelw run -c opt //soccr/image:image_io_measure -- --mib=64
//
// Reports medians of --repeat runs, with a plain memcpy of the same bytes
// between warm buffers as the yardstick. No queue byte is copied in user
// space on the way: the writer hands the checkpoint's buffers to writev and
// the reader's queues are views into the mapping (both checked here).
// image_io_measure_smoke_test runs it small so that it never rots.

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "soccr/image/image.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/testing/netns.h"

ABSL_FLAG(int, mib, 64, "MiB in each queue of the connection.");
ABSL_FLAG(int, repeat, 5, "Runs of each step; medians are reported.");
ABSL_FLAG(std::string, dir, "",
          "Where to write the image (default: $TEST_TMPDIR or /tmp).");

namespace soccr {
namespace {

using ::soccr::loopback::Family;

long MinorFaults() {
  struct rusage ru = {};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

struct Sample {
  double ms;
  long faults;
};

struct Result {
  std::string what;
  std::vector<Sample> samples;
  uint64_t bytes;
};

Sample Median(std::vector<Sample> v) {
  std::sort(v.begin(), v.end(),
            [](const Sample& a, const Sample& b) { return a.ms < b.ms; });
  return v[v.size() / 2];
}

template <typename F>
Sample Time(F&& f) {
  const long faults = MinorFaults();
  const absl::Time start = absl::Now();
  f();
  return {absl::ToDoubleMilliseconds(absl::Now() - start),
          MinorFaults() - faults};
}

#define CHECK_OK(expr)                                                        \
  do {                                                                        \
    const absl::Status check_ok_status = (expr);                              \
    if (!check_ok_status.ok()) {                                              \
      fprintf(stderr, "%s: %s\n", #expr, check_ok_status.ToString().c_str()); \
      exit(1);                                                                \
    }                                                                         \
  } while (0)

#define CHECK(cond)                                 \
  do {                                              \
    if (!(cond)) {                                  \
      fprintf(stderr, "check failed: %s\n", #cond); \
      exit(1);                                      \
    }                                               \
  } while (0)

template <typename T>
T Value(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    fprintf(stderr, "%s: %s\n", what, v.status().ToString().c_str());
    exit(1);
  }
  return *std::move(v);
}

// A connection with `size` bytes unread by the client and at least `size`
// bytes in its send queue behind the server's full window.
struct Connection {
  soccr::loopback::TcpPair pair;
  std::string to_client, to_server;
  size_t written = 0;
};

Connection Make(size_t size) {
  Connection c;
  c.pair = Value(soccr::loopback::ConnectedPair(Family::kV4, 0, 64 << 10),
                 "connect");
  c.to_client = soccr::loopback::Pattern(size, 1);
  c.to_server = soccr::loopback::Pattern(size + size / 4 + (1 << 20), 2);
  CHECK_OK(soccr::loopback::WriteAll(c.pair.server.borrow(), c.to_client,
                                     absl::Seconds(60)));
  CHECK_OK(soccr::loopback::WaitInq(c.pair.client.borrow(), size,
                                    absl::Seconds(60)));
  CHECK_OK(soccr::loopback::WaitNothingInFlight(c.pair.server.borrow()));
  c.written = Value(
      soccr::loopback::WriteSome(c.pair.client.borrow(), c.to_server), "write");
  CHECK_OK(soccr::loopback::WaitNothingInFlight(c.pair.client.borrow()));
  CHECK(soccr::loopback::OutqLen(c.pair.client.borrow()) >=
        static_cast<int>(size));
  return c;
}

void Print(const Result& r) {
  const Sample m = Median(r.samples);
  printf("%-44s %9.2f ms %9.0f MB/s %8ld faults\n", r.what.c_str(), m.ms,
         r.bytes / 1e6 / (m.ms / 1e3), m.faults);
}

int Main() {
  const size_t size = size_t{static_cast<size_t>(absl::GetFlag(FLAGS_mib))}
                      << 20;
  const int repeat = std::max(1, absl::GetFlag(FLAGS_repeat));
  std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) {
    const char* t = getenv("TEST_TMPDIR");
    dir = t != nullptr ? t : "/tmp";
  }
  const std::string path = dir + "/image_io_measure.soccr";
  CHECK_OK(soccr::loopback::EnterPrivateNetns());
  const int64_t buf = 2 * static_cast<int64_t>(size) + (64 << 20);
  CHECK_OK(soccr::loopback::RaiseTcpBuffers(buf, buf + (64 << 20)));

  Connection c = Make(size);
  PausedSocket paused =
      Value(PausedSocket::Pause(c.pair.client.borrow()), "pause");
  const uint64_t queue_bytes =
      size + soccr::loopback::OutqLen(c.pair.client.borrow());
  std::vector<Result> results;

  // memcpy of the same amount between warm buffers: the yardstick.
  {
    std::string a(queue_bytes, 'a'), b(queue_bytes, 'b');
    Result r{"memcpy, warm buffers", {}, queue_bytes};
    for (int i = 0; i < repeat; ++i) {
      r.samples.push_back(Time([&] { memcpy(b.data(), a.data(), a.size()); }));
      CHECK(b[queue_bytes / 2] == 'a');
    }
    results.push_back(std::move(r));
  }
  // Checkpoint into fresh memory each time, and into one reused buffer.
  ConnectionState state;
  {
    Result r{"checkpoint, fresh memory", {}, queue_bytes};
    for (int i = 0; i < repeat; ++i) {
      r.samples.push_back(
          Time([&] { state = Value(Checkpoint(paused), "checkpoint"); }));
      state = ConnectionState();
    }
    results.push_back(std::move(r));
  }
  CheckpointBuffer buffer(queue_bytes + 4096);
  CheckpointOptions reuse;
  reuse.buffer = &buffer;
  {
    Result r{"checkpoint, reused CheckpointBuffer", {}, queue_bytes};
    for (int i = 0; i < repeat; ++i) {
      state = ConnectionState();  // frees the buffer for reuse
      r.samples.push_back(Time(
          [&] { state = Value(Checkpoint(paused, reuse), "checkpoint"); }));
    }
    results.push_back(std::move(r));
  }
  CHECK(state.recv_queue.view() == c.to_client);
  std::move(paused).LeaveInRepairMode();
  c.pair.client.reset();

  // In memory, for comparison: one copy of every byte into a string.
  {
    Result r{"SerializeImage (to memory: 1 copy)", {}, queue_bytes};
    for (int i = 0; i < repeat; ++i) {
      r.samples.push_back(Time([&] {
        std::string img = Value(SerializeImage({state}), "serialize");
        CHECK(img.size() > queue_bytes);
      }));
    }
    results.push_back(std::move(r));
  }
  // To a file: writev from the checkpoint's buffer.
  {
    Result r{"WriteImage to a file (writev, 0 copies)", {}, queue_bytes};
    for (int i = 0; i < repeat; ++i) {
      OwnedFd fd(
          ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      CHECK(fd);
      r.samples.push_back(
          Time([&] { CHECK_OK(WriteImage(fd.borrow(), {state})); }));
    }
    results.push_back(std::move(r));
  }
  state = ConnectionState();

  // Read back in place: map, check the header and the record's checksum,
  // decode; the queues stay in the mapping.
  ConnectionState mapped;
  std::optional<MappedFile> in_place;
  {
    Result r{"map + ImageReader::Read (0 copies)", {}, queue_bytes};
    for (int i = 0; i < repeat; ++i) {
      mapped = ConnectionState();
      in_place.reset();
      r.samples.push_back(Time([&] {
        in_place.emplace(Value(MappedFile::Open(path), "map"));
        ImageReader reader = Value(ImageReader::Open(*in_place), "open");
        mapped = Value(reader.Read(0), "read");
      }));
    }
    results.push_back(std::move(r));
  }
  // Zero copies: both queues are the mapping's bytes.
  const absl::Span<const uint8_t> file = in_place->bytes();
  for (const QueueBytes* q : {&mapped.recv_queue, &mapped.send_queue}) {
    CHECK(q->data() >= file.data() && q->data() + q->size() <= file.end());
  }
  // Copying instead, for comparison.
  {
    Result r{"ParseImage from memory (1 copy)", {}, queue_bytes};
    for (int i = 0; i < repeat; ++i) {
      r.samples.push_back(Time([&] {
        std::vector<ConnectionState> v = Value(ParseImage(file), "parse");
        CHECK(v.size() == 1);
      }));
    }
    results.push_back(std::move(r));
  }

  // Restore from the mapping and check every byte at both ends.
  OwnedFd restored;
  Result restore{"Restore + Resume from the mapping", {}, queue_bytes};
  restore.samples.push_back(Time([&] {
    RestoredSocket r = Value(Restore(mapped), "restore");
    restored = Value(std::move(r).Resume(), "resume");
  }));
  results.push_back(std::move(restore));
  const std::string server_got =
      Value(soccr::loopback::ReadExactly(c.pair.server.borrow(), c.written,
                                         absl::Seconds(120)),
            "read at server");
  CHECK(server_got == c.to_server.substr(0, c.written));
  const std::string client_got = Value(
      soccr::loopback::ReadExactly(restored.borrow(), size, absl::Seconds(120)),
      "read at restored client");
  CHECK(client_got == c.to_client);

  printf(
      "connection: %zu MiB receive queue + %.1f MiB send queue; image %zu "
      "bytes; medians of %d\n",
      size >> 20, (queue_bytes - size) / 1048576.0, file.size(), repeat);
  for (const Result& r : results) Print(r);
  printf("verified: every byte delivered at both ends after the restore\n");
  ::unlink(path.c_str());
  return 0;
}

}  // namespace
}  // namespace soccr

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return soccr::Main();
}
