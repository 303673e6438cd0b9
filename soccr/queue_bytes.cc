#include "soccr/queue_bytes.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "soccr/internal/huge_pages.h"

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
// and then copying costs about a third more. 4 KiB pages cost far more
// in the VM the benchmarks run in: a fresh process took 290 us to get and
// write 1 MiB of them (populated in one call), 49 us for one huge page,
// and 4.6 ms against 0.4 ms for 16 MiB (bench/HISTORY.md). So from 1 MiB,
// though a buffer of 1 to 2 MiB then takes a whole huge page: at most
// twice its size, as a buffer just over a multiple of 2 MiB takes up to
// 2 MiB more.
constexpr size_t kHugeThreshold = size_t{1} << 20;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

using internal::HugePagesOnRequest;
using internal::kHugePage;

// Large storage released by its last QueueBytes, kept for the next
// Allocate of about its size instead of being unmapped (QueueBytes::
// SetReuseLimit). A fresh mapping costs the kernel allocating and zeroing
// every page (and, in a VM that hands freed memory back to its host,
// getting it back), which is more than the copy that fills it; a kept one
// costs neither. Kept regions are marked MADV_FREE: the kernel may take
// their pages back under memory pressure (a later write then faults in
// zeroed pages, as in a fresh mapping), and otherwise leaves them as they
// are. Their contents are stale bytes of this process, which Allocate's
// callers overwrite (its storage is uninitialized by contract).
//
// Fork-safe: fork() copies a mutex in whatever state it is, and a child
// forked while another thread held mu_ would wait for it forever in its
// first large Allocate or release. So mu_ is held across fork() (an
// atfork handler takes it before and gives it back after, in the parent
// and in the child): the child starts with the cache consistent and
// unlocked, holding the same kept regions (copy-on-write, like the rest of
// its memory).
class RegionCache {
 public:
  static RegionCache& Get() {
    // Never destroyed: regions may be released from other threads' exits.
    static RegionCache* const cache = new RegionCache;
    return *cache;
  }

  RegionCache() {
    // Registered once, with the cache: before the cache exists no thread
    // can hold its lock. ENOMEM is the only failure; the cache then works
    // as before, without the guarantee for fork().
    (void)::pthread_atfork([] { Get().mu_.lock(); }, [] { Get().mu_.unlock(); },
                           [] { Get().mu_.unlock(); });
  }

  // A kept region of `kind` whose length is at least `len` and at most
  // twice it (the smallest such), or nullptr.
  void* Take(size_t len, bool huge, size_t* mapped) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t best = kept_.size();
    for (size_t i = 0; i < kept_.size(); ++i) {
      const Kept& k = kept_[i];
      if (k.huge != huge || k.len < len || k.len / 2 > len) continue;
      if (best == kept_.size() || k.len < kept_[best].len) best = i;
    }
    if (best == kept_.size()) return nullptr;
    void* addr = kept_[best].addr;
    *mapped = kept_[best].len;
    bytes_ -= kept_[best].len;
    kept_.erase(kept_.begin() + static_cast<ptrdiff_t>(best));
    return addr;
  }

  // Keeps [addr, addr + len) or unmaps it; the oldest kept regions are
  // unmapped to make room.
  void Release(void* addr, size_t len, bool huge) {
    std::vector<Kept> drop;
    // MADV_FREE fails before Linux 4.5: such a kernel gets its memory back
    // at once.
    if (len > limit() || ::madvise(addr, len, MADV_FREE) != 0) {
      drop.push_back({addr, len, huge});
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      kept_.push_back({addr, len, huge});
      bytes_ += len;
      Evict(drop);
    }
    for (const Kept& k : drop) ::munmap(k.addr, k.len);
  }

  size_t SetLimit(size_t limit) {
    std::vector<Kept> drop;
    size_t old;
    {
      std::lock_guard<std::mutex> lock(mu_);
      old = limit_.exchange(limit);
      Evict(drop);
    }
    for (const Kept& k : drop) ::munmap(k.addr, k.len);
    return old;
  }

 private:
  struct Kept {
    void* addr;
    size_t len;
    bool huge;  // aligned to huge pages and asked for them
  };
  static constexpr size_t kMaxKept = 8;

  size_t limit() const { return limit_.load(std::memory_order_relaxed); }
  // Moves the oldest kept regions to `drop` until the rest fit. Holds mu_.
  void Evict(std::vector<Kept>& drop) {
    while (!kept_.empty() && (bytes_ > limit() || kept_.size() > kMaxKept)) {
      drop.push_back(kept_.front());
      bytes_ -= kept_.front().len;
      kept_.erase(kept_.begin());
    }
  }

  std::mutex mu_;
  std::vector<Kept> kept_;  // oldest first
  size_t bytes_ = 0;
  std::atomic<size_t> limit_{QueueBytes::kDefaultReuseLimit};
};

class MmapRegion {
 public:
  MmapRegion(void* addr, size_t size, bool huge)
      : addr_(addr), size_(size), huge_(huge) {}
  MmapRegion(const MmapRegion&) = delete;
  MmapRegion& operator=(const MmapRegion&) = delete;
  ~MmapRegion() { RegionCache::Get().Release(addr_, size_, huge_); }

 private:
  void* addr_;
  size_t size_;
  bool huge_;
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

// At least `size` bytes of memory, kept from an earlier release
// (uninitialized) or new (zeroed), or nullptr (the caller falls back to the
// heap). `*mapped` is the length of the region, `*huge` whether it is
// aligned to huge pages and asks for them.
void* MapLarge(size_t size, size_t* mapped, bool* huge) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  *huge = size >= kHugeThreshold && HugePagesOnRequest();
  const size_t len = *huge ? (size + kHugePage - 1) & ~(kHugePage - 1)
                           : (size + page - 1) & ~(page - 1);
  if (void* kept = RegionCache::Get().Take(len, *huge, mapped)) return kept;
  if (!*huge) {
    void* addr = ::mmap(nullptr, len, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (addr == MAP_FAILED) return nullptr;
    *mapped = len;
    return addr;
  }
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
    bool huge = false;
    if (void* addr = MapLarge(size, &mapped, &huge); addr != nullptr) {
      auto region = std::make_shared<MmapRegion>(addr, mapped, huge);
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

size_t QueueBytes::SetReuseLimit(size_t bytes) {
  return RegionCache::Get().SetLimit(bytes);
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
