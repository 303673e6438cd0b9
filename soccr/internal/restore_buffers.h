// soccr/internal/restore_buffers.h: making a restored socket's buffers hold
// its queues.
//
// A queue written in repair mode is charged to the socket's buffer like any
// other data, so a restore first makes sure the buffer can hold it: raised
// with SO_*BUFFORCE where the process may (CAP_NET_ADMIN in the initial user
// namespace), or with SO_*BUF within net.core.*mem_max. Where neither is
// enough it fails at once, naming the limit, instead of blocking or writing
// half a queue.

#ifndef SOCCR_INTERNAL_RESTORE_BUFFERS_H_
#define SOCCR_INTERNAL_RESTORE_BUFFERS_H_

#include <stdint.h>

#include <optional>

#include "absl/status/status.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/internal/error_context.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

enum class BufferKind { kSend, kReceive };

// Makes the send or receive buffer of `fd` at least `needed` bytes (as
// getsockopt reports it) for a queue of `queue_bytes`, and tries for
// `wanted` (>= needed; the original's size) without insisting on it. Sets
// `*raised` if it changed the buffer. FailedPrecondition naming the limit if
// `needed` is out of reach. If `size` is not null, sets it to the size the
// buffer is left at (as getsockopt reports it).
[[nodiscard]] absl::Status EnsureBuffer(const sys::Sys& sys, BorrowedFd fd,
                                        BufferKind kind, uint64_t needed,
                                        uint64_t wanted, uint64_t queue_bytes,
                                        const ErrorContext& ctx, bool* raised,
                                        std::optional<int>* size = nullptr);

// Sets the send or receive buffer of `fd` to `size` (as getsockopt reports
// it): with SO_*BUFFORCE where the process may, else with SO_*BUF, which
// the kernel clamps to net.core.*mem_max. Best effort.
void SetBufferSize(const sys::Sys& sys, BorrowedFd fd, BufferKind kind,
                   uint64_t size);

// Once a queue is in: gives the buffer its checkpointed size where the
// original had fixed it (SO_*BUF). A buffer the original left to autotuning
// keeps the size the restore gave it and autotunes from there. Best effort:
// the kernel clamps SO_*BUF rather than failing.
void ApplyFinalBuffer(const sys::Sys& sys, BorrowedFd fd, BufferKind kind,
                      const std::optional<SocketBuffers>& final_buffers);

// Sets SO_BUF_LOCK to the checkpointed lock bits (none if unknown), so that
// buffers the original left to autotuning autotune again. Best effort: the
// option exists from Linux 5.14.
// For the buffers in `callers` (SOCK_SNDBUF_LOCK 1, SOCK_RCVBUF_LOCK 2),
// which a caller sized itself, the bits come from `callers_locks` instead.
void ApplyBufferLocks(const sys::Sys& sys, BorrowedFd fd,
                      const std::optional<SocketBuffers>& final_buffers,
                      int callers = 0, int callers_locks = 0);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_RESTORE_BUFFERS_H_
