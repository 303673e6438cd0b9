#include "soccr/tcp_state.h"

namespace soccr {

bool IsKnownTcpState(uint32_t value) {
  return value >= static_cast<uint32_t>(TcpState::kEstablished) &&
         value <= static_cast<uint32_t>(TcpState::kNewSynRecv);
}

absl::string_view TcpStateName(TcpState state) {
  switch (state) {
    case TcpState::kEstablished:
      return "ESTABLISHED";
    case TcpState::kSynSent:
      return "SYN_SENT";
    case TcpState::kSynRecv:
      return "SYN_RECV";
    case TcpState::kFinWait1:
      return "FIN_WAIT1";
    case TcpState::kFinWait2:
      return "FIN_WAIT2";
    case TcpState::kTimeWait:
      return "TIME_WAIT";
    case TcpState::kClose:
      return "CLOSE";
    case TcpState::kCloseWait:
      return "CLOSE_WAIT";
    case TcpState::kLastAck:
      return "LAST_ACK";
    case TcpState::kListen:
      return "LISTEN";
    case TcpState::kClosing:
      return "CLOSING";
    case TcpState::kNewSynRecv:
      return "NEW_SYN_RECV";
  }
  return "UNKNOWN";
}

}  // namespace soccr
