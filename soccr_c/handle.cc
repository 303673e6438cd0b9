#include "soccr_c/handle.h"

#include <errno.h>
#include <malloc.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "soccr/checkpoint.h"
#include "soccr/checkpoint_buffer.h"
#include "soccr/internal/huge_pages.h"
#include "soccr/paused_socket_addresses.h"
#include "soccr/restore_onto.h"
#include "soccr/restore_plan.h"
#include "soccr/status_macros.h"
#include "soccr/tcp_state.h"
#include "soccr_c/kept_sock_diag.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace soccr::c_api {
namespace {

const char* QueueName(sys::RepairQueue q) {
  return q == sys::RepairQueue::kRecv ? "receive" : "send";
}

// A malloc() copy of `bytes`; at least one byte, so that an empty queue is
// a valid pointer too.
absl::StatusOr<char*> CopyOut(const QueueBytes& bytes, sys::RepairQueue q) {
  char* out = static_cast<char*>(malloc(std::max<size_t>(bytes.size(), 1)));
  if (out == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate ", bytes.size(), " bytes for the ",
                     QueueName(q), " queue"));
  }
  if (!bytes.empty()) memcpy(out, bytes.data(), bytes.size());
  return out;
}

// Whether every page wholly inside [begin, end) is resident: memory that
// malloc() hands out again after a free() (glibc keeps freed blocks of up
// to its mmap threshold in the heap) has its pages already, and asking the
// kernel to populate them again costs a page-table walk per page (40 us per
// MiB here: more than the kernel's copy into them). One mincore() call
// answers for the whole block. A failure answers "no": the caller then asks
// for pages it may already have, which costs only time.
bool AllPagesResident(uintptr_t begin, uintptr_t end) {
  constexpr size_t kPage = 4096;
  // glibc's largest dynamic mmap threshold (DEFAULT_MMAP_THRESHOLD_MAX, 32
  // MiB on 64-bit): no block above it is ever reused, so none is asked.
  constexpr size_t kMaxPages = (size_t{32} << 20) / kPage;
  if (end <= begin) return true;
  const size_t pages = (end - begin) / kPage;
  if (pages > kMaxPages) return false;
  unsigned char resident[kMaxPages];
  if (::mincore(reinterpret_cast<void*>(begin), end - begin, resident) != 0) {
    return false;
  }
  for (size_t i = 0; i < pages; ++i) {
    if ((resident[i] & 1) == 0) return false;
  }
  return true;
}

// Whether free(p) gave memory back to the kernel: the block was one glibc
// mapped for itself (above its mmap threshold), which it unmaps at free()
// and never hands out again. glibc's count of such memory (mallinfo2's
// hblkhd, a process-wide counter) drops by the block's size; another
// thread's mapping meanwhile can only hide that, which costs speed, never
// memory. Without mallinfo2 (glibc before 2.33, other C libraries) false.
bool FreeWasUnmapped(void* p, size_t size) {
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
  const size_t before = mallinfo2().hblkhd;
  free(p);
  const size_t after = mallinfo2().hblkhd;
  return after < before && before - after >= size;
#else
  free(p);
  return false;
#endif
}

