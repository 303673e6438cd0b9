// soccr/internal/save_socket_options.h: reads a socket's options, as the
// option table (soccr/socket_options.h) lists them, into a checkpoint.
//
//   SOCCR_RETURN_IF_ERROR(
//       internal::SaveSocketOptions(sys, fd, reuse_addr, state, ctx));

#ifndef SOCCR_INTERNAL_SAVE_SOCKET_OPTIONS_H_
#define SOCCR_INTERNAL_SAVE_SOCKET_OPTIONS_H_

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "soccr/connection_state.h"
#include "soccr/fd.h"
#include "soccr/internal/error_context.h"
#include "soccr/internal/sock_diag.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

// Sets s.buffers and appends to s.socket_options every option of the table
// that applies to s.local's family and is not at its default value. An
// option this kernel lacks (ENOPROTOOPT) cannot have been set and is
// skipped. `reuse_addr`: SO_REUSEADDR as it was before repair mode, which
// reads as 2 (forced reuse) while it lasts; nullopt outside repair mode.
// `peek_offset`: SO_PEEK_OFF as the checkpoint already read it (the
// receive queue's walk does), not read again; nullopt reads it. `diag`:
// the checkpoint's sock_diag answer about the socket, if it asked; the
// values it carries (SockDiagAnswer) are taken instead of read.
[[nodiscard]] absl::Status SaveSocketOptions(
    const sys::Sys& sys, BorrowedFd fd, std::optional<int> reuse_addr,
    ConnectionState& s, const ErrorContext& ctx,
    std::optional<int> peek_offset = std::nullopt,
    const SockDiagAnswer* diag = nullptr);

// Sets s.buffers only: the sizes, which the kernel itself changes (buffer
// autotuning) while a connection runs, and the locks (SO_BUF_LOCK), which
// only the application changes: `locks_read_ahead` if not null (what
// ReadBufferLocks() gave earlier), read now otherwise. The sizes come from
// `diag` where it has them.
[[nodiscard]] absl::Status SaveSocketBuffers(
    const sys::Sys& sys, BorrowedFd fd, ConnectionState& s,
    const ErrorContext& ctx,
    const std::optional<int>* locks_read_ahead = nullptr,
    const SockDiagAnswer* diag = nullptr);

// SO_BUF_LOCK; nullopt on a kernel without it (ENOPROTOOPT).
[[nodiscard]] absl::StatusOr<std::optional<int>> ReadBufferLocks(
    const sys::Sys& sys, BorrowedFd fd, const ErrorContext& ctx);

// The option table's part of SaveSocketOptions for a socket of `family`:
// what only the socket's owner changes.
[[nodiscard]] absl::StatusOr<std::vector<SocketOption>> ReadOptionTable(
    const sys::Sys& sys, BorrowedFd fd, int family,
    std::optional<int> reuse_addr, const ErrorContext& ctx,
    std::optional<int> peek_offset = std::nullopt,
    const SockDiagAnswer* diag = nullptr);

// The int value of option (`level`, `name`) in `options`, or nullopt when
// it is not there (an option table leaves out values at their default).
std::optional<int> IntOptionIn(const std::vector<SocketOption>& options,
                               int level, int name);

// SO_PEEK_OFF as an option table read from the socket holds it: -1 (off)
// when left out, as the table leaves out its default and an option the
// kernel lacks (TCP's before Linux 6.9, where it cannot be on).
int PeekOffsetIn(const std::vector<SocketOption>& options);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_SAVE_SOCKET_OPTIONS_H_
