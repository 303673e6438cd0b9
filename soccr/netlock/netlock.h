// soccr/netlock/netlock.h: the network lock, which holds a set of TCP
// connections (or every TCP packet of the network namespace) still while
// they are checkpointed, moved and restored.
//
//   std::vector<soccr::ConnectionKey> keys = {{state.local, state.peer}};
//   absl::StatusOr<soccr::NetworkLock> lock =
//       soccr::NetworkLock::LockConnections(keys);
//   // ... checkpoint, move, restore: the peers' packets are dropped, and so
//   // are ours; the segments a restore injects (mark 0xC114) pass ...
//   absl::Status s = std::move(*lock).Unlock();   // or drop it: unlocks too
//
// A lock is one nftables table of the current network namespace, named
// "soccr_lock_<id>" (family inet): a set with a concatenated key (address .
// port . address . port, one set for IPv4 and one for IPv6) and two base
// chains, input and output, at priority -300 (before connection tracking).
// Each chain accepts packets whose mark is kLockBypassMark and drops TCP
// packets of a locked connection, in either direction. An IPv4-mapped IPv6
// connection (::ffff:a.b.c.d) is IPv4 on the wire, so it goes in the IPv4
// set. Dropped, not rejected: the peer sees no reset, only silence, and
// retransmits once the lock is gone.
//
// The table is built and removed with one netlink batch each (libnftnl and
// libmnl): the kernel applies a batch as one transaction, so every
// connection is locked at the same instant, or none is, and a failure
// leaves nothing behind. When a set is too large for one netlink message
// batch (the socket's send buffer bounds it: about 8,000 IPv6 or 14,000
// IPv4 connections), the elements go first in batches of their own, into
// the table's still inactive chains, and the rules that make the lock
// bite go last, in one batch: the lock still takes effect for every
// connection in one transaction. Unlocking is one message whatever the size.
//
// The table outlives the process. Dropping a NetworkLock unlocks (best
// effort; call Unlock() to see the error); LeaveInPlace() keeps it locked on
// purpose, to be found again by Find(id) or listed by List() (`soccr locks`)
// and removed by `soccr unlock ID`.
//
// Needs CAP_NET_ADMIN over the current network namespace (a process in a
// user namespace it created has it). Errors: PermissionDenied without it;
// Unimplemented when the kernel has no nf_tables; NotFound from Find() for
// an id with no lock; otherwise the failing netlink message with the
// kernel's errno.
//
// Thread-safety: a NetworkLock may move between threads; distinct locks are
// independent (each call uses its own netlink socket).

#ifndef SOCCR_NETLOCK_NETLOCK_H_
#define SOCCR_NETLOCK_NETLOCK_H_

#include <stdint.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "soccr/address.h"
#include "soccr/injected_packet_mark.h"

namespace soccr {

namespace netlock {
class NftSocket;
class NftBatch;
}  // namespace netlock

// The packet mark a lock lets through: soccr's restores mark the segments
// they inject with it (libsoccr's SOCCR_MARK).
inline constexpr uint32_t kLockBypassMark = kInjectedPacketMark;

// One TCP connection as seen from this host: our address and the peer's,
// both of the same family (AF_INET, or AF_INET6 including mapped ones).
struct ConnectionKey {
  SocketAddress local;
  SocketAddress peer;
};

enum class LockScope {
  // The listed connections only.
  kConnections,
  // Every TCP packet into and out of the network namespace (but the
  // exemptions and marked packets). Other protocols (ARP, neighbour
  // discovery, UDP) pass: soccr moves TCP only, and a namespace that cannot
  // resolve its neighbours could not resume.
  kNamespace,
};

std::string LockScopeName(LockScope scope);

struct LockOptions {
  // Namespace scope only: connections that keep flowing (the control
  // connection of a migration, say).
  std::vector<ConnectionKey> exempt;
  // A free-form note stored with the lock and shown by `soccr locks` (at
  // most 64 bytes, printable ASCII).
  std::string note;
};

// What List() and Find() tell about a lock.
struct LockInfo {
  std::string id;  // 16 lowercase hex digits
  LockScope scope = LockScope::kConnections;
  // kConnections: the connections locked; kNamespace: the exemptions.
  uint64_t connections = 0;
  pid_t pid = 0;  // the process that took it
  absl::Time created;
  std::string note;
};

// A network lock in the current network namespace. Move-only. See the file
// comment.
class NetworkLock {
 public:
  // Locks `connections` (at least one; each a valid key; duplicates are
  // allowed) in one transaction. InvalidArgument for an empty list, an
  // empty or mixed-family key, or a port 0.
  [[nodiscard]] static absl::StatusOr<NetworkLock> LockConnections(
      absl::Span<const ConnectionKey> connections,
      const LockOptions& options = {});

