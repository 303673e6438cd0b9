#include "soccr/internal/error_context.h"

#include "absl/strings/str_cat.h"

namespace soccr::internal {

ErrorContext::ErrorContext(absl::string_view operation, BorrowedFd fd)
    : operation_(operation),
      prefix_(absl::StrCat(operation, " fd ", fd.get())) {}

ErrorContext::ErrorContext(absl::string_view operation,
                           const SocketAddress& local,
                           const SocketAddress& peer)
    : operation_(operation) {
  SetEndpoints(local, peer);
}

void ErrorContext::SetEndpoints(const SocketAddress& local,
                                const SocketAddress& peer) {
  prefix_ = absl::StrCat(operation_, " ", local.ToString(), "->",
                         peer.ToString());
}

absl::Status ErrorContext::SysError(absl::string_view step, sys::Op op,
                                    int err) const {
  return absl::ErrnoToStatus(
      err, absl::StrCat(prefix_, ": ", step, ": ", sys::OpName(op)));
}

absl::Status ErrorContext::Error(absl::StatusCode code,
                                 absl::string_view what) const {
  return absl::Status(code, absl::StrCat(prefix_, ": ", what));
}

}  // namespace soccr::internal
