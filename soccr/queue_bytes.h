// soccr/queue_bytes.h: the bytes of a TCP queue, owned or borrowed, immutable.
//
//   QueueBytes a = QueueBytes::Copy(data);                // owns a copy
//   QueueBytes b = QueueBytes::View(span, mapping);       // `mapping` keeps
//                                                         // `span` alive
//   uint8_t* out;
//   QueueBytes c = QueueBytes::Allocate(n, &out);         // fill out[0..n)
//
// Copies share the same immutable storage, so a ConnectionState copies in
// O(1) however large its queues are, and a parsed image can refer to a
// memory-mapped file in place without copying a byte.

#ifndef SOCCR_QUEUE_BYTES_H_
#define SOCCR_QUEUE_BYTES_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace soccr {

class QueueBytes {
 public:
  // Empty.
  QueueBytes() = default;

  // A private copy of `data`.
  static QueueBytes Copy(absl::Span<const uint8_t> data);
  static QueueBytes Copy(absl::string_view data);

  // Refers to `data` without copying it; `owner` keeps the memory alive and
  // unchanged for as long as any QueueBytes refers to it. A null `owner`
  // borrows the memory (see borrowed()): whoever made the view keeps it
  // alive and unchanged for as long as it is used.
  static QueueBytes View(absl::Span<const uint8_t> data,
                         std::shared_ptr<const void> owner);

  // New uninitialized storage of `size` bytes. `*writable` points at it; the
  // caller must fill it before sharing the result. Large buffers are
  // allocated so that the kernel can hand out their pages in bulk: from
  // 1 MiB they come from mmap, and where the kernel gives transparent huge
  // pages on request they are aligned to them (a whole number of them, so
  // a 1 MiB buffer takes one) and faulted in 2 MiB at a time as they are
  // filled; elsewhere they are populated up front. Large storage
  // whose last QueueBytes is gone is kept for reuse (SetReuseLimit), so
  // that a process that checkpoints again and again does not pay the
  // kernel for fresh pages every time.
  static QueueBytes Allocate(size_t size, uint8_t** writable);

  // How many bytes of released large storage (from 1 MiB) the process keeps
  // for later Allocate calls of about the same size (at most twice the
  // size asked for), instead of unmapping it; the oldest goes first, and
  // at most 8 regions are kept. Kept memory is marked MADV_FREE: the
  // kernel takes it back when it runs short, and until then it stays in
  // the process's resident size. 0 keeps none (every large Allocate gets
  // new pages, zeroed by the kernel). Returns the previous limit.
  // Thread-safe, and fork-safe: a child forked while other threads use
  // QueueBytes finds the kept storage usable (and keeps its own copy-on-
  // write view of it).
  static constexpr size_t kDefaultReuseLimit = size_t{128} << 20;
  static size_t SetReuseLimit(size_t bytes);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Whether these are bytes of a View() without an owner, valid only for
  // as long as its maker promised: to be copied if kept longer.
  bool borrowed() const { return owner_ == nullptr && size_ != 0; }
  absl::Span<const uint8_t> span() const { return {data_, size_}; }
  absl::string_view view() const {
    return {reinterpret_cast<const char*>(data_), size_};
  }

  // Bytes [offset, offset + length) of this queue, sharing its storage.
  // Clamped to the queue.
  QueueBytes Subrange(size_t offset, size_t length) const;

  // Content equality.
  friend bool operator==(const QueueBytes& a, const QueueBytes& b);
  friend bool operator!=(const QueueBytes& a, const QueueBytes& b) {
    return !(a == b);
  }

 private:
  std::shared_ptr<const void> owner_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace soccr

#endif  // SOCCR_QUEUE_BYTES_H_
