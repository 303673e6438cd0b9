// soccr/checkpoint_buffer.h: memory that checkpoints copy queue bytes into,
// reused from one checkpoint to the next.
//
//   soccr::CheckpointBuffer buffer(64 << 20);  // pages faulted in once, here
//   soccr::CheckpointOptions options;
//   options.buffer = &buffer;
//   for (const soccr::PausedSocket& paused : sockets) {
//     absl::StatusOr<soccr::ConnectionState> s =
//         soccr::Checkpoint(paused, options);
//     // ... write the image, then drop `s`: its memory is free again
//   }
//
// Why: copying a queue into freshly allocated memory costs a page fault and
// the kernel zeroing a page for every 4 KiB, which is more than the copy
// itself. Memory that has been touched once costs neither.
//
// Safety: QueueBytes are immutable, so the buffer never reuses memory that a
// QueueBytes still refers to. While the queues of an earlier checkpoint are
// alive, the next checkpoint gets new memory (and the old memory lives as
// long as those queues do); once they are all gone, it is reused.
//
// Thread-safety: one checkpoint at a time per buffer. The QueueBytes it hands
// out may go to any thread.

#ifndef SOCCR_CHECKPOINT_BUFFER_H_
#define SOCCR_CHECKPOINT_BUFFER_H_

#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <memory>

#include "soccr/queue_bytes.h"

namespace soccr {

class CheckpointBuffer {
 public:
  // Starts with `initial_capacity` bytes, faulted in at once (0: none; the
  // first checkpoint sizes it).
  explicit CheckpointBuffer(size_t initial_capacity = 0);

  // Memory from somewhere else: every allocation is `allocate(size,
  // writable)`, which returns `size` writable bytes at `*writable` as a
  // QueueBytes that owns them (the C API puts queues straight into the
  // malloc() memory it hands its callers). Prepare() does nothing then, and
  // capacity() is 0.
  using AllocateFn = std::function<QueueBytes(size_t size, uint8_t** writable)>;
  explicit CheckpointBuffer(AllocateFn allocate);
  CheckpointBuffer(CheckpointBuffer&&) noexcept = default;
  CheckpointBuffer& operator=(CheckpointBuffer&&) noexcept = default;
  CheckpointBuffer(const CheckpointBuffer&) = delete;
  CheckpointBuffer& operator=(const CheckpointBuffer&) = delete;
  ~CheckpointBuffer() = default;

  // Bytes of the memory the next allocations come from.
  size_t capacity() const;
  // Whether some QueueBytes still refers to that memory.
  bool in_use() const;

  // Readies the buffer for allocations of `total` bytes in all (a
  // checkpoint calls it once with the sum of both queues): reuses the
  // current memory if nothing refers to it and it is large enough, and
  // otherwise moves on to new memory of at least `total` bytes.
  void Prepare(size_t total);

  // `size` bytes of the buffer, uninitialized; `*writable` points at them
  // and the caller fills them before sharing the result. Falls back to
  // QueueBytes::Allocate when the buffer has no room left (Prepare() was
  // not called for them, or mapping memory failed).
  QueueBytes Allocate(size_t size, uint8_t** writable);

 private:
  struct Chunk;
  // Replaces the current memory with a new mapping of at least `size`.
  void NewChunk(size_t size);

  std::shared_ptr<Chunk> chunk_;
  size_t used_ = 0;
  AllocateFn allocate_;
};

}  // namespace soccr

#endif  // SOCCR_CHECKPOINT_BUFFER_H_