// Memory for `size` queue bytes that free() releases, taken so that the
// kernel's copy into it costs as little as the process's state allows:
// - up to 32 MiB (glibc's largest mmap threshold) it is malloc() memory.
//   After the first free() of such a block glibc serves the next one of
//   that size from its heap, pages and all, so a checkpoint that follows
//   another (the steady state of a CRIU dump) takes no page fault. Only a
//   block whose pages are not all there yet is prepared:
//   - a block glibc mapped afresh (a process's first large malloc()) is
//     unmapped at free() whatever we do, so, from 1 MiB and where the
//     kernel gives transparent huge pages on request, it is taken again
//     aligned to huge pages, a whole number of them (posix_memalign, so
//     that free() still releases it), marked MADV_HUGEPAGE: the copy then
//     faults it in 2 MiB at a time, each zeroed just before it is written.
//     Here a fresh 1 MiB costs 49 us against 290 us in 4 KiB pages
//     (QueueBytes takes its large storage the same way). Its free() still
//     raises glibc's mmap threshold, so that the next block comes from
//     the heap.
//   - a heap block (a grown heap) is kept where it is, for glibc to hand
//     out again: below 2 MiB its pages are allocated in one
//     MADV_POPULATE_WRITE call (Linux 5.14) instead of one fault per 4 KiB
//     page in the kernel's copy; from 2 MiB the huge pages inside it are
//     asked for (MADV_HUGEPAGE) and the 4 KiB pages around them populated.
// - above 32 MiB glibc maps every block afresh and unmaps it at free(), so
//   the block is always aligned to huge pages and asks for them.
// Each madvise is best effort (EINVAL on older kernels, THP "never"): a
// failure leaves the faults to the copy and costs only speed.
void* MallocForQueue(size_t size) {
  constexpr size_t kPage = 4096;
  constexpr size_t kPrepareFrom = 256 << 10;
  constexpr size_t kHugeFrom = 1 << 20;
  constexpr size_t kReusedUpTo = size_t{32} << 20;
  using internal::kHugePage;
  // A whole number of huge pages, aligned, asking for them; nullptr where
  // posix_memalign fails.
  auto huge = [](size_t n) -> void* {
    const size_t len = (n + kHugePage - 1) & ~(kHugePage - 1);
    void* p = nullptr;
    if (posix_memalign(&p, kHugePage, len) != 0) return nullptr;
    (void)::madvise(p, len, MADV_HUGEPAGE);
    return p;
  };
  if (size > kReusedUpTo) return huge(size);
  void* p = malloc(std::max<size_t>(size, 1));
  if (p == nullptr || size < kPrepareFrom) return p;
  // The whole 4 KiB pages of the block at `p`.
  uintptr_t at, begin, end;
  auto pages_of = [&](void* block) {
    at = reinterpret_cast<uintptr_t>(block);
    begin = (at + kPage - 1) & ~(kPage - 1);
    end = (at + size) & ~(kPage - 1);
  };
  pages_of(p);
  if (AllPagesResident(begin, end)) return p;
  const bool huge_pages = internal::HugePagesOnRequest();
  if (size >= kHugeFrom && huge_pages) {
    const bool unmapped = FreeWasUnmapped(p, size);
    if (unmapped) {
      if (void* aligned = huge(size)) return aligned;
    }
    // A heap block (likely the same one again), or no memory for the
    // aligned one.
    p = malloc(size);
    if (p == nullptr) return nullptr;
    pages_of(p);
  }
  auto populate = [](uintptr_t from, uintptr_t to) {
    if (to > from) {
      (void)::madvise(reinterpret_cast<void*>(from), to - from,
                      MADV_POPULATE_WRITE);
    }
  };
  // The huge pages wholly inside the block, if any, get asked for, and the
  // 4 KiB pages before and after them (up to 2 MiB each, which the copy
  // would fault in one by one) are populated.
  const uintptr_t huge_begin = (at + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t huge_end = (at + size) & ~(kHugePage - 1);
  if (!huge_pages || size < kHugePage || huge_end <= huge_begin) {
    populate(begin, end);
    return p;
  }
  (void)::madvise(reinterpret_cast<void*>(huge_begin), huge_end - huge_begin,
                  MADV_HUGEPAGE);
  populate(begin, huge_begin);
  populate(huge_end, end);
  return p;
}

// A checkpoint buffer whose every allocation is a MallocBlock, collected in
// `blocks`. Where malloc() fails the checkpoint gets ordinary memory (and a
// get call then copies, reporting the failure if that fails too).
CheckpointBuffer MallocBuffer(
    std::vector<std::shared_ptr<MallocBlock>>* blocks) {
  return CheckpointBuffer([blocks](size_t size, uint8_t** writable) {
    void* p = MallocForQueue(size);
    if (p == nullptr) return QueueBytes::Allocate(size, writable);
    auto block = std::make_shared<MallocBlock>(p);
    blocks->push_back(block);
    *writable = static_cast<uint8_t*>(p);
    return QueueBytes::View(absl::Span<const uint8_t>(*writable, size),
                            std::move(block));
  });
}

// The block among `blocks` that `bytes` start at, if any.
std::shared_ptr<MallocBlock> BlockOf(
    const QueueBytes& bytes,
    const std::vector<std::shared_ptr<MallocBlock>>& blocks) {
  if (bytes.empty()) return nullptr;
  for (const std::shared_ptr<MallocBlock>& b : blocks) {
    if (b->p == bytes.data()) return b;
  }
  return nullptr;
}

// A checkpoint with exactly libsoccr's state, its queues copied straight
// into malloc() memory (`*recv` and `*send` get their blocks, if they are).
absl::StatusOr<ConnectionState> CheckpointForC(
    const PausedSocket& paused, std::shared_ptr<MallocBlock>* recv,
    std::shared_ptr<MallocBlock>* send) {
  std::vector<std::shared_ptr<MallocBlock>> blocks;
  CheckpointBuffer buffer = MallocBuffer(&blocks);
  CheckpointOptions options;
  options.socket_options = false;  // libsoccr_sk_data has no room for them
  options.buffer = &buffer;
  options.sock_diag = KeptSockDiag();
  absl::StatusOr<ConnectionState> state = Checkpoint(paused, options);
  if (!state.ok()) return state.status();
  *recv = BlockOf(state->recv_queue, blocks);
  *send = BlockOf(state->send_queue, blocks);
  return state;
}

// The bytes of queue `q` of the last save in malloc() memory that is not
// the caller's: the checkpoint's own, a copy, or -- once those went to the
// caller -- a new checkpoint's, which must find the queue as the save did.
absl::StatusOr<std::shared_ptr<MallocBlock>> QueueBlock(libsoccr_sk& sk,
                                                        sys::RepairQueue q) {
  const bool recv = q == sys::RepairQueue::kRecv;
  SavedQueue& saved = recv ? sk.saved_recv : sk.saved_send;
  QueueBytes& bytes = recv ? sk.saved->recv_queue : sk.saved->send_queue;
  if (saved.block != nullptr) return saved.block;
  const uint32_t saved_len = recv ? sk.saved->inq_len : sk.saved->outq_len;
  if (!saved.given_away || saved_len == 0) {
    SOCCR_ASSIGN_OR_RETURN(char* p, CopyOut(bytes, q));
    saved.block = std::make_shared<MallocBlock>(p);
    saved.given_away = false;
    return saved.block;
  }
  std::shared_ptr<MallocBlock> again_recv;
  std::shared_ptr<MallocBlock> again_send;
  absl::StatusOr<ConnectionState> again =
      CheckpointForC(sk.paused, &again_recv, &again_send);
  if (!again.ok()) return again.status();
  const ConnectionState& was = *sk.saved;
  const bool same =
      recv ? again->inq_len == was.inq_len && again->inq_seq == was.inq_seq
           : again->outq_len == was.outq_len &&
                 again->outq_seq == was.outq_seq &&
                 again->unsent_len == was.unsent_len;
  if (!same) {
    return absl::FailedPreconditionError(absl::StrCat(
        "fd ", sk.paused.fd().get(), ": the ", QueueName(q),
        " queue was handed out with SOCCR_MEM_EXCL and has changed since "
        "libsoccr_save (were the peer's packets blocked?): save again"));
  }
  bytes = recv ? again->recv_queue : again->send_queue;
  saved.block = recv ? again_recv : again_send;
  saved.given_away = false;
  if (saved.block == nullptr) {
    SOCCR_ASSIGN_OR_RETURN(char* p, CopyOut(bytes, q));
    saved.block = std::make_shared<MallocBlock>(p);
  }
  return saved.block;
}

// Gives up the library's ownership of `p` (one of sk.owned).
void Disown(libsoccr_sk& sk, void* p) {
  for (auto it = sk.owned.begin(); it != sk.owned.end(); ++it) {
    if (it->get() == p) {
      (void)it->release();
      sk.owned.erase(it);
      return;
    }
  }
}

// The owner of `bytes` if the handle already holds them with
// SOCCR_MEM_EXCL, for either queue: memory given twice is freed once.
std::shared_ptr<const void> OwnerOf(const libsoccr_sk& sk, const char* bytes) {
  for (const QueueInput* in : {&sk.inputs.recv, &sk.inputs.send}) {
    if (in->bytes == bytes && in->owner != nullptr) return in->owner;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<libsoccr_sk>> Pause(int fd,
                                                   const sys::Sys& sys) {
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("pause fd ", fd, ": not a descriptor"));
  }
  absl::StatusOr<PausedSocket> paused =
      PausedSocket::Pause(BorrowedFd(fd), sys);
  if (!paused.ok()) return paused.status();
  return std::make_unique<libsoccr_sk>(*std::move(paused));
}

absl::Status Resume(std::unique_ptr<libsoccr_sk> sk) {
  const int fd = sk->paused.fd().get();
  if (sk->restore == libsoccr_sk::Restore::kFailedPartWay) {
    std::move(sk->paused).LeaveInRepairMode();
    return absl::FailedPreconditionError(absl::StrCat(
        "resume fd ", fd,
        ": its restore failed part-way, so the socket is left as that left "
        "it (a connection stays in repair mode): close it (that sends "
        "nothing to the peer) and restore onto a new socket"));
  }
  absl::Status s = std::move(sk->paused).Resume();
  if (!s.ok()) {
    // Never half-resumed: data the application believes written would be
    // missing from the stream. (Where queueing unsent data failed, the core
    // has put the socket back into repair mode.)
    std::move(sk->paused).LeaveInRepairMode();
    return absl::Status(
        s.code(),
        absl::StrCat(s.message(), "; fd ", fd,
                     " stays in repair mode: close it (that sends nothing "
                     "to the peer)"));
  }
  return absl::OkStatus();
}

void Release(std::unique_ptr<libsoccr_sk> sk) {
  std::move(sk->paused).LeaveInRepairMode();
}

absl::StatusOr<int> Save(libsoccr_sk& sk, struct libsoccr_sk_data* data,
                         unsigned data_size) {
  if (data == nullptr) return absl::InvalidArgumentError("data is NULL");
  SOCCR_RETURN_IF_ERROR(CheckDataSize(data_size));
  std::shared_ptr<MallocBlock> recv;
  std::shared_ptr<MallocBlock> send;
  absl::StatusOr<ConnectionState> state =
      CheckpointForC(sk.paused, &recv, &send);
  if (!state.ok()) return state.status();
  const struct libsoccr_sk_data d = SkDataFromState(*state);
  memcpy(data, &d, sizeof(d));
  // Earlier buffers stay valid (and the library's) until resume/release:
  // those handed out are in sk.lent or sk.owned.
  sk.saved = *std::move(state);
  sk.saved_recv = SavedQueue{std::move(recv), false};
  sk.saved_send = SavedQueue{std::move(send), false};
  sk.recv_out = nullptr;
  sk.send_out = nullptr;
  return static_cast<int>(sizeof(d));
}

absl::StatusOr<char*> GetQueueBytes(libsoccr_sk& sk, int queue_id,
                                    unsigned flags) {
  SOCCR_RETURN_IF_ERROR(CheckMemFlags(flags));
  absl::StatusOr<sys::RepairQueue> q = QueueFromId(queue_id);
  if (!q.ok()) return q.status();
  if (!sk.saved.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "fd ", sk.paused.fd().get(),
        ": no checkpoint to take the queue from: call libsoccr_save first"));
  }
  const bool recv = *q == sys::RepairQueue::kRecv;
  char*& handed_out = recv ? sk.recv_out : sk.send_out;
  SavedQueue& saved = recv ? sk.saved_recv : sk.saved_send;
  if ((flags & SOCCR_MEM_EXCL) != 0) {
    std::shared_ptr<MallocBlock> block;
    if (handed_out != nullptr) {
      // The buffer handed out before becomes the caller's.
      char* p = handed_out;
      handed_out = nullptr;
      for (auto it = sk.lent.begin(); it != sk.lent.end(); ++it) {
        if ((*it)->p == p) {
          block = *it;
          sk.lent.erase(it);
          break;
        }
      }
      if (block == nullptr) {
        Disown(sk, p);
        return p;
      }
    } else {
      SOCCR_ASSIGN_OR_RETURN(block, QueueBlock(sk, *q));
    }
    block->given_away = true;
    if (block == saved.block) {
      // The saved bytes are the caller's now: nothing here reads them again.
      saved.block.reset();
      saved.given_away = true;
      (recv ? sk.saved->recv_queue : sk.saved->send_queue) = QueueBytes();
    }
    return static_cast<char*>(block->p);
  }
  if (handed_out != nullptr) return handed_out;
  SOCCR_ASSIGN_OR_RETURN(std::shared_ptr<MallocBlock> block,
                         QueueBlock(sk, *q));
  sk.lent.push_back(block);
  handed_out = static_cast<char*>(block->p);
  return handed_out;
}

