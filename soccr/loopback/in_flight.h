// soccr/loopback/in_flight.h: connections checkpointed with data (and our
// FIN) in flight, in each of the three ways a migration leaves them: the
// peer got none of it, all of it (only its ACKs were lost), or a prefix.
//
//   absl::StatusOr<InFlightConnection> c = MakeInFlight(
//       {.family = Family::kV4, .state = TcpState::kFinWait1,
//        .peer_has = PeerHas::kPrefix, .bytes = 256 << 10});
//   absl::StatusOr<RestoredSocket> r = Restore(c->state);
//   // ... c->ReleasePeer(), then Resume(): the server must read exactly
//   // c->to_server, then (FIN states) end-of-file.
//
// The states are real: the client of a loopback pair is brought into the
// TCP state with everything it wrote acknowledged, or with its FIN in flight
// (dropped by a socket filter at the server, or the server's ACK of it
// dropped at the client), and checkpointed. The in-flight data is then made
// exact by editing that checkpoint: bytes appended as sent that the server
// never got, or the last bytes the server already acknowledged re-added as
// sent and unacknowledged. Call from inside a private network namespace.

#ifndef SOCCR_LOOPBACK_IN_FLIGHT_H_
#define SOCCR_LOOPBACK_IN_FLIGHT_H_

#include <stddef.h>

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/tcp_state.h"

namespace soccr::loopback {

// How much of the in-flight data (and FIN) the peer really has.
enum class PeerHas { kNone, kAll, kPrefix };

// "none", "all", "prefix": for test names.
std::string PeerHasName(PeerHas p);

struct InFlightSpec {
  Family family = Family::kV4;
  // kEstablished, kFinWait1, kClosing or kLastAck.
  TcpState state = TcpState::kEstablished;
  PeerHas peer_has = PeerHas::kNone;
  // Bytes sent and unacknowledged in the checkpoint (kPrefix: the peer has
  // the first half). 0: only the FIN is in flight (FIN states).
  size_t bytes = 64 << 10;
  // How the pair is connected; by default ConnectedPair(family), over
  // loopback. The checkpoint and everything after it happen in the calling
  // thread's network namespace, which must be the client's.
  std::function<absl::StatusOr<TcpPair>()> connect;
};

struct InFlightConnection {
  // The client was checkpointed and closed in repair mode; `server` is the
  // peer, which has read everything it received before the checkpoint.
  OwnedFd server;
  // The client's checkpoint, edited to hold `spec.bytes` in flight.
  ConnectionState state;
  // What the server must read after the restored client resumes, in order,
  // exactly once; then end-of-file in the FIN states.
  std::string to_server;
  // Whether our FIN is in flight (the FIN states).
  bool fin = false;

  // Lets the peer receive our FIN again (removes its socket filter), as a
  // migration's lock is lifted: call after Restore(), before Resume().
  [[nodiscard]] absl::Status ReleasePeer();

  bool server_drops_fin = false;
};

// Builds the connection `spec` describes. InvalidArgument for a state
// other than the four above.
[[nodiscard]] absl::StatusOr<InFlightConnection> MakeInFlight(
    const InFlightSpec& spec);

}  // namespace soccr::loopback

#endif  // SOCCR_LOOPBACK_IN_FLIGHT_H_
