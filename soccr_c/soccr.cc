// The extern "C" entry points of <soccr/soccr.h>.
//
// Each one checks its handle for NULL, calls the C++ operation in handle.h,
// and turns a Status into the C error value, logged with its full message.
// Each body runs in a noexcept function, so that nothing can unwind into a
// C caller: the only exception possible, std::bad_alloc for a small
// allocation, ends the process there instead.

#include <soccr/soccr.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "soccr_c/handle.h"
#include "soccr_c/log.h"
#include "soccr_c/repair_helper_env.h"

namespace soccr::c_api {
namespace {

absl::Status NullHandle() {
  return absl::InvalidArgumentError("the handle is NULL");
}

bool Debug() { return LogEnabled(SOCCR_LOG_DBG); }

libsoccr_sk* PauseImpl(int fd) noexcept {
  absl::StatusOr<std::unique_ptr<libsoccr_sk>> sk = Pause(fd, CApiSys());
  if (!sk.ok()) {
    LogError("libsoccr_pause", WithRepairHelperHint(sk.status()));
    return nullptr;
  }
  if (Debug()) {
    Log(SOCCR_LOG_DBG, "libsoccr_pause", absl::StrCat("fd ", fd, " paused"));
  }
  return sk->release();
}

void ResumeImpl(libsoccr_sk* sk) noexcept {
  if (sk == nullptr) return LogError("libsoccr_resume", NullHandle());
  const int fd = sk->paused.fd().get();
  if (absl::Status s = Resume(std::unique_ptr<libsoccr_sk>(sk)); !s.ok()) {
    return LogError("libsoccr_resume", s);
  }
  if (Debug()) {
    Log(SOCCR_LOG_DBG, "libsoccr_resume", absl::StrCat("fd ", fd, " resumed"));
  }
}

void ReleaseImpl(libsoccr_sk* sk) noexcept {
  if (sk == nullptr) return LogError("libsoccr_release", NullHandle());
  const int fd = sk->paused.fd().get();
  Release(std::unique_ptr<libsoccr_sk>(sk));
  if (Debug()) {
    Log(SOCCR_LOG_DBG, "libsoccr_release",
        absl::StrCat("fd ", fd, " released, still in repair mode"));
  }
}

int SaveImpl(libsoccr_sk* sk, libsoccr_sk_data* data,
             unsigned data_size) noexcept {
  if (sk == nullptr) {
    LogError("libsoccr_save", NullHandle());
    return -1;
  }
  absl::StatusOr<int> n = Save(*sk, data, data_size);
  if (!n.ok()) {
    LogError("libsoccr_save", n.status());
    return -1;
  }
  if (Debug()) Log(SOCCR_LOG_DBG, "libsoccr_save", sk->saved->ToString());
  return *n;
}

char* GetQueueBytesImpl(libsoccr_sk* sk, int queue_id,
                        unsigned flags) noexcept {
  if (sk == nullptr) {
    LogError("libsoccr_get_queue_bytes", NullHandle());
    return nullptr;
  }
  absl::StatusOr<char*> p = GetQueueBytes(*sk, queue_id, flags);
  if (!p.ok()) {
    LogError("libsoccr_get_queue_bytes", p.status());
    return nullptr;
  }
  return *p;
}

libsoccr_addr* GetAddrImpl(libsoccr_sk* sk, int self, unsigned flags) noexcept {
  if (sk == nullptr) {
    LogError("libsoccr_get_addr", NullHandle());
    return nullptr;
  }
  absl::StatusOr<libsoccr_addr*> p = GetAddr(*sk, self, flags);
  if (!p.ok()) {
    LogError("libsoccr_get_addr", p.status());
    return nullptr;
  }
  return *p;
}

int SetQueueBytesImpl(libsoccr_sk* sk, int queue_id, char* bytes,
                      unsigned flags) noexcept {
  if (sk == nullptr) {
    LogError("libsoccr_set_queue_bytes", NullHandle());
    return -1;
  }
  if (absl::Status s = SetQueueBytes(*sk, queue_id, bytes, flags); !s.ok()) {
    LogError("libsoccr_set_queue_bytes", s);
    return -1;
  }
  return 0;
}

int SetAddrImpl(libsoccr_sk* sk, int self, libsoccr_addr* addr,
                unsigned flags) noexcept {
  if (sk == nullptr) {
    LogError("libsoccr_set_addr", NullHandle());
    return -1;
  }
  if (absl::Status s = SetAddr(*sk, self, addr, flags); !s.ok()) {
    LogError("libsoccr_set_addr", s);
    return -1;
  }
  return 0;
}

int RestoreImpl(libsoccr_sk* sk, libsoccr_sk_data* data,
                unsigned data_size) noexcept {
  if (sk == nullptr) {
    LogError("libsoccr_restore", NullHandle());
    return -1;
  }
  const bool debug = Debug();
  std::string summary;
  if (absl::Status s =
          Restore(*sk, data, data_size, debug ? &summary : nullptr);
      !s.ok()) {
    LogError("libsoccr_restore", s);
    return -1;
  }
  if (debug) Log(SOCCR_LOG_DBG, "libsoccr_restore", summary);
  return 0;
}

}  // namespace
}  // namespace soccr::c_api

extern "C" {

void libsoccr_set_log(unsigned int level,
                      void (*fn)(unsigned int level, const char* fmt, ...)) {
  soccr::c_api::SetLog(level, fn);
}

struct libsoccr_sk* libsoccr_pause(int fd) {
  return soccr::c_api::PauseImpl(fd);
}

void libsoccr_resume(struct libsoccr_sk* sk) { soccr::c_api::ResumeImpl(sk); }

void libsoccr_release(struct libsoccr_sk* sk) { soccr::c_api::ReleaseImpl(sk); }

int libsoccr_save(struct libsoccr_sk* sk, struct libsoccr_sk_data* data,
                  unsigned data_size) {
  return soccr::c_api::SaveImpl(sk, data, data_size);
}

char* libsoccr_get_queue_bytes(struct libsoccr_sk* sk, int queue_id,
                               unsigned flags) {
  return soccr::c_api::GetQueueBytesImpl(sk, queue_id, flags);
}

union libsoccr_addr* libsoccr_get_addr(struct libsoccr_sk* sk, int self,
                                       unsigned flags) {
  return soccr::c_api::GetAddrImpl(sk, self, flags);
}

int libsoccr_set_queue_bytes(struct libsoccr_sk* sk, int queue_id, char* bytes,
                             unsigned flags) {
  return soccr::c_api::SetQueueBytesImpl(sk, queue_id, bytes, flags);
}

int libsoccr_set_addr(struct libsoccr_sk* sk, int self,
                      union libsoccr_addr* addr, unsigned flags) {
  return soccr::c_api::SetAddrImpl(sk, self, addr, flags);
}

int libsoccr_restore(struct libsoccr_sk* sk, struct libsoccr_sk_data* data,
                     unsigned data_size) {
  return soccr::c_api::RestoreImpl(sk, data, data_size);
}

}  // extern "C"
