#include "soccr/queue_bytes.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <algorithm>

namespace soccr {
namespace {

// Above this size the storage comes from mmap, populated up front: the
// kernel allocates and zeroes all pages in one call instead of taking one
// page fault per 4 KiB page while the queue is copied in.
constexpr size_t kMmapThreshold = size_t{1} << 20;

// From this size on the storage is aligned to transparent huge pages and
// asks for them (MADV_HUGEPAGE): allocating, zeroing, mapping and freeing
// 2 MiB at a time costs about half of doing it 4 KiB at a time, which is
// most of what a checkpoint into fresh memory pays on top of the copy.
constexpr size_t kHugePage = size_t{2} << 20;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

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

// `size` bytes of zeroed, populated memory on huge-page boundaries, or
// nullptr (the caller falls back to the heap). `*mapped` is the length to
// unmap.
void* MapHugePages(size_t size, size_t* mapped) {
  const size_t len = (size + kHugePage - 1) & ~(kHugePage - 1);
  // Room to slide to a 2 MiB boundary; the slack is unmapped at once.
  void* raw = ::mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const size_t tail = start + len + kHugePage - (aligned + len);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + len), tail);
  void* addr = reinterpret_cast<void*>(aligned);
  // Without THP (disabled, or an old kernel) this fails and 4 KiB pages
  // serve as before.
  (void)::madvise(addr, len, MADV_HUGEPAGE);
  if (::madvise(addr, len, MADV_POPULATE_WRITE) != 0) {
    if (errno != EINVAL) {  // Out of memory: let the heap report it.
      ::munmap(addr, len);
      return nullptr;
    }
    // A kernel before 5.14: fault the pages in by hand, as MAP_POPULATE
    // would have.
    volatile uint8_t* p = static_cast<volatile uint8_t*>(addr);
    for (size_t off = 0; off < len; off += 4096) p[off] = 0;
  }
  *mapped = len;
  return addr;
}

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
    size_t mapped = size;
    void* addr =
        size >= kHugePage
            ? MapHugePages(size, &mapped)
            : ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (addr != nullptr && addr != MAP_FAILED) {
      auto region = std::make_shared<MmapRegion>(addr, mapped);
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
