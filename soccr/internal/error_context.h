// soccr/internal/error_context.h: error messages that say what failed,
// where and why.
//
//   ErrorContext ctx("restore", state.local, state.peer);
//   if (!r.ok()) return ctx.SysError("set recv queue seq", Op::kSetQueueSeq,
//   r.err);
//   // -> PERMISSION_DENIED: restore 10.0.0.1:80->10.0.0.2:4242: set recv
//   //    queue seq: setsockopt(TCP_QUEUE_SEQ): Operation not permitted

#ifndef SOCCR_INTERNAL_ERROR_CONTEXT_H_
#define SOCCR_INTERNAL_ERROR_CONTEXT_H_

#include <string>

#include "absl/status/status.h"
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

  // A failed kernel call: the status code follows errno.
  absl::Status SysError(absl::string_view step, sys::Op op, int err) const;
  // Any other failure, with the given code.
  absl::Status Error(absl::StatusCode code, absl::string_view what) const;

 private:
  std::string operation_;
  BorrowedFd fd_;
  bool has_endpoints_ = false;
  SocketAddress local_;
  SocketAddress peer_;
};

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_ERROR_CONTEXT_H_
