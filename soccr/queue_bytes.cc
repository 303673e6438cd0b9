#include "soccr/queue_bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "soccr/fd.h"

namespace soccr {
namespace {

// From this size on the storage comes from mmap rather than the heap, so
// that the kernel hands out pages in bulk instead of one fault per 4 KiB.
constexpr size_t kMmapThreshold = size_t{1} << 20;

// Transparent huge pages. From kHugeThreshold on, where the kernel gives
// them to regions that ask (MADV_HUGEPAGE), the storage is aligned to them
// and left unpopulated: the copy that fills it faults it in 2 MiB at a
// time, and the kernel zeroes each huge page just before the copy writes
// it, while it is still in cache. Zeroing everything up front (populating)
// and then copying costs about a third more; 4 KiB pages cost about twice
// as much (bench/README.md has the figures).
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugeThreshold = kHugePage;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

// Whether the kernel gives transparent huge pages to a region that asks
// (THP "always" or "madvise"). Read once per process.
bool HugePagesOnRequest() {
  static const bool on = [] {
    OwnedFd fd(::open("/sys/kernel/mm/transparent_hugepage/enabled",
                      O_RDONLY | O_CLOEXEC));
    if (!fd) return false;
    char buf[128] = {};
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
    if (n <= 0) return false;
    const absl::string_view mode(buf, static_cast<size_t>(n));
    return absl::StrContains(mode, "[always]") ||
           absl::StrContains(mode, "[madvise]");
  }();
  return on;
}

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

// Populates [addr, addr + len) as MAP_POPULATE would. False if out of
// memory.
bool Populate(void* addr, size_t len) {
  if (::madvise(addr, len, MADV_POPULATE_WRITE) == 0) return true;
  if (errno != EINVAL) return false;
  // A kernel before 5.14: fault the pages in by hand.
  volatile uint8_t* p = static_cast<volatile uint8_t*>(addr);
  for (size_t off = 0; off < len; off += 4096) p[off] = 0;
  return true;
}

// At least `size` bytes of zeroed memory, or nullptr (the caller falls back
// to the heap). `*mapped` is the length to unmap.
void* MapLarge(size_t size, size_t* mapped) {
  if (size < kHugeThreshold || !HugePagesOnRequest()) {
    void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (addr == MAP_FAILED) return nullptr;
    *mapped = size;
    return addr;
  }
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
  if (::madvise(addr, len, MADV_HUGEPAGE) != 0 && !Populate(addr, len)) {
    ::munmap(addr, len);
    return nullptr;
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
    size_t mapped = 0;
    if (void* addr = MapLarge(size, &mapped); addr != nullptr) {
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
  return a.size_ == b.size_ && (a.data_ == b.data_ || a.size_ == 0 ||
                                memcmp(a.data_, b.data_, a.size_) == 0);
}

}  // namespace soccr