  // Everything of LockConnections() but the rules that make the lock bite:
  // the table is made and its sets filled (the part whose cost grows with
  // the number of connections), its chains stay empty, so nothing is
  // dropped yet. Activate() then locks every connection in one small
  // transaction, as quick for 10,000 connections as for one. Until then
  // the lock is listed (`soccr locks`) like any other; dropping the handle
  // or Unlock() removes it either way.
  [[nodiscard]] static absl::StatusOr<NetworkLock> StageConnections(
      absl::Span<const ConnectionKey> connections,
      const LockOptions& options = {});
  // Makes a staged lock bite (adds its rules, one transaction). On error
  // it stays staged. FailedPrecondition if it is not staged.
  [[nodiscard]] absl::Status Activate();
  // False for a lock StageConnections() made and Activate() has not yet
  // made bite.
  bool active() const { return pending_ == nullptr; }
  // Locks every TCP packet of the network namespace, but `options.exempt`.
  [[nodiscard]] static absl::StatusOr<NetworkLock> LockNamespace(
      const LockOptions& options = {});

  // The lock with this id in the current network namespace, now owned by
  // the result (dropping it unlocks). NotFound if there is none;
  // InvalidArgument for a malformed id.
  [[nodiscard]] static absl::StatusOr<NetworkLock> Find(absl::string_view id);

  // Every soccr lock in the current network namespace, oldest first.
  [[nodiscard]] static absl::StatusOr<std::vector<LockInfo>> List();

  // Removes the lock with this id (`soccr unlock ID`). NotFound if none.
  [[nodiscard]] static absl::Status UnlockById(absl::string_view id);

  NetworkLock(NetworkLock&& other) noexcept;
  NetworkLock& operator=(NetworkLock&& other) noexcept;
  NetworkLock(const NetworkLock&) = delete;
  NetworkLock& operator=(const NetworkLock&) = delete;
  // Unlocks (best effort) unless Unlock() or LeaveInPlace() ran.
  ~NetworkLock();

  const LockInfo& info() const { return info_; }
  const std::string& id() const { return info_.id; }

  // Removes the lock in one transaction. On error the lock is kept in
  // place (and `*this` still holds it), so the caller may retry.
  [[nodiscard]] absl::Status Unlock() &&;

  // Gives up the handle and leaves the lock in the kernel; returns its id.
  std::string LeaveInPlace() &&;

 private:
  NetworkLock(LockInfo info, std::shared_ptr<netlock::NftSocket> sock);
  static absl::StatusOr<NetworkLock> Create(
      LockScope scope, absl::Span<const ConnectionKey> keys,
      const LockOptions& options, bool staged);

  LockInfo info_;
  // The socket that made the lock, kept to remove it: closing a netlink
  // socket right after a deletion waits for the kernel to free what was
  // deleted (an RCU grace period, ~10 ms here), so the unlock does not
  // close it; the handle's destruction does, later.
  std::shared_ptr<netlock::NftSocket> sock_;
  bool armed_ = true;
  // A staged lock's last batch, its rules (see StageConnections).
  std::shared_ptr<netlock::NftBatch> pending_;
  std::string pending_what_;
};

// "soccr_lock_<id>": the nftables table of a lock.
std::string LockTableName(absl::string_view id);

}  // namespace soccr

#endif  // SOCCR_NETLOCK_NETLOCK_H_
