// soccr/tcp_state.h: the kernel's TCP states.

#ifndef SOCCR_TCP_STATE_H_
#define SOCCR_TCP_STATE_H_

#include <stdint.h>

#include "absl/strings/string_view.h"

namespace soccr {

// The kernel's TCP states, with the kernel's numbers (include/net/tcp_states.h,
// as reported in tcp_info.tcpi_state).
enum class TcpState : uint8_t {
  kEstablished = 1,
  kSynSent = 2,
  kSynRecv = 3,
  kFinWait1 = 4,
  kFinWait2 = 5,
  kTimeWait = 6,
  kClose = 7,
  kCloseWait = 8,
  kLastAck = 9,
  kListen = 10,
  kClosing = 11,
  kNewSynRecv = 12,
};

// Whether `value` is one of the kernel's TCP state numbers.
bool IsKnownTcpState(uint32_t value);

// "ESTABLISHED", "FIN_WAIT1", ...; "UNKNOWN(42)" for anything else.
absl::string_view TcpStateName(TcpState state);

}  // namespace soccr

#endif  // SOCCR_TCP_STATE_H_
