// soccr/internal/error_context.h: error messages that say what failed,
// where and why.
//
// An ErrorContext names the operation and the connection; each error adds
// the step, and for a failed kernel call the call and its errno, both taken
// from the call's sys::Result:
//
//   ErrorContext ctx("restore", state.local, state.peer);
//   SOCCR_RETURN_IF_ERROR(
//       ctx.Check("set recv queue seq", sys.SetQueueSeq(fd, seq)));
//
// fails with
//
//   PERMISSION_DENIED: restore 10.0.0.1:80->10.0.0.2:4242: set recv queue
//   seq: setsockopt(TCP_QUEUE_SEQ): Operation not permitted
//
// The status code follows errno as StatusCodeForErrno() chooses.

#ifndef SOCCR_INTERNAL_ERROR_CONTEXT_H_
#define SOCCR_INTERNAL_ERROR_CONTEXT_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

class ErrorContext {
 public:
  // "<operation> fd <n>" until the addresses are known.
  ErrorContext(absl::string_view operation, BorrowedFd fd);
  // "<operation> <local>-><peer>".
  ErrorContext(absl::string_view operation, const SocketAddress& local,
               const SocketAddress& peer);

  void SetEndpoints(const SocketAddress& local, const SocketAddress& peer);
  // "restore 10.0.0.1:80->10.0.0.2:4242". Formatted only when asked for (on
  // an error), so that the common, successful path pays nothing for it.
  std::string prefix() const;

  // The kernel call behind `failed` (which must have failed) as an error of
  // `step`: the call's name, its errno's text and a code chosen from both.
  template <typename T>
  absl::Status SysError(absl::string_view step,
                        const sys::Result<T>& failed) const {
    return SysError(step, failed.op, failed.err);
  }
  // OK if `r` succeeded, else SysError(step, r).
  absl::Status Check(absl::string_view step, const sys::Result<void>& r) const {
    if (r.ok()) return absl::OkStatus();
    return SysError(step, r.op, r.err);
  }
  // The value of `r` if it succeeded, else SysError(step, r).
  template <typename T>
  absl::StatusOr<T> Check(absl::string_view step, sys::Result<T> r) const {
    if (r.ok()) return std::move(r.value);
    return SysError(step, r.op, r.err);
  }

  // Any other failure, with the given code.
  absl::Status Error(absl::StatusCode code, absl::string_view what) const;

 private:
  absl::Status SysError(absl::string_view step, sys::Op op, int err) const;

  std::string operation_;
  BorrowedFd fd_;
  bool has_endpoints_ = false;
  SocketAddress local_;
  SocketAddress peer_;
};

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_ERROR_CONTEXT_H_
