// soccr/paused_socket.h: TCP sockets in repair mode, as move-only handles.
//
// A PausedSocket is the only way to reach the operations that need repair
// mode, and the only way to get one is to pause a socket (or restore one):
//
//   absl::StatusOr<soccr::PausedSocket> paused =
//       soccr::PausedSocket::Pause(soccr::BorrowedFd(fd));
//   if (!paused.ok()) return paused.status();  // the socket is untouched
//   absl::StatusOr<soccr::ConnectionState> state = soccr::Checkpoint(*paused);
//   if (!state.ok()) return state.status();  // dropping `paused` resumes
//   std::move(*paused).LeaveInRepairMode();  // to migrate: closing `fd`
//   ::close(fd);                             // now sends nothing
//
//   absl::StatusOr<soccr::RestoredSocket> restored = soccr::Restore(*state);
//   if (!restored.ok()) return restored.status();
//   absl::StatusOr<soccr::OwnedFd> live = std::move(*restored).Resume();
//
// Ownership: a PausedSocket borrows its descriptor (the caller keeps it open
// while the handle lives); a RestoredSocket owns the descriptor it created.
//
// Every TCP socket a descriptor can show pauses the same way, so that a
// caller checkpointing a whole process need not tell them apart: a
// connection in any state (ESTABLISHED, half-closed, SYN_SENT, CLOSE after
// a reset), a socket never connected, and a listener. The kernel refuses
// repair mode to listeners (and they need none: no sequence numbers, no
// queues of their own), so a listener's PausedSocket holds it as it is,
// without repair mode, and its resume does nothing.
//
// Dropping a PausedSocket takes its socket out of repair mode, so the
// connection carries on. Dropping a RestoredSocket closes its socket still
// in repair mode, so nothing reaches the peer: a restore that is abandoned
// never disturbs the connection it was recreating.
//
// Thread-safety: a handle may move between threads but is not for
// concurrent use. Handles of different sockets are independent.

#ifndef SOCCR_PAUSED_SOCKET_H_
#define SOCCR_PAUSED_SOCKET_H_

#include <memory>
#include <optional>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "soccr/fd.h"
#include "soccr/sys/sys.h"

namespace soccr {

namespace internal {
struct PendingResume;
struct PausedSocketAccess;
}  // namespace internal

struct ResumeOptions {
  // Leave repair mode with TCP_REPAIR_OFF, which sends the peer a window
  // probe (its answer acknowledges what it has and resumes the flow at
  // once). false: TCP_REPAIR_OFF_NO_WP, silently, and no in-flight probe
  // either: nothing is sent to the peer before the application sends.
  bool window_probe = true;

  // A restored connection that had data or its FIN in flight asks the peer,
  // before leaving repair mode, how much of it arrived (one probe segment
  // from a raw socket, its answer captured by another; without CAP_NET_RAW
  // the resume takes the plain path),
  // and sends what the peer lacks at once, as new data, followed by the
  // FIN. Without this (or without an answer) that data waits for the
  // retransmission timer of a socket with no RTT estimate: 1 s with SACK,
  // 3 s without, up to 10 s and more in the FIN states. Resume() waits at
  // most this long for the answer (on loopback and veth it comes within
  // about 0.3 ms) and then falls back to that plain path; nothing is lost
  // or duplicated either way. The peer's packets must be let through by
  // then (lift the migration's lock before resuming). Zero: no probe.
  absl::Duration in_flight_probe_timeout = absl::Milliseconds(50);
};

// A socket in repair mode that the caller owns. See the file comment.
class PausedSocket {
 public:
  // Puts the TCP socket `fd` into repair mode (setsockopt TCP_REPAIR), or,
  // for a listening socket, holds it as it is. The caller must keep `fd`
  // open while the result lives and should stop the peer's packets from
  // reaching it first (as with libsoccr_pause).
  //
  // Leaving repair mode clears SO_REUSEADDR (a kernel quirk), so Pause()
  // reads it first and the resume sets it again.
  //
  // Errors: PermissionDenied without CAP_NET_ADMIN in the socket's network
  // namespace (listeners need none); InvalidArgument if `fd` is not a TCP
  // socket; Unimplemented for an MPTCP socket (the kernel has no repair
  // mode for MPTCP). On error the socket is as it was.
  //
  // The PausedSocket makes its kernel calls through `sys` for as long as it
  // lives (Checkpoint, Resume, its destructor): `sys` must outlive it, as
  // `fd` must. The default, LinuxSys(), lives for the whole process.
  [[nodiscard]] static absl::StatusOr<PausedSocket> Pause(
      BorrowedFd fd,
      const sys::Sys& sys ABSL_ATTRIBUTE_LIFETIME_BOUND = sys::LinuxSys());
  // The same with SO_REUSEADDR read before (ReadAhead()), not read again:
  // only while nothing can have changed it (the socket's owner stopped).
  [[nodiscard]] static absl::StatusOr<PausedSocket> Pause(
      BorrowedFd fd, int reuse_addr_read_ahead,
      const sys::Sys& sys ABSL_ATTRIBUTE_LIFETIME_BOUND = sys::LinuxSys());

  PausedSocket(PausedSocket&& other) noexcept;
  PausedSocket& operator=(PausedSocket&& other) noexcept;
  PausedSocket(const PausedSocket&) = delete;
  PausedSocket& operator=(const PausedSocket&) = delete;
  // Takes the socket out of repair mode (with a window probe), unless it
  // was resumed or left in repair mode already.
  ~PausedSocket();

