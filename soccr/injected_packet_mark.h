// soccr/injected_packet_mark.h: the packet mark of the segments a restore
// injects.
//
// A restore makes the peer's FIN, its ACK of our FIN or its reset happen
// by injecting them from a raw socket (soccr/restore.h). A caller that
// blocks a connection's traffic while it migrates must let packets with
// this mark through, for example with an nftables rule:
//
//   // meta mark 0xC114 accept
//   uint32_t mark = soccr::kInjectedPacketMark;

#ifndef SOCCR_INJECTED_PACKET_MARK_H_
#define SOCCR_INJECTED_PACKET_MARK_H_

#include <stdint.h>

namespace soccr {

// kInjectedPacketMark: the SO_MARK of every segment a restore injects as
// if the peer had sent it. libsoccr's SOCCR_MARK, the same value.
inline constexpr uint32_t kInjectedPacketMark = 0xC114;

}  // namespace soccr

#endif  // SOCCR_INJECTED_PACKET_MARK_H_
