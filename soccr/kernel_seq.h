// soccr/kernel_seq.h: ConnectionState's sequence numbers and the kernel's.
//
// The kernel's rcv_nxt and write_seq (what TCP_QUEUE_SEQ reads, and what
// libsoccr's libsoccr_sk_data holds) count a FIN as one byte of sequence
// space; ConnectionState's inq_seq and outq_seq end the data and do not.
// Which FINs a connection has received or sent follows from its state:
//
//   uint32_t rcv_nxt = soccr::KernelInqSeq(state.state, state.inq_seq);
//   state.inq_seq = soccr::InqSeqFromKernel(state.state, rcv_nxt);
//
// The lengths (inq_len, outq_len) count data only on both sides.

#ifndef SOCCR_KERNEL_SEQ_H_
#define SOCCR_KERNEL_SEQ_H_

#include <stdint.h>

#include "soccr/tcp_state.h"

namespace soccr {

// rcv_nxt of a connection in `state` whose data ends at `inq_seq`: one
// more once the peer's FIN has arrived (CLOSE_WAIT, LAST_ACK, CLOSING).
// For CLOSE the kernel does not say: none is counted.
uint32_t KernelInqSeq(TcpState state, uint32_t inq_seq);
// write_seq of a connection in `state` whose data ends at `outq_seq`: one
// more once our FIN is queued (FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK).
uint32_t KernelOutqSeq(TcpState state, uint32_t outq_seq);

// The inverses: where the data ends, for the kernel's rcv_nxt and
// write_seq of a connection in `state` (modulo 2^32, as sequence numbers
// are).
uint32_t InqSeqFromKernel(TcpState state, uint32_t rcv_nxt);
uint32_t OutqSeqFromKernel(TcpState state, uint32_t write_seq);

}  // namespace soccr

#endif  // SOCCR_KERNEL_SEQ_H_
