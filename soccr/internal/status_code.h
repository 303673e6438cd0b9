// soccr/internal/status_code.h: the status code of a failed kernel call.
//
// Every error soccr builds from an errno takes its code from here, so that
// the choice is made once, by what the caller should do about it:
//
//   absl::StatusCode code = StatusCodeForErrno(sys::Op::kSetRepair, EPERM);
//   // kPermissionDenied: run with CAP_NET_ADMIN.

#ifndef SOCCR_INTERNAL_STATUS_CODE_H_
#define SOCCR_INTERNAL_STATUS_CODE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

// The code for `op` failing with errno `err`. Abseil's ErrnoToStatusCode()
// except where soccr knows better (see the table in status_code.cc):
// ENOPROTOOPT is Unimplemented (this kernel lacks the option), and a
// socket that refuses TCP_REPAIR as an unknown option is InvalidArgument
// (the caller passed a socket that is not TCP).
absl::StatusCode StatusCodeForErrno(sys::Op op, int err);

// The code for a kernel call outside sys::Sys (netlink, pidfd_getfd, ...)
// failing with errno `err`: the choices of the table that hold for any
// call (ENOPROTOOPT is Unimplemented), Abseil's otherwise.
absl::StatusCode StatusCodeForErrno(int err);

// "<message>: <errno's text>" with the code StatusCodeForErrno(op, err)
// chooses: absl::ErrnoToStatus() with soccr's code.
absl::Status ErrnoStatus(sys::Op op, int err, absl::string_view message);

// The same for a kernel call outside sys::Sys: StatusCodeForErrno(err).
absl::Status ErrnoStatus(int err, absl::string_view message);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_STATUS_CODE_H_
