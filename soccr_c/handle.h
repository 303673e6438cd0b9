// soccr_c/handle.h: what a `struct libsoccr_sk *` points at, and the C API's
// operations on it as C++ functions that return a Status.
//
// soccr.cc's extern "C" entry points only check for NULL, call these, and
// log what they return; everything else lives here, testable and fuzzable
// with any sys::Sys:
//
//   absl::StatusOr<std::unique_ptr<libsoccr_sk>> sk =
//       soccr::c_api::Pause(fd, fault_injecting_sys);
//   absl::StatusOr<int> n = soccr::c_api::Save(**sk, &data, sizeof(data));

#ifndef SOCCR_C_HANDLE_H_
#define SOCCR_C_HANDLE_H_

#include <soccr/soccr.h>
#include <stdlib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "soccr/connection_state.h"
#include "soccr/paused_socket.h"
#include "soccr/sys/sys.h"
#include "soccr_c/convert.h"

namespace soccr::c_api {

// Memory from malloc() that the library owns until a handle goes away.
struct FreeDeleter {
  void operator()(void* p) const { free(p); }
};
using MallocPtr = std::unique_ptr<void, FreeDeleter>;

// malloc() memory a checkpoint copied a queue into: freed when the last
// reference goes, unless it was handed to the caller with SOCCR_MEM_EXCL
// first (then it is theirs to free). So the bytes the kernel copied out are
// the very bytes the caller gets: one copy, as in libsoccr.
struct MallocBlock {
  explicit MallocBlock(void* p) : p(p) {}
  MallocBlock(const MallocBlock&) = delete;
  MallocBlock& operator=(const MallocBlock&) = delete;
  ~MallocBlock() {
    if (!given_away) free(p);
  }
  void* p;
  bool given_away = false;
};

// One queue of the last libsoccr_save.
struct SavedQueue {
  // The saved bytes in malloc() memory, once known to be (the checkpoint
  // copied them there, or a get call copied them).
  std::shared_ptr<MallocBlock> block;
  // Those bytes went to the caller (SOCCR_MEM_EXCL): nothing may read them
  // any more, and asking for the queue again checkpoints it again.
  bool given_away = false;
};

}  // namespace soccr::c_api

// The opaque handle of the C API (declared in <soccr/soccr.h>). One paused
// socket, plus what the get and set calls hand over. Not for concurrent use.
struct libsoccr_sk {
  explicit libsoccr_sk(soccr::PausedSocket p) : paused(std::move(p)) {}

  soccr::PausedSocket paused;

  // The last libsoccr_save's checkpoint, for libsoccr_get_queue_bytes.
  std::optional<soccr::ConnectionState> saved;
  // Memory handed out without SOCCR_MEM_EXCL: still the library's.
  std::vector<soccr::c_api::MallocPtr> owned;
  // Queue memory handed out without SOCCR_MEM_EXCL: still the library's,
  // valid until the handle goes (a later save does not free it).
  std::vector<std::shared_ptr<soccr::c_api::MallocBlock>> lent;
  // The last save's queues.
  soccr::c_api::SavedQueue saved_recv;
  soccr::c_api::SavedQueue saved_send;
  // This checkpoint's queues as already handed out without SOCCR_MEM_EXCL,
  // so that asking again gives the same buffer (as libsoccr does).
  char* recv_out = nullptr;
  char* send_out = nullptr;

  // What the set calls gave, for libsoccr_restore.
  soccr::c_api::RestoreInputs inputs;
  enum class Restore {
    kNotYet,
    kDone,
    // Failed after the socket was changed: it can only be closed.
    kFailedPartWay,
  };
  Restore restore = Restore::kNotYet;
};

namespace soccr::c_api {

// libsoccr_pause: puts `fd` into repair mode through `sys`, which must
// outlive the handle.
[[nodiscard]] absl::StatusOr<std::unique_ptr<libsoccr_sk>> Pause(
    int fd, const sys::Sys& sys = sys::LinuxSys());

// libsoccr_resume: leaves repair mode and queues unsent data held by a
// restore. If that fails, or a restore failed part-way, the socket is left
// in repair mode (closing it sends nothing) and the error says so.
[[nodiscard]] absl::Status Resume(std::unique_ptr<libsoccr_sk> sk);

// libsoccr_release: leaves the socket in repair mode.
void Release(std::unique_ptr<libsoccr_sk> sk);

// libsoccr_save: checkpoints the socket into `*data` (the first
// sizeof(*data) of its `data_size` bytes); returns the bytes filled.
[[nodiscard]] absl::StatusOr<int> Save(libsoccr_sk& sk,
                                       struct libsoccr_sk_data* data,
                                       unsigned data_size);

// libsoccr_get_queue_bytes.
[[nodiscard]] absl::StatusOr<char*> GetQueueBytes(libsoccr_sk& sk, int queue_id,
                                                  unsigned flags);

// libsoccr_get_addr.
[[nodiscard]] absl::StatusOr<union libsoccr_addr*> GetAddr(libsoccr_sk& sk,
                                                           int self,
                                                           unsigned flags);

// libsoccr_set_queue_bytes. On error the caller keeps `bytes`.
[[nodiscard]] absl::Status SetQueueBytes(libsoccr_sk& sk, int queue_id,
                                         char* bytes, unsigned flags);

// libsoccr_set_addr. On error the caller keeps `addr`.
[[nodiscard]] absl::Status SetAddr(libsoccr_sk& sk, int self,
                                   union libsoccr_addr* addr, unsigned flags);

// libsoccr_restore. `summary`, when not null, gets a one-line description
// of the connection (for the debug log): built only when asked, not on
// every restore.
[[nodiscard]] absl::Status Restore(libsoccr_sk& sk,
                                   const struct libsoccr_sk_data* data,
                                   unsigned data_size,
                                   std::string* summary = nullptr);

}  // namespace soccr::c_api

#endif  // SOCCR_C_HANDLE_H_
