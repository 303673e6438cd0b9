// soccr/repair_helper/helper_sys.h: a Sys whose repair mode switches go
// through a `soccr-repair` helper, for callers without CAP_NET_ADMIN.
//
// The kernel checks the capability only for TCP_REPAIR itself; every other
// repair operation needs just the socket in repair mode. So this Sys makes
// every call directly except SetRepair()/SetRepairEach(), which hand the
// sockets to the helper (253 per round trip), and any soccr entry point
// taking a `const Sys&` works unprivileged through it:
//
//   absl::StatusOr<std::unique_ptr<soccr::repair_helper::RepairHelperSys>>
//       sys = soccr::repair_helper::RepairHelperSys::Connect(
//           "/run/soccr-repair.sock");
//   absl::StatusOr<soccr::PausedSocket> p = soccr::PausedSocket::Pause(fd,
//                                                                     **sys);
//
// The object must outlive every handle (PausedSocket, RestoredSocket) made
// with it. What the kernel would refuse anyway (not a socket, not TCP, a
// listener) is answered locally with the kernel's errno, so callers'
// error handling is the same as with LinuxSys(); a socket the helper
// refuses or fails reads as EPERM.
//
// Thread-safety: safe for concurrent use (the helper connection is locked;
// batch threads queue on it).

#ifndef SOCCR_REPAIR_HELPER_HELPER_SYS_H_
#define SOCCR_REPAIR_HELPER_HELPER_SYS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "soccr/repair_helper/client.h"
#include "soccr/sys/intercepting_sys.h"
#include "soccr/sys/sys.h"

namespace soccr::repair_helper {

class RepairHelperSys final : public sys::InterceptingSys {
 public:
  // Connects to a `soccr-repair --listen PATH` service (see
  // RepairHelperClient::Connect). `real` makes every other call and must
  // outlive the result.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RepairHelperSys>> Connect(
      const std::string& path, const sys::Sys& real = sys::LinuxSys());

  RepairHelperSys(RepairHelperClient client, const sys::Sys& real);

  sys::Result<void> SetRepair(BorrowedFd fd,
                              sys::RepairMode mode) const override;
  std::vector<sys::Result<void>> SetRepairEach(
      absl::Span<const BorrowedFd> fds, sys::RepairMode mode) const override;
  bool BatchesRepair() const override { return true; }

  // Requests sent to the helper so far.
  uint64_t round_trips() const;

 protected:
  int Intercept(sys::Op, int, int) const override { return 0; }

 private:
  // 0 if `fd` may go to the helper, else the errno the kernel would give.
  int LocalCheck(BorrowedFd fd) const;

  const sys::Sys& real_;
  mutable absl::Mutex mu_;
  mutable RepairHelperClient client_ ABSL_GUARDED_BY(mu_);
};

}  // namespace soccr::repair_helper

#endif  // SOCCR_REPAIR_HELPER_HELPER_SYS_H_
