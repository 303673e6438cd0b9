// soccr/repair_helper/server.h: the privileged side of the repair helper.
//
// Runs with CAP_NET_ADMIN on behalf of whoever reaches it, so it trusts
// nothing it is handed: a peer it may not serve is turned away, a request
// that is not exactly a valid one (protocol.h) is refused, and every
// descriptor must be a TCP socket (not listening) of the helper's own
// network namespace. A refusal closes the connection and every descriptor
// the request carried; a success replies with the command byte. The helper
// keeps nothing from one request to the next.
//
//   soccr::repair_helper::Policy policy;
//   policy.allowed_uids = {getuid()};
//   absl::Status s = soccr::repair_helper::ListenAndServe(path, policy, log,
//                                                        stop);
//
// Blocking: the serving loops wait in poll() for at most the idle timeout
// per connection; a request's own work is a few getsockopt/setsockopt calls
// per socket and never waits.

#ifndef SOCCR_REPAIR_HELPER_SERVER_H_
#define SOCCR_REPAIR_HELPER_SERVER_H_

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "soccr/fd.h"

namespace soccr::repair_helper {

// A network namespace, as fstat() of its nsfs file identifies it.
struct NetnsId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const NetnsId& o) const {
    return dev == o.dev && ino == o.ino;
  }
};

// The namespace of the calling thread (/proc/thread-self/ns/net).
absl::StatusOr<NetnsId> CurrentNetns();

// Whom the helper serves and how long it waits.
struct Policy {
  // Peers (by SO_PEERCRED uid) the helper acts for. Empty: nobody.
  std::vector<uid_t> allowed_uids;
  // The only network namespace whose sockets are served (normally the
  // helper's own, CurrentNetns()), unless `any_netns`: then every namespace
  // the helper holds CAP_NET_ADMIN in.
  NetnsId netns;
  bool any_netns = false;
  // A connection with no request for this long is closed.
  absl::Duration idle_timeout = absl::Seconds(60);
};

// Where a serving loop's log lines go (one line each, no newline).
using LogFn = std::function<void(absl::string_view)>;

// Whether the peer of the unix socket `conn` may be served (SO_PEERCRED).
// PermissionDenied names its pid and uid when it may not.
absl::Status CheckPeer(BorrowedFd conn, const Policy& policy);

// Whether `fd` may be switched: a TCP socket (SO_DOMAIN AF_INET/AF_INET6,
// SO_TYPE SOCK_STREAM, SO_PROTOCOL IPPROTO_TCP), not listening
// (SO_ACCEPTCONN), in the policy's network namespace (SIOCGSKNS).
// InvalidArgument or PermissionDenied saying which check failed.
absl::Status CheckSocket(BorrowedFd fd, const Policy& policy);

// Reads one request from `conn` (without waiting: call it once poll() says
// `conn` is readable), checks it and every socket, switches them all and
// replies. True: served; false: the peer closed the connection. An error:
// the request was refused or failed, and the caller must close `conn`.
// Either way every descriptor received has been closed.
absl::StatusOr<bool> ServeOneRequest(BorrowedFd conn, const Policy& policy);

// Serves `conn` until its peer closes it (Ok), a request is refused or
// fails, or it stays idle for policy.idle_timeout (DeadlineExceeded).
absl::Status ServeConnection(BorrowedFd conn, const Policy& policy);

// passt-repair's direction: connects to the program listening on the unix
// socket `path`, checks its credentials, and serves the connection. An
// empty policy.allowed_uids means the owner of `path`.
absl::Status ConnectAndServe(const std::string& path, Policy policy);

// The service: listens on `path` (which must not exist, or be a stale
// socket nobody listens on), serves each client that connects on its own
// connection, and returns when `stop` becomes true (checked at least once a
// second), removing `path`. An empty policy.allowed_uids means the
// helper's own effective uid, the owner of the socket file.
absl::Status ListenAndServe(const std::string& path, Policy policy,
                            const LogFn& log, const std::atomic<bool>& stop);

}  // namespace soccr::repair_helper

#endif  // SOCCR_REPAIR_HELPER_SERVER_H_
