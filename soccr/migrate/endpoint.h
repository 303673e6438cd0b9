// soccr/migrate/endpoint.h: the control connection of a migration, over a
// unix socket ("unix:PATH") or TCP ("HOST:PORT", HOST an IPv4 address or
// [IPv6]). Internal to //soccr/migrate.

#ifndef SOCCR_MIGRATE_ENDPOINT_H_
#define SOCCR_MIGRATE_ENDPOINT_H_

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/netlock/netlock.h"

namespace soccr::migrate {

struct Endpoint {
  std::string unix_path;  // set for "unix:PATH"
  SocketAddress tcp;      // otherwise
};

[[nodiscard]] absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text);

// Who may be at the other end of a unix control connection. A sender hands
// the receiver connections to restore with the receiver's privileges, and
// a receiver gets the sender's connections: either side refuses a process
// of another user. TCP endpoints carry no credentials (a TCP receiver is
// reached by address, as the operator chose).
struct PeerPolicy {
  // Anyone (ReceiveOptions::any_uid).
  bool any = false;
  // The uid the other side must have; 0 is allowed too when `root`.
  uid_t uid = ::getuid();
  bool root = true;
};

// The policy's verdict on credentials: PermissionDenied naming the other
// side (`role`: "sender", "receiver"), its pid and uid.
[[nodiscard]] absl::Status CheckCredentials(const struct ucred& cred,
                                            const PeerPolicy& policy,
                                            absl::string_view role);

// CheckCredentials() of what the kernel says of the other end of a
// connected unix socket (SO_PEERCRED: the process that connected, for an
// accepted socket; the one that listened, for a connecting one). OK for
// any other kind of socket.
[[nodiscard]] absl::Status CheckUnixPeer(BorrowedFd fd,
                                         const PeerPolicy& policy,
                                         absl::string_view role);

// Connects, waiting until `deadline` (refused connections are retried:
// the receiver may not be listening yet). For a unix socket the listener
// must pass `policy` (CheckUnixPeer): PermissionDenied otherwise.
[[nodiscard]] absl::StatusOr<OwnedFd> Connect(const Endpoint& e,
                                              absl::Time deadline,
                                              const PeerPolicy& policy = {});

// A listening socket (a stale unix socket file at the path is replaced).
[[nodiscard]] absl::StatusOr<OwnedFd> Listen(const Endpoint& e);

// Accepts one connection until `deadline`. For a unix socket the sender
// must pass `policy` (CheckUnixPeer): PermissionDenied otherwise.
[[nodiscard]] absl::StatusOr<OwnedFd> Accept(BorrowedFd listener,
                                             absl::Time deadline,
                                             const PeerPolicy& policy);

// The TCP connection's key (local, peer), for a namespace lock's
// exemption; nullopt for a unix socket.
std::optional<ConnectionKey> TcpKey(BorrowedFd fd);

}  // namespace soccr::migrate

#endif  // SOCCR_MIGRATE_ENDPOINT_H_
