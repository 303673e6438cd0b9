#include "soccr/kernel_seq.h"

#include "soccr/internal/fin_accounting.h"

namespace soccr {

uint32_t KernelInqSeq(TcpState state, uint32_t inq_seq) {
  return inq_seq + (internal::PeerFinReceived(state) ? 1 : 0);
}

uint32_t KernelOutqSeq(TcpState state, uint32_t outq_seq) {
  return outq_seq + (internal::OurFinQueued(state) ? 1 : 0);
}

uint32_t InqSeqFromKernel(TcpState state, uint32_t rcv_nxt) {
  return rcv_nxt - (internal::PeerFinReceived(state) ? 1 : 0);
}

uint32_t OutqSeqFromKernel(TcpState state, uint32_t write_seq) {
  return write_seq - (internal::OurFinQueued(state) ? 1 : 0);
}

}  // namespace soccr