  BorrowedFd fd() const { return fd_; }
  const sys::Sys& sys() const { return *sys_; }
  // False for a listener, which is held without repair mode (and for a
  // restored listening or unconnected socket).
  bool in_repair_mode() const { return repair_; }

  // Takes the socket out of repair mode: traffic may flow again. On error
  // the socket is still paused and `*this` still holds it.
  [[nodiscard]] absl::Status Resume(const ResumeOptions& options = {}) &&;

  // Gives up the handle and leaves the socket in repair mode for good:
  // closing it then sends neither FIN nor RST (to migrate a connection). A
  // listener, never in repair mode, is simply let go: closing it sends
  // nothing either, as a checkpoint succeeds only when its accept queue is
  // empty. A restored socket first gets the data and FIN it held in flight
  // back (as sent and unacknowledged), as the original had them.
  void LeaveInRepairMode() && {
    PutBackInFlight();
    Disarm();
  }

  // Gives up the handle and drops the connection without a packet to the
  // peer: connect(AF_UNSPEC), which in repair mode makes the kernel forget
  // the connection and send neither FIN nor RST, then repair mode off
  // without a window probe. The socket's owner keeps an open descriptor of
  // a closed socket (its next read or write fails), and the connection's
  // addresses are free at once, for a restore in the same namespace. A
  // listener stops listening. A socket never connected would lose its
  // bound address: let it go with LeaveInRepairMode() instead.
  //
  // Errors: FailedPrecondition if the handle holds no socket; the failed
  // connect(AF_UNSPEC), after which the socket stays in repair mode
  // (closing it sends nothing). The handle is given up either way. Where
  // the kernel lacks TCP_REPAIR_OFF_NO_WP (before Linux 4.14) the socket
  // stays in repair mode, just as silent.
  [[nodiscard]] absl::Status DisconnectSilently() &&;

 private:
  friend class RestoredSocket;
  friend struct internal::PausedSocketAccess;

  PausedSocket(BorrowedFd fd, const sys::Sys* sys,
               std::unique_ptr<internal::PendingResume> pending, bool repair,
               int reuse_addr);
  absl::Status ResumeImpl(const ResumeOptions& options);
  // ResumeImpl's two halves around leaving repair mode, so that a batch
  // can leave it for many sockets at once: the in-flight probe and the mode
  // to leave with (nullopt: the socket is not in repair mode), then, once
  // it was left, SO_REUSEADDR and the pending work.
  absl::StatusOr<std::optional<sys::RepairMode>> PrepareRepairOff(
      const ResumeOptions& options);
  absl::Status FinishResume();
  // Stops the destructor from touching the socket.
  void Disarm();
  // Best effort: writes what a restore held in flight into the socket, as
  // sent, so that a socket let go in repair mode holds all of it.
  void PutBackInFlight();
  // Best-effort repair off, for the destructor and move-assignment.
  void ReleaseRepair();

  BorrowedFd fd_;
  const sys::Sys* sys_ = nullptr;
  std::unique_ptr<internal::PendingResume> pending_;
  // Whether the socket is in repair mode because of this handle.
  bool repair_ = true;
  // SO_REUSEADDR from before repair mode, to set again after it.
  int reuse_addr_ = 0;
};

// A socket Restore() created, still in repair mode, owned by this handle.
class RestoredSocket {
 public:
  RestoredSocket(RestoredSocket&&) noexcept = default;
  RestoredSocket& operator=(RestoredSocket&& other) noexcept;
  RestoredSocket(const RestoredSocket&) = delete;
  RestoredSocket& operator=(const RestoredSocket&) = delete;
  // Closes the socket still in repair mode: nothing reaches the peer.
  ~RestoredSocket();

  BorrowedFd fd() const { return fd_.borrow(); }
  // For Checkpoint(): a restored socket can be checkpointed again before it
  // is resumed.
  const PausedSocket& paused() const { return paused_; }

  // Leaves repair mode, queues the data the original had not sent yet,
  // takes the last steps to the checkpointed state (our FIN after that
  // data; connect() for SYN_SENT, which sends the SYN without waiting for
  // the answer; listen() for a listener), and hands over the live socket.
  // Data and our FIN that were in flight: first, still in repair mode, the
  // peer is asked what it has (see ResumeOptions::in_flight_probe_timeout,
  // the most this waits for the answer, plus at most 500 ms for each
  // segment injected locally: the peer's ACK, and in CLOSING its FIN before
  // that; the bound matters only where a filter drops them); what it lacks
  // is sent at once. The state may then already be past the checkpointed one
  // (the peer had our FIN: FIN_WAIT2, TIME_WAIT or CLOSE). On error the socket
  // is back in repair mode (if it was in it) and
  // `*this` still owns it, with what is left to do: drop it to close it
  // silently, or retry.
  [[nodiscard]] absl::StatusOr<OwnedFd> Resume(
      const ResumeOptions& options = {}) &&;

  // Hands over the socket still in repair mode, with the data and FIN that
  // were in flight back in it as sent. Unsent data the restore was holding
  // is discarded; closing the result sends nothing.
  [[nodiscard]] OwnedFd ReleaseInRepairMode() &&;

 private:
  friend struct internal::PausedSocketAccess;
  RestoredSocket(OwnedFd fd, PausedSocket paused);

  OwnedFd fd_;  // Declared first: destroyed after `paused_`.
  PausedSocket paused_;
};

}  // namespace soccr

#endif  // SOCCR_PAUSED_SOCKET_H_
