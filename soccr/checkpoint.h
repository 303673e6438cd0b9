// soccr/checkpoint.h: saving the state of a paused TCP connection.
//
//   absl::StatusOr<soccr::PausedSocket> paused =
//       soccr::PausedSocket::Pause(soccr::BorrowedFd(fd));
//   if (!paused.ok()) return paused.status();
//   absl::StatusOr<soccr::ConnectionState> state = soccr::Checkpoint(*paused);
//
// A checkpoint only reads: whatever happens, the socket is as it was, and
// resuming it (or dropping the PausedSocket) lets the connection carry on.
// (One exception, see Checkpoint(): a closed connection's pending error.)
//
// Every TCP socket a descriptor can show is saved the same way: connections
// in ESTABLISHED, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING,
// SYN_SENT and CLOSE (ended, with data maybe still unread), listeners, and
// sockets never connected. soccr/connection_state.h says what each state
// keeps; docs/tcp-states.md how each is restored.

#ifndef SOCCR_CHECKPOINT_H_
#define SOCCR_CHECKPOINT_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "soccr/checkpoint_buffer.h"
#include "soccr/connection_state.h"
#include "soccr/paused_socket.h"
#include "soccr/sock_diag_session.h"
#include "soccr/sys/sys.h"

namespace soccr {

struct ReadAheadState;

struct CheckpointOptions {
  // Also save socket options (soccr/socket_options.h) and buffer sizes.
  // Costs a getsockopt per option; off gives exactly libsoccr's state.
  bool socket_options = true;
  // Memory to copy the queues into, reused across checkpoints (see
  // soccr/checkpoint_buffer.h); not owned, and used by one checkpoint at a
  // time. nullptr: fresh memory for every checkpoint.
  CheckpointBuffer* buffer = nullptr;
  // Refuse what a restore cannot carry (TCP-MD5 or TCP-AO keys, an
  // upper-layer protocol such as kTLS; see Checkpoint()). false only when
  // the caller has run CheckCarriable() on the socket itself and nothing
  // can have added keys or a protocol since (its owner stopped): a
  // migration runs those checks before its downtime, not in it.
  bool check_carriable = true;
  // With socket_options: the option table's values as ReadSocketOptions()
  // read them from this socket earlier, taken instead of reading them again
  // (the buffer sizes, which the kernel changes by itself, are read all the
  // same). Only when nothing can have changed an option since (its owner
  // stopped): a migration reads them before its downtime, not in it. Not
  // owned; nullptr: read them now.
  const std::vector<SocketOption>* socket_options_read_ahead = nullptr;
  // More read ahead (ReadAhead(), same condition): the option values (in
  // place of socket_options_read_ahead), the addresses (taken while the
  // connection is still connected; a checkpoint that finds it closed, by a
  // reset say, or never connected, reads them again) and the buffer locks.
  // Pause the socket with its reuse_addr too. Not owned; nullptr: read now.
  const ReadAheadState* read_ahead = nullptr;
  // The netlink socket for the checkpoint's sock_diag question, kept by a
  // caller that checkpoints connections one after another
  // (soccr/sock_diag_session.h): opening and closing one for every
  // checkpoint costs more than the question itself. Not owned; a session in
  // use by another thread's checkpoint is not waited for (this one opens
  // its own). nullptr: a netlink socket of the checkpoint's own.
  SockDiagSession* sock_diag = nullptr;
};

// What a checkpoint of a socket whose owner is stopped can read before the
// pause, because only the owner could change it (ReadAhead()).
struct ReadAheadState {
  // The option table's values, as ReadSocketOptions() returns them.
  std::vector<SocketOption> socket_options;
  // getsockname() and getpeername() (peer empty: not connected).
  SocketAddress local, peer;
  // SO_REUSEADDR outside repair mode, for PausedSocket::Pause.
  int reuse_addr = 0;
  // SO_BUF_LOCK (which buffer sizes the application fixed); nullopt on a
  // kernel without it. The sizes themselves the kernel tunes: a checkpoint
  // reads them all the same.
  std::optional<int> buffer_locks;
  // SO_COOKIE, which names the socket for as long as it exists: the
  // checkpoint's sock_diag question carries it. nullopt if the kernel would
  // not say (the checkpoint then asks, and reports the error).
  std::optional<uint64_t> cookie;
};

// Reads a ReadAheadState from a socket that is not paused. The socket is
// only read.
[[nodiscard]] absl::StatusOr<ReadAheadState> ReadAhead(
    BorrowedFd fd, const sys::Sys& sys = sys::LinuxSys());

// The option table's values (soccr/socket_options.h) that Checkpoint()
// saves in ConnectionState::socket_options, read from a socket that is not
// paused (in repair mode SO_REUSEADDR reads as forced reuse): for
// CheckpointOptions::socket_options_read_ahead. The socket is only read.
[[nodiscard]] absl::StatusOr<std::vector<SocketOption>> ReadSocketOptions(
    BorrowedFd fd, const sys::Sys& sys = sys::LinuxSys());

// What Checkpoint() refuses of a socket whatever its state, checked alone
// and without pausing it: FailedPrecondition for a connection (or
// listener) signed with TCP-MD5 or TCP-AO keys or running an upper-layer
// protocol (kTLS), with the same message Checkpoint() gives; the failing
// kernel call otherwise. The socket is only read.
[[nodiscard]] absl::Status CheckCarriable(
    BorrowedFd fd, const sys::Sys& sys = sys::LinuxSys());

// Saves the complete state of the connection behind `socket`, both queues
// included (the queue bytes are copied once, from the kernel into fresh
// memory or into `options.buffer`). The peer's packets should be blocked
// while it runs: data that arrives meanwhile is detected (Unavailable: retry
// once it is blocked), data that arrives after it is not in the checkpoint.
//
// A closed connection (CLOSE with a peer) may hold an error it has not
// reported yet (ECONNRESET after a reset, ...). The checkpoint takes it
// from the original: state.pending_error has it, and the restored socket
// reports it instead. The kernel gives no way around that: it shows the
// error only by clearing it (SO_ERROR, a read and a write alike; sock_diag
// and TCP_INFO do not report it), and nothing can set it again on a closed
// socket (no reset or ICMP error reaches one). So after a snapshot (the
// original resumed, not closed) the original no longer reports its error:
// its reads end as if it had. Nothing else changes on the original.
//
// Errors: Unimplemented for what the kernel's repair interface cannot
// recreate (TIME_WAIT, SYN_RECV, data sent with a SYN, microsecond
// timestamps); FailedPrecondition for a listener with connections waiting
// in its accept queue (accept them first) and for a connection signed with
// TCP-MD5 or TCP-AO keys or running an upper-layer protocol (kTLS), whose
// keys and state a restore cannot carry; Unavailable if data arrived while
// it ran (block the peer's packets); the failing kernel call with
// errno otherwise. Either way the socket is untouched.
[[nodiscard]] absl::StatusOr<ConnectionState> Checkpoint(
    const PausedSocket& socket, const CheckpointOptions& options = {});

}  // namespace soccr

#endif  // SOCCR_CHECKPOINT_H_
