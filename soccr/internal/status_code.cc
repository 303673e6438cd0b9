#include "soccr/internal/status_code.h"

#include <errno.h>

#include <optional>

namespace soccr::internal {
namespace {

// Where soccr's choice differs from Abseil's, and why.
struct Choice {
  std::optional<sys::Op> op;  // nullopt: any call
  int err;
  absl::StatusCode code;
};

constexpr Choice kChoices[] = {
    // TCP_REPAIR is an option of TCP alone: a UDP socket refuses it with
    // ENOPROTOOPT, a Unix one with EOPNOTSUPP. The caller handed over the
    // wrong kind of socket.
    {sys::Op::kSetRepair, ENOPROTOOPT, absl::StatusCode::kInvalidArgument},
    {sys::Op::kSetRepair, EOPNOTSUPP, absl::StatusCode::kInvalidArgument},
    // Elsewhere an unknown option means a kernel without it (Abseil says
    // InvalidArgument, which would blame the caller).
    {std::nullopt, ENOPROTOOPT, absl::StatusCode::kUnimplemented},
};

}  // namespace

absl::StatusCode StatusCodeForErrno(sys::Op op, int err) {
  for (const Choice& c : kChoices) {
    if (c.err == err && (!c.op.has_value() || *c.op == op)) return c.code;
  }
  return absl::ErrnoToStatusCode(err);
}

absl::StatusCode StatusCodeForErrno(int err) {
  for (const Choice& c : kChoices) {
    if (c.err == err && !c.op.has_value()) return c.code;
  }
  return absl::ErrnoToStatusCode(err);
}

absl::Status ErrnoStatus(sys::Op op, int err, absl::string_view message) {
  // ErrnoToStatus() writes the errno's text thread-safely.
  const absl::Status s = absl::ErrnoToStatus(err, message);
  return absl::Status(StatusCodeForErrno(op, err), s.message());
}

absl::Status ErrnoStatus(int err, absl::string_view message) {
  const absl::Status s = absl::ErrnoToStatus(err, message);
  return absl::Status(StatusCodeForErrno(err), s.message());
}

}  // namespace soccr::internal
