// soccr/internal/sock_diag.h: what the kernel tells about a TCP socket only
// through sock_diag (NETLINK_SOCK_DIAG, libmnl).
//
//   absl::StatusOr<bool> md5 = internal::HasMd5Keys(sys, fd, local, peer, ctx);
//
// TCP-MD5 keys cannot be read back with getsockopt(); sock_diag reports
// them (INET_DIAG_MD5SIG) to a caller with CAP_NET_ADMIN over the socket's
// network namespace, which checkpointing a connection needs anyway.

#ifndef SOCCR_INTERNAL_SOCK_DIAG_H_
#define SOCCR_INTERNAL_SOCK_DIAG_H_

#include "absl/status/statusor.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/internal/error_context.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

// Whether the socket `fd` (bound to `local`, connected to `peer`, which may
// be empty for a listener) has TCP-MD5 keys. Asks sock_diag for exactly this
// socket (its SO_COOKIE, read through `sys`; the netlink calls are made
// directly). False when sock_diag finds no such socket (a closed
// connection is in no lookup table: it sends nothing signed again). Errors
// name the netlink call and errno.
[[nodiscard]] absl::StatusOr<bool> HasMd5Keys(const sys::Sys& sys,
                                              BorrowedFd fd,
                                              const SocketAddress& local,
                                              const SocketAddress& peer,
                                              const ErrorContext& ctx);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_SOCK_DIAG_H_
