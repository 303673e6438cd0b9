// soccr/migrate/endpoint.h: the control connection of a migration, over a
// unix socket ("unix:PATH") or TCP ("HOST:PORT", HOST an IPv4 address or
// [IPv6]). Internal to //soccr/migrate.

#ifndef SOCCR_MIGRATE_ENDPOINT_H_
#define SOCCR_MIGRATE_ENDPOINT_H_

#include <sys/types.h>

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

// Connects, waiting until `deadline` (refused connections are retried:
// the receiver may not be listening yet).
[[nodiscard]] absl::StatusOr<OwnedFd> Connect(const Endpoint& e,
                                              absl::Time deadline);

// A listening socket (a stale unix socket file at the path is replaced).
[[nodiscard]] absl::StatusOr<OwnedFd> Listen(const Endpoint& e);

// Accepts one connection until `deadline`. For a unix socket the peer's
// uid must be ours or 0 unless `any_uid`: PermissionDenied otherwise.
[[nodiscard]] absl::StatusOr<OwnedFd> Accept(BorrowedFd listener,
                                             absl::Time deadline, bool any_uid);

// The TCP connection's key (local, peer), for a namespace lock's
// exemption; nullopt for a unix socket.
std::optional<ConnectionKey> TcpKey(BorrowedFd fd);

}  // namespace soccr::migrate

#endif  // SOCCR_MIGRATE_ENDPOINT_H_
