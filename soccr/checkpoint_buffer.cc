#include "soccr/checkpoint_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <utility>

namespace soccr {

// One anonymous mapping, unmapped when the buffer and every QueueBytes
// carved from it are gone.
struct CheckpointBuffer::Chunk {
  Chunk(uint8_t* data, size_t size) : data(data), size(size) {}
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;
  ~Chunk() { ::munmap(data, size); }

  uint8_t* const data;
  const size_t size;
};

namespace {

// Allocations start on a cache line, so that copies into them run aligned.
constexpr size_t kAlignment = 64;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

CheckpointBuffer::CheckpointBuffer(size_t initial_capacity) {
  if (initial_capacity > 0) NewChunk(initial_capacity);
}

CheckpointBuffer::CheckpointBuffer(AllocateFn allocate)
    : allocate_(std::move(allocate)) {}

size_t CheckpointBuffer::capacity() const {
  return chunk_ == nullptr ? 0 : chunk_->size;
}

bool CheckpointBuffer::in_use() const {
  return chunk_ != nullptr && chunk_.use_count() > 1;
}

void CheckpointBuffer::NewChunk(size_t size) {
  chunk_.reset();
  used_ = 0;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  size = RoundUp(std::max<size_t>(size, 1), page);
  // MAP_POPULATE: the kernel allocates every page now, in one call, rather
  // than one fault at a time during the copy.
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (addr == MAP_FAILED) return;  // Allocate() falls back to the heap.
  chunk_ = std::make_shared<Chunk>(static_cast<uint8_t*>(addr), size);
}

void CheckpointBuffer::Prepare(size_t total) {
  if (allocate_) return;
  if (chunk_ != nullptr && chunk_.use_count() == 1) {
    // Nothing refers to the memory any more: all of it is free. The fence
    // orders our coming writes after the last reader's release of it.
    std::atomic_thread_fence(std::memory_order_acquire);
    used_ = 0;
  }
  const size_t room = chunk_ == nullptr ? 0 : chunk_->size - used_;
  // Worst-case alignment padding of two allocations.
  const size_t need = total + 2 * kAlignment;
  if (room >= need) return;
  NewChunk(std::max(need, capacity()));
}

QueueBytes CheckpointBuffer::Allocate(size_t size, uint8_t** writable) {
  *writable = nullptr;
  if (size == 0) return QueueBytes();
  if (allocate_) return allocate_(size, writable);
  if (chunk_ != nullptr && chunk_.use_count() == 1) {
    std::atomic_thread_fence(std::memory_order_acquire);
    used_ = 0;
  }
  const size_t start = RoundUp(used_, kAlignment);
  if (chunk_ == nullptr || start > chunk_->size ||
      chunk_->size - start < size) {
    return QueueBytes::Allocate(size, writable);
  }
  used_ = start + size;
  *writable = chunk_->data + start;
  return QueueBytes::View(absl::Span<const uint8_t>(*writable, size), chunk_);
}

}  // namespace soccr
