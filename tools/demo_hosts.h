// tools/demo_hosts.h: `soccr demo --hosts`, a whole live migration between
// simulated hosts: a service's connections, and its address, move from one
// host to another while a peer streams to it both ways, every byte checked.
//
//   absl::StatusOr<soccr::tools::HostsDemoReport> r =
//       soccr::tools::RunHostsDemo({}, progress);
//   if (r.ok()) printf("%s", soccr::tools::HostsDemoReportText(*r).c_str());
//
// In a private user and network namespace (nothing on the host is
// touched), three hosts, each a network namespace whose eth0 is on one
// bridge (tools/host_lab.h): src (192.0.2.1), dst (192.0.2.2) and peer
// (192.0.2.10). An echo service on src holds N connections on
// 192.0.2.100:8000 while the peer streams a pattern on each and checks
// every byte that comes back. Mid-stream the service is quiesced (it
// writes out what it has read and stops itself, as a migrating service
// must: docs/migration.md) and the real move runs: soccr::Send on src
// (the connections' network lock, --release-address 192.0.2.100/24) and
// soccr::Receive on dst (--take-address 192.0.2.100/24), the calls behind
// `soccr send` and `soccr receive`, each in a process of its own in its
// host. The same echo service then carries on at dst with the connections
// receive handed it, and the stopped original is let go (its sockets are
// disconnected). If the move fails it rolls back and the original carries
// on: the report says so, and the bytes are still checked.

#ifndef SOCCR_TOOLS_DEMO_HOSTS_H_
#define SOCCR_TOOLS_DEMO_HOSTS_H_

#include <stdint.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "soccr/migrate/migrate.h"
#include "tools/progress.h"

namespace soccr::tools {

struct HostsDemoOptions {
  // Connections to move, 1 to 1000.
  int connections = 4;
  // Bytes each connection streams in each direction, 64 KiB to 1 GiB.
  uint64_t bytes = 1 << 20;
};

// What the echo service read and wrote on one host, over all connections.
struct ServiceCounts {
  uint64_t read = 0;
  uint64_t written = 0;
};

struct HostsDemoReport {
  int connections = 0;
  uint64_t bytes = 0;  // per connection, each way
  // Whether the move happened; if not, why (it was rolled back).
  bool moved = false;
  std::string move_error;
  SendReport send;  // the source's phase times (and the destination's)
  // The peer: bytes it sent, bytes echoed back to it, how many of those
  // differed from what it had sent, how many never came back, and the
  // longest it waited on a connection between two bytes.
  uint64_t peer_sent = 0;
  uint64_t peer_received = 0;
  uint64_t mismatched = 0;
  uint64_t missing = 0;
  absl::Duration longest_gap;
  std::string peer_error;  // a connection reset or ended early, a stall
  ServiceCounts at_source;
  ServiceCounts at_destination;
  // Afterwards: which hosts have the service address, and how many of
  // soccr's network locks are left on each (`soccr locks` there).
  bool address_at_src = false;
  bool address_at_dst = false;
  size_t locks_at_src = 0;
  size_t locks_at_dst = 0;

  // Every byte the peer sent reached the service once (src + dst) and came
  // back intact, and nothing else arrived.
  bool AllBytesArrived() const;
  // The move left what it should: the address on dst only and no lock on
  // either host.
  bool LeftClean() const;
};

// Runs the demo. Must be called while the process is single-threaded (it
// enters a new user namespace and forks). An error if the hosts or the
// service could not be set up; a failed move is in the report.
[[nodiscard]] absl::StatusOr<HostsDemoReport> RunHostsDemo(
    const HostsDemoOptions& options, Progress& progress);

// The report for people: one line per phase, then the byte check.
std::string HostsDemoReportText(const HostsDemoReport& r);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_DEMO_HOSTS_H_
