#include "soccr/queue_bytes.h"

#include <string.h>
#include <sys/mman.h>

#include <algorithm>

namespace soccr {
namespace {

// Above this size the storage comes from mmap(MAP_POPULATE): the kernel
// allocates and zeroes all pages in one call instead of taking one page fault
// per 4 KiB page while the queue is copied in.
constexpr size_t kMmapThreshold = size_t{1} << 20;

class MmapRegion {
 public:
  MmapRegion(void* addr, size_t size) : addr_(addr), size_(size) {}
  MmapRegion(const MmapRegion&) = delete;
  MmapRegion& operator=(const MmapRegion&) = delete;
  ~MmapRegion() { ::munmap(addr_, size_); }

 private:
  void* addr_;
  size_t size_;
};

}  // namespace

QueueBytes QueueBytes::Copy(absl::Span<const uint8_t> data) {
  uint8_t* out = nullptr;
  QueueBytes q = Allocate(data.size(), &out);
  if (!data.empty()) memcpy(out, data.data(), data.size());
  return q;
}

QueueBytes QueueBytes::Copy(absl::string_view data) {
  return Copy(absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

QueueBytes QueueBytes::View(absl::Span<const uint8_t> data,
                            std::shared_ptr<const void> owner) {
  QueueBytes q;
  q.owner_ = std::move(owner);
  q.data_ = data.data();
  q.size_ = data.size();
  return q;
}

QueueBytes QueueBytes::Allocate(size_t size, uint8_t** writable) {
  QueueBytes q;
  *writable = nullptr;
  if (size == 0) return q;
  if (size >= kMmapThreshold) {
    void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (addr != MAP_FAILED) {
      auto region = std::make_shared<MmapRegion>(addr, size);
      *writable = static_cast<uint8_t*>(addr);
      q.owner_ = std::move(region);
      q.data_ = *writable;
      q.size_ = size;
      return q;
    }
    // Fall through to the heap, which reports exhaustion the usual way.
  }
  std::shared_ptr<uint8_t[]> heap(new uint8_t[size]);
  *writable = heap.get();
  q.data_ = heap.get();
  q.size_ = size;
  q.owner_ = std::move(heap);
  return q;
}

QueueBytes QueueBytes::Subrange(size_t offset, size_t length) const {
  QueueBytes q;
  offset = std::min(offset, size_);
  q.owner_ = owner_;
  q.data_ = data_ == nullptr ? nullptr : data_ + offset;
  q.size_ = std::min(length, size_ - offset);
  return q;
}

bool operator==(const QueueBytes& a, const QueueBytes& b) {
  return a.size_ == b.size_ &&
         (a.data_ == b.data_ || a.size_ == 0 ||
          memcmp(a.data_, b.data_, a.size_) == 0);
}

}  // namespace soccr
