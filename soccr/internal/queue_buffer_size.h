// soccr/internal/queue_buffer_size.h: how big a socket buffer must be to
// hold a queue written in repair mode.
//
// The kernel charges a queue to the socket's buffer skb by skb, each with
// its bookkeeping, so the buffer a queue needs depends on how the bytes are
// cut into skbs. PlanRestore() sizes a restored socket's buffers with this:
//
//   plan.min_rcvbuf = internal::BufferSizeForQueue(state.inq_len);

#ifndef SOCCR_INTERNAL_QUEUE_BUFFER_SIZE_H_
#define SOCCR_INTERNAL_QUEUE_BUFFER_SIZE_H_

#include <stdint.h>

#include <optional>

#include "soccr/connection_state.h"

namespace soccr::internal {

// The socket buffer size (as getsockopt reports it) that holds `bytes` of
// queue in skbs carrying about `skb_payload` bytes each, with room for the
// kernel's per-skb bookkeeping. The default fits a receive queue written in
// repair mode (up to 17 pages per skb).
uint64_t BufferSizeForQueue(uint64_t bytes, uint64_t skb_payload = 16384);
// The send buffer that holds a send queue of `sent` bytes written in repair
// mode and `unsent` bytes written on resume, under `window` (small windows
// mean small skbs, each with the same bookkeeping).
uint64_t SendBufferSizeForQueue(uint64_t sent, uint64_t unsent,
                                const std::optional<TcpWindow>& window);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_QUEUE_BUFFER_SIZE_H_