absl::StatusOr<union libsoccr_addr*> GetAddr(libsoccr_sk& sk, int self,
                                             unsigned flags) {
  SOCCR_RETURN_IF_ERROR(CheckMemFlags(flags));
  // As of the last libsoccr_save, which read both (as it did the queues):
  // in repair mode nothing moves a connection to other addresses (a
  // restore onto this socket would: then they are read again).
  if (sk.saved.has_value() && sk.restore == libsoccr_sk::Restore::kNotYet &&
      !sk.saved->local.empty() &&
      !(self ? sk.saved->local : sk.saved->peer).empty()) {
    auto* out =
        static_cast<union libsoccr_addr*>(malloc(sizeof(union libsoccr_addr)));
    if (out == nullptr) {
      return absl::ResourceExhaustedError("cannot allocate an address");
    }
    *out = AddressToC(self ? sk.saved->local : sk.saved->peer);
    if ((flags & SOCCR_MEM_EXCL) == 0) sk.owned.emplace_back(out);
    return out;
  }
  // In every state libsoccr_save reports: getpeername() would say
  // ENOTCONN in CLOSE and SYN_SENT.
  SOCCR_ASSIGN_OR_RETURN(const SocketAddress a, self
                                                    ? LocalAddressOf(sk.paused)
                                                    : PeerAddressOf(sk.paused));
  auto* out =
      static_cast<union libsoccr_addr*>(malloc(sizeof(union libsoccr_addr)));
  if (out == nullptr) {
    return absl::ResourceExhaustedError("cannot allocate an address");
  }
  *out = AddressToC(a);
  if ((flags & SOCCR_MEM_EXCL) == 0) sk.owned.emplace_back(out);
  return out;
}

