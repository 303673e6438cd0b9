// tools/demo.h: `soccr demo`, a live TCP connection moved from one process
// to another through an image file, every byte checked.
//
//   absl::StatusOr<soccr::tools::DemoReport> r =
//       soccr::tools::RunDemo({}, progress);
//
// In a private user and network namespace (nothing on the host is
// touched): a peer streams to the client and the client streams back;
// mid-stream, with data in both of the client's queues, the client's
// socket is checkpointed into an image file and closed silently; a new
// process restores it from the file and both streams finish. The peer
// never notices. Every byte is compared on both sides.
//
// The peer sends nothing while the connection is away: a packet for the
// closed socket would be answered with a reset. (A real migration holds
// the peer's packets back with a firewall rule instead.)

#ifndef SOCCR_TOOLS_DEMO_H_
#define SOCCR_TOOLS_DEMO_H_

#include <stdint.h>
#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/progress.h"

namespace soccr::tools {

struct DemoOptions {
  // Bytes in each direction, 64 KiB to 1 GiB.
  uint64_t bytes = 8 << 20;
  // Where to write the image and keep it; empty: a temporary directory,
  // removed afterwards.
  std::string image;
};

struct DemoReport {
  std::string endpoints;  // the moved connection, local->peer
  // The client's queues at the checkpoint.
  uint32_t inq_len = 0;
  uint32_t outq_len = 0;
  uint32_t unsent_len = 0;
  absl::Duration checkpoint_time;  // pause + checkpoint
  absl::Duration write_time;       // image file written and flushed
  uint64_t image_bytes = 0;
  std::string image_path;  // where it was kept; empty if it was removed
  pid_t restored_pid = 0;
  absl::Duration restore_time;  // image read, socket restored and resumed
  uint64_t down_verified = 0;   // peer -> client, checked by the new process
  uint64_t up_verified = 0;     // client -> peer, checked by the peer
};

// Runs the demo. Must be called while the process is single-threaded (it
// enters a new user namespace). DataLoss if any byte differs; otherwise the
// failing step's error (from the restoring process too).
[[nodiscard]] absl::StatusOr<DemoReport> RunDemo(const DemoOptions& options,
                                                 Progress& progress);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_DEMO_H_
