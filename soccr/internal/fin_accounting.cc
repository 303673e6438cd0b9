#include "soccr/internal/fin_accounting.h"

namespace soccr::internal {

bool OurFinQueued(TcpState state) {
  return state == TcpState::kFinWait1 || state == TcpState::kFinWait2 ||
         state == TcpState::kClosing || state == TcpState::kLastAck;
}

bool OurFinAcked(TcpState state) { return state == TcpState::kFinWait2; }

bool PeerFinReceived(TcpState state) {
  return state == TcpState::kCloseWait || state == TcpState::kLastAck ||
         state == TcpState::kClosing;
}

uint32_t KernelRcvNxt(const ConnectionState& s) {
  return s.inq_seq + (PeerFinReceived(s.state) ? 1 : 0);
}

}  // namespace soccr::internal