absl::Status SetQueueBytes(libsoccr_sk& sk, int queue_id, char* bytes,
                           unsigned flags) {
  SOCCR_RETURN_IF_ERROR(CheckMemFlags(flags));
  absl::StatusOr<sys::RepairQueue> q = QueueFromId(queue_id);
  if (!q.ok()) return q.status();
  if (bytes == nullptr) return absl::InvalidArgumentError("bytes is NULL");
  if (sk.restore != libsoccr_sk::Restore::kNotYet) {
    return absl::FailedPreconditionError(
        absl::StrCat("fd ", sk.paused.fd().get(),
                     ": libsoccr_restore has run on this handle already"));
  }
  QueueInput in;
  in.bytes = bytes;
  // Memory given with SOCCR_MEM_EXCL before stays the library's.
  in.owner = OwnerOf(sk, bytes);
  if (in.owner == nullptr && (flags & SOCCR_MEM_EXCL) != 0) {
    in.owner = std::shared_ptr<void>(bytes, FreeDeleter());
  }
  if (in.owner != nullptr) {
    // Ours, and from malloc(): its true size can be checked against the
    // length libsoccr_restore is given.
    in.known_size = malloc_usable_size(bytes);
  }
  (*q == sys::RepairQueue::kRecv ? sk.inputs.recv : sk.inputs.send) =
      std::move(in);
  return absl::OkStatus();
}

