// soccr/internal/fin_accounting.h: where FINs sit in the sequence space.
//
// The kernel's sequence numbers (rcv_nxt, write_seq, and libsoccr's, which
// are the kernel's) count a FIN as one byte; ConnectionState's inq_seq and
// outq_seq do not. Which FINs a connection has sent or received follows
// from its state alone:
//
//   state.inq_seq = rcv_nxt - (internal::PeerFinReceived(state.state) ? 1 : 0);

#ifndef SOCCR_INTERNAL_FIN_ACCOUNTING_H_
#define SOCCR_INTERNAL_FIN_ACCOUNTING_H_

#include <stdint.h>

#include "soccr/connection_state.h"
#include "soccr/tcp_state.h"

namespace soccr::internal {

// Whether a connection in `state` has queued or sent a FIN of its own
// (FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK), and whether the peer has
// acknowledged it (FIN_WAIT2).
bool OurFinQueued(TcpState state);
bool OurFinAcked(TcpState state);
// Whether a connection in `state` has received the peer's FIN (CLOSE_WAIT,
// LAST_ACK, CLOSING). For CLOSE the kernel does not say.
bool PeerFinReceived(TcpState state);

// The kernel's rcv_nxt for a connection in `s`: inq_seq, plus one for a
// received FIN.
uint32_t KernelRcvNxt(const ConnectionState& s);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_FIN_ACCOUNTING_H_
