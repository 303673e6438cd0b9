// soccr/migrate/migrate.h: live migration of TCP connections between hosts
// (`soccr send` / `soccr receive`; docs/migration.md has the protocol,
// who owns each connection at each step, and the recovery after a crash).
//
//   // On the destination (returns once the connections are live here):
//   soccr::ReceiveOptions r;
//   r.listen = "192.0.2.2:7000";
//   r.take_address = *soccr::InterfaceAddress::Parse("192.0.2.100/24");
//   r.dev = "eth0";
//   absl::StatusOr<soccr::ReceiveResult> got = soccr::Receive(r);
//
//   // On the source:
//   soccr::SendOptions s;
//   s.pid = 1234;
//   s.fds = {5, 6};
//   s.to = "192.0.2.2:7000";
//   s.release_address = r.take_address;
//   s.dev = "eth0";
//   absl::StatusOr<soccr::SendReport> sent = soccr::Send(s);
//
// Until the source commits (after the destination has restored every
// connection, behind its own lock), any failure rolls back: the source resumes
// every original and unlocks, and the peers see a pause. Both sides need
// CAP_NET_ADMIN over their network namespace (and CAP_NET_RAW for
// half-closed connections and address announcements); the source also
// needs ptrace access to the process that owns the connections.

#ifndef SOCCR_MIGRATE_MIGRATE_H_
#define SOCCR_MIGRATE_MIGRATE_H_

#include <stdint.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "soccr/fd.h"
#include "soccr/migrate/protocol.h"
#include "soccr/netaddr/netaddr.h"

namespace soccr {

enum class LockMode { kConnections, kNamespace, kNone };

struct SendOptions {
  pid_t pid = 0;
  // The process's descriptors to move; empty with `all`: every connected
  // TCP socket it has (listeners and unconnected sockets are left).
  std::vector<int> fds;
  bool all = false;
  // "unix:PATH" or "HOST:PORT" (HOST an IPv4 address or [IPv6]).
  std::string to;
  LockMode lock = LockMode::kConnections;
  std::optional<InterfaceAddress> release_address;
  std::string dev;
  // Each wait for the other side (connect, its answers).
  absl::Duration timeout = absl::Seconds(30);
  // Connections per image of the pipelined transfer (the destination
  // restores one chunk while the next is checkpointed). 0: growing from
  // 128 to n/8 (within 128..1024) and shrinking again to at most half of
  // what is left, so that the first image is soon at the destination and
  // the restore of the last, which nothing overlaps, is short.
  size_t chunk = 0;
  // Where the move is recorded for recovery after a crash (written
  // atomically at each step, removed when the move ends). Empty: none.
  std::string journal;
};

// Phase times; the destination's come in its DONE message.
struct SendReport {
  size_t connections = 0;
  uint64_t image_bytes = 0;
  absl::Duration lock, checkpoint, transfer, commit, unlock, total;
  // From the lock to the destination's unlock as the source sees it (the
  // DONE message arriving).
  absl::Duration downtime;
  migrate::DestinationTimes destination;
};

// Moves the connections. On an error before the commit everything is
// rolled back (the message says so); after it, the connections belong to
// the destination, and an error says what is left to do.
[[nodiscard]] absl::StatusOr<SendReport> Send(const SendOptions& options);

struct ReceiveOptions {
  // "unix:PATH" or "HOST:PORT", listened on for one sender.
  std::string listen;
  // Taken (added and announced) at the go-ahead; every connection's local
  // address must then be this one.
  std::optional<InterfaceAddress> take_address;
  std::string dev;
  // Waiting for a sender to connect (InfiniteDuration: forever).
  absl::Duration accept_timeout = absl::InfiniteDuration();
  // Each wait for the sender once connected.
  absl::Duration timeout = absl::Seconds(30);
  // Unix sockets: the sender's uid must be this process's or 0 (checked
  // with SO_PEERCRED) unless this is set.
  bool any_uid = false;
  // A sender with more connections is refused before anything moves (0:
  // no limit).
  uint32_t max_connections = 0;
};

struct ReceiveResult {
  std::vector<OwnedFd> connections;  // live, in the sender's order
  std::vector<std::string> names;    // "fd5": the source's descriptor
  migrate::DestinationTimes times;
  uint64_t image_bytes = 0;
};

// Waits for a sender and takes its connections. On error nothing is left
// behind: every restored socket closed silently, the lock removed.
[[nodiscard]] absl::StatusOr<ReceiveResult> Receive(
    const ReceiveOptions& options);

// What Recover did.
struct RecoverResult {
  // Whether the journal said the move had been committed (the saved image
  // holds the connections) or not (the originals do).
  bool committed = false;
  // Connections the journal names (its descriptors in the source process).
  size_t connections = 0;
  // Not committed: originals taken out of repair mode at the source (a
  // process that has gone takes its sockets with it).
  size_t resumed = 0;
  // Committed: connections the destination at `handed_to` confirmed.
  size_t handed_over = 0;
  std::string handed_to;  // committed: the `to` given
  std::string lock;       // the source's lock id, "" if the move had none
  bool lock_removed = false;
  std::string image;    // committed: the image saved at the commit
  std::string summary;  // one line for people
};

// Recovery after a crash of `soccr send` (the journal it left): before the
// commit, resumes every original (pidfd_getfd from the recorded process)
// and removes the source's lock; after it, disconnects the originals if
// they are not yet, releases the address, and hands the connections (the
// image saved at the commit) to a new `soccr receive` at `to`. Returns
// what it did.
[[nodiscard]] absl::StatusOr<RecoverResult> Recover(const std::string& journal,
                                                    const std::string& to,
                                                    absl::Duration timeout);

}  // namespace soccr

#endif  // SOCCR_MIGRATE_MIGRATE_H_
