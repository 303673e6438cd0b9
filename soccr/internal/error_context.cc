#include "soccr/internal/error_context.h"

#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"

namespace soccr::internal {

ErrorContext::ErrorContext(absl::string_view operation, BorrowedFd fd)
    : operation_(operation), fd_(fd) {}

ErrorContext::ErrorContext(absl::string_view operation,
                           const SocketAddress& local,
                           const SocketAddress& peer)
    : operation_(operation) {
  SetEndpoints(local, peer);
}

void ErrorContext::SetEndpoints(const SocketAddress& local,
                                const SocketAddress& peer) {
  has_endpoints_ = true;
  local_ = local;
  peer_ = peer;
}

std::string ErrorContext::prefix() const {
  if (!has_endpoints_) return absl::StrCat(operation_, " fd ", fd_.get());
  return absl::StrCat(operation_, " ", local_.ToString(), "->",
                      peer_.ToString());
}

absl::Status ErrorContext::SysError(absl::string_view step, sys::Op op,
                                    int err) const {
  return ErrnoStatus(op, err,
                     absl::StrCat(prefix(), ": ", step, ": ", sys::OpName(op)));
}

absl::Status ErrorContext::Error(absl::StatusCode code,
                                 absl::string_view what) const {
  return absl::Status(code, absl::StrCat(prefix(), ": ", what));
}

}  // namespace soccr::internal
