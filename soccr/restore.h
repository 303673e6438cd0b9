// soccr/restore.h: recreating a TCP socket from its state.
//
//   absl::StatusOr<soccr::RestoredSocket> restored = soccr::Restore(state);
//   if (!restored.ok()) return restored.status();  // nothing left behind
//   // ... let the peer's packets through again, then:
//   absl::StatusOr<soccr::OwnedFd> fd = std::move(*restored).Resume();
//
// Restore never blocks: queue bytes go into the kernel with non-blocking
// writes into buffers sized for them beforehand, and the few packets a
// restore injects (below) are waited for within a bound of 500 ms. The
// data and FIN the original had in flight wait for Resume(), which first
// asks the peer what it has (ResumeOptions::in_flight_probe_timeout).
//
// What the repair interface cannot set, a restore makes happen. Our FIN:
// shutdown(SHUT_WR) in repair mode (the kernel takes it as sent and
// retransmits it after the resume), or on resume when it must follow data
// not sent yet. What the peer sent (its FIN, its ACK of our FIN, a reset):
// a segment injected from a raw socket to the restored socket's own
// address, with the packet mark kInjectedPacketMark (0xC114, libsoccr's
// SOCCR_MARK) so that a caller's packet filter can let it through. That
// needs CAP_NET_RAW, and the local address must be local by then.

#ifndef SOCCR_RESTORE_H_
#define SOCCR_RESTORE_H_

#include <utility>

#include "absl/base/attributes.h"
#include "absl/status/statusor.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/paused_socket.h"
#include "soccr/sys/sys.h"

namespace soccr {

// Creates a socket in repair mode and gives it `state`: addresses, sequence
// numbers, options, timestamp, window, both queues, socket options and the
// TCP state. The result is still paused; its Resume() lets traffic flow and
// queues the data the original had not sent yet (so that it leaves under the
// restored window and MSS), then our FIN if it follows that data.
//
// Per state: a connection is ESTABLISHED at once, then taken through the
// steps to its state (see above); TCP_INFO reports the checkpointed state
// once resumed (before, for a FIN that follows unsent data, the state before
// it). SYN_SENT: the initial sequence number is set now and Resume() calls
// connect() without blocking, which sends the SYN again. LISTEN: bound now
// (no repair mode), listen() on Resume(). A socket never connected: bound
// if it was (no repair mode). CLOSE after a connection: its unread data and
// pending error are back, and reads and writes fail as they did.
//
// The state is checked first (see PlanRestore): InvalidArgument names the
// inconsistent field before any socket exists; Unimplemented for TIME_WAIT,
// SYN_RECV and pending errors other than ECONNRESET and EPIPE.
// FailedPrecondition when a queue needs a bigger socket buffer than the
// process may set (the message names the sysctl to raise). Unavailable if an
// injected segment did not reach the socket in time. Otherwise the failing
// step, kernel call and errno. On any error the new socket is closed
// silently (in repair mode, or before it could send anything).
//
// Needs CAP_NET_ADMIN in the current network namespace (and CAP_NET_RAW for
// the states that inject segments). The local address need not be
// configured yet: if bind() finds it missing, the restore binds with
// IP_FREEBIND (as a migrated connection's address may arrive later) -- but
// injected segments only reach a local address.
//
// The RestoredSocket (and the PausedSocket its paused() shows) make their
// kernel calls through `sys` for as long as they live (Resume, the
// destructor's silent close): `sys` must outlive them. The default,
// LinuxSys(), lives for the whole process. `state` need not outlive the
// call: the restore keeps what it still needs.
[[nodiscard]] absl::StatusOr<RestoredSocket> Restore(
    const ConnectionState& state,
    const sys::Sys& sys ABSL_ATTRIBUTE_LIFETIME_BOUND = sys::LinuxSys());

// A new TCP socket already in repair mode, made ahead of the restore that
// will use it: creating a socket and entering repair mode are a good part
// of a restore's cost and need nothing from the state, so a migration
// makes its sockets before the connections are paused. Move-only; closing
// it sends nothing.
class FreshSocket {
 public:
  FreshSocket(FreshSocket&&) = default;
  FreshSocket& operator=(FreshSocket&&) = default;

  int family() const { return family_; }
  explicit operator bool() const { return static_cast<bool>(fd_); }

 private:
  friend absl::StatusOr<FreshSocket> MakeFreshSocket(int, const sys::Sys&);
  friend absl::Status AllowNonlocalBind(FreshSocket&, const sys::Sys&);
  friend absl::StatusOr<RestoredSocket> Restore(
      FreshSocket, const ConnectionState&,
      const sys::Sys& ABSL_ATTRIBUTE_LIFETIME_BOUND);
  FreshSocket(OwnedFd fd, int family) : fd_(std::move(fd)), family_(family) {}
  OwnedFd fd_;
  int family_ = 0;
};

// socket(family, SOCK_STREAM) and TCP_REPAIR on. InvalidArgument for a
// family other than AF_INET and AF_INET6; the failing call otherwise
// (PermissionDenied without CAP_NET_ADMIN).
[[nodiscard]] absl::StatusOr<FreshSocket> MakeFreshSocket(
    int family, const sys::Sys& sys = sys::LinuxSys());

// Lets `socket` bind an address this host does not have (yet):
// IP_TRANSPARENT (IPV6_TRANSPARENT), which a restore sets itself when its
// bind() finds the address is not local (with IP_FREEBIND for a second
// bind(), cleared again), so the restored socket ends the same, with one
// bind() instead of five calls. For a destination whose address is taken
// over after the restore: done ahead, off the downtime. Needs
// CAP_NET_ADMIN (or CAP_NET_RAW); the failing call otherwise.
[[nodiscard]] absl::Status AllowNonlocalBind(
    FreshSocket& socket, const sys::Sys& sys = sys::LinuxSys());

// Restore(state) onto `socket` instead of a new one, with the same checks
// and results; also InvalidArgument (before any call) when the state's
// family is not the socket's. On any error the socket is closed silently.
// `sys` must outlive the result, as with Restore(state).
[[nodiscard]] absl::StatusOr<RestoredSocket> Restore(
    FreshSocket socket, const ConnectionState& state,
    const sys::Sys& sys ABSL_ATTRIBUTE_LIFETIME_BOUND = sys::LinuxSys());

}  // namespace soccr

#endif  // SOCCR_RESTORE_H_