absl::Status SetAddr(libsoccr_sk& sk, int self, union libsoccr_addr* addr,
                     unsigned flags) {
  SOCCR_RETURN_IF_ERROR(CheckMemFlags(flags));
  if (sk.restore != libsoccr_sk::Restore::kNotYet) {
    return absl::FailedPreconditionError(
        absl::StrCat("fd ", sk.paused.fd().get(),
                     ": libsoccr_restore has run on this handle already"));
  }
  absl::StatusOr<SocketAddress> a = AddressFromC(addr);
  if (!a.ok()) return a.status();
  (self ? sk.inputs.local : sk.inputs.peer) = *a;
  if ((flags & SOCCR_MEM_EXCL) != 0) free(addr);
  return absl::OkStatus();
}

absl::Status Restore(libsoccr_sk& sk, const struct libsoccr_sk_data* data,
                     unsigned data_size, std::string* summary) {
  const BorrowedFd fd = sk.paused.fd();
  if (data == nullptr) return absl::InvalidArgumentError("data is NULL");
  SOCCR_RETURN_IF_ERROR(CheckDataSize(data_size));
  switch (sk.restore) {
    case libsoccr_sk::Restore::kNotYet:
      break;
    case libsoccr_sk::Restore::kDone:
      return absl::FailedPreconditionError(absl::StrCat(
          "restore fd ", fd.get(), ": this socket is restored already"));
    case libsoccr_sk::Restore::kFailedPartWay:
      return absl::FailedPreconditionError(absl::StrCat(
          "restore fd ", fd.get(),
          ": an earlier restore of this socket failed part-way: close it "
          "and restore onto a new socket"));
  }
  absl::StatusOr<ConnectionState> state = StateFromSkData(*data, sk.inputs);
  if (!state.ok()) {
    // Prefixed as the restore's own errors are.
    return absl::Status(state.status().code(),
                        absl::StrCat("restore ", sk.inputs.local.ToString(),
                                     "->", sk.inputs.peer.ToString(), ": ",
                                     state.status().message()));
  }
  absl::StatusOr<RestorePlan> plan = PlanRestore(*state);
  if (!plan.ok()) {
    std::string hint;
    if (sk.inputs.local.empty()) {
      absl::StrAppend(&hint,
                      "; no local address was given "
                      "(libsoccr_set_addr(sk, 1, ...))");
    }
    if (sk.inputs.peer.empty()) {
      absl::StrAppend(&hint,
                      "; no peer address was given "
                      "(libsoccr_set_addr(sk, 0, ...))");
    }
    if (hint.empty()) return plan.status();
    return absl::Status(plan.status().code(),
                        absl::StrCat(plan.status().message(), hint));
  }
  SOCCR_RETURN_IF_ERROR(CheckRestoreTarget(sk.paused, *plan));
  // Unsent data is queued only on resume. Memory the caller kept is only
  // promised until libsoccr_restore returns: it is borrowed (a view without
  // an owner), so RestoreOnto keeps a copy of what it needs.
  if (absl::Status s = RestoreOnto(sk.paused, *plan); !s.ok()) {
    sk.restore = libsoccr_sk::Restore::kFailedPartWay;
    return s;
  }
  sk.restore = libsoccr_sk::Restore::kDone;
  if (summary != nullptr) *summary = state->ToString();
  sk.inputs = RestoreInputs();
  return absl::OkStatus();
}

}  // namespace soccr::c_api
