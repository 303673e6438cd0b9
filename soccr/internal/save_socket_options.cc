#include "soccr/internal/save_socket_options.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "soccr/socket_options.h"
#include "soccr/status_macros.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

namespace soccr::internal {

absl::StatusOr<std::optional<int>> ReadBufferLocks(const sys::Sys& sys,
                                                   BorrowedFd fd,
                                                   const ErrorContext& ctx) {
  sys::Result<int> locks = sys.GetSockOptInt(fd, SOL_SOCKET, SO_BUF_LOCK);
  if (locks.ok()) return std::optional<int>(locks.value);
  if (locks.err == ENOPROTOOPT) return std::optional<int>();
  return ctx.SysError("read SO_BUF_LOCK", locks);
}

namespace {

// SO_SNDBUF or SO_RCVBUF: as `known` has it (sock_diag's answer carries the
// same sk_sndbuf/sk_rcvbuf), or read.
absl::StatusOr<uint32_t> BufferSize(const sys::Sys& sys, BorrowedFd fd,
                                    int name, const char* step,
                                    std::optional<uint32_t> known,
                                    const ErrorContext& ctx) {
  if (known.has_value()) return *known;
  SOCCR_ASSIGN_OR_RETURN(
      const int size, ctx.Check(step, sys.GetSockOptInt(fd, SOL_SOCKET, name)));
  return static_cast<uint32_t>(size);
}

// The value of option `spec` that `diag` carries, if it does.
std::optional<int> IntFromDiag(const SockOptSpec& spec,
                               const SockDiagAnswer* diag) {
  if (diag == nullptr) return std::nullopt;
  if (spec.level == SOL_IP && spec.name == IP_TOS) return diag->tos;
  if (spec.level == SOL_IPV6 && spec.name == IPV6_TCLASS) return diag->tclass;
  if (spec.level == SOL_SOCKET && spec.name == SO_MARK) return diag->mark;
  return std::nullopt;
}

}  // namespace

absl::Status SaveSocketBuffers(const sys::Sys& sys, BorrowedFd fd,
                               ConnectionState& s, const ErrorContext& ctx,
                               const std::optional<int>* locks_read_ahead,
                               const SockDiagAnswer* diag) {
  SocketBuffers b;
  SOCCR_ASSIGN_OR_RETURN(
      b.sndbuf, BufferSize(sys, fd, SO_SNDBUF, "read SO_SNDBUF",
                           diag != nullptr ? diag->sndbuf : std::nullopt, ctx));
  SOCCR_ASSIGN_OR_RETURN(
      b.rcvbuf, BufferSize(sys, fd, SO_RCVBUF, "read SO_RCVBUF",
                           diag != nullptr ? diag->rcvbuf : std::nullopt, ctx));
  std::optional<int> locks;
  if (locks_read_ahead != nullptr) {
    locks = *locks_read_ahead;
  } else {
    SOCCR_ASSIGN_OR_RETURN(locks, ReadBufferLocks(sys, fd, ctx));
  }
  if (locks.has_value()) {
    b.sndbuf_locked = (*locks & 1) != 0;
    b.rcvbuf_locked = (*locks & 2) != 0;
  }
  s.buffers = b;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SocketOption>> ReadOptionTable(
    const sys::Sys& sys, BorrowedFd fd, int family,
    std::optional<int> reuse_addr, const ErrorContext& ctx,
    std::optional<int> peek_offset, const SockDiagAnswer* diag) {
  std::vector<SocketOption> out;
  for (const SockOptSpec& spec : SocketOptionTable()) {
    if (!SocketOptionApplies(spec, family)) continue;
    // A value the caller already has is taken instead of read (and left
    // out at its default, as a read one is).
    std::optional<std::string> known;
    std::optional<int> known_int = IntFromDiag(spec, diag);
    if (spec.level == SOL_SOCKET && spec.name == SO_REUSEADDR) {
      known_int = reuse_addr;
    } else if (spec.level == SOL_SOCKET && spec.name == SO_PEEK_OFF) {
      known_int = peek_offset;
    }
    if (known_int.has_value()) {
      known.emplace(reinterpret_cast<const char*>(&*known_int), sizeof(int));
    } else if (diag != nullptr && diag->congestion.has_value() &&
               spec.level == SOL_TCP && spec.name == TCP_CONGESTION) {
      // As a read would keep it: at most the option's size, without NULs.
      known = diag->congestion->substr(0, spec.max_size);
    }
    if (known.has_value()) {
      if (!IsDefaultSocketOptionValue(spec, *known)) {
        out.push_back({spec.level, spec.name, *std::move(known)});
      }
      continue;
    }
    std::string value(spec.max_size, '\0');
    sys::Result<socklen_t> r = sys.GetSockOpt(
        fd, spec.level, spec.name,
        absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(value.data()),
                            value.size()));
    if (!r.ok()) {
      // An option this kernel lacks cannot have been set (EOPNOTSUPP: a
      // socket option this kind of socket lacks, SO_PEEK_OFF before 6.9).
      if (r.err == ENOPROTOOPT || r.err == EOPNOTSUPP) continue;
      return ctx.SysError(absl::StrCat("read ", spec.label), r);
    }
    value.resize(r.value < value.size() ? r.value : value.size());
    if (spec.kind == SockOptKind::kString) {
      value.resize(strnlen(value.data(), value.size()));
    }
    if (IsDefaultSocketOptionValue(spec, value)) continue;
    out.push_back({spec.level, spec.name, std::move(value)});
  }
  return out;
}

std::optional<int> IntOptionIn(const std::vector<SocketOption>& options,
                               int level, int name) {
  for (const SocketOption& o : options) {
    if (o.level == level && o.name == name && o.value.size() == sizeof(int)) {
      int v = 0;
      memcpy(&v, o.value.data(), sizeof(v));
      return v;
    }
  }
  return std::nullopt;
}

int PeekOffsetIn(const std::vector<SocketOption>& options) {
  return IntOptionIn(options, SOL_SOCKET, SO_PEEK_OFF).value_or(-1);
}

absl::Status SaveSocketOptions(const sys::Sys& sys, BorrowedFd fd,
                               std::optional<int> reuse_addr,
                               ConnectionState& s, const ErrorContext& ctx,
                               std::optional<int> peek_offset,
                               const SockDiagAnswer* diag) {
  SOCCR_RETURN_IF_ERROR(SaveSocketBuffers(sys, fd, s, ctx, nullptr, diag));
  SOCCR_ASSIGN_OR_RETURN(std::vector<SocketOption> options,
                         ReadOptionTable(sys, fd, s.local.family(), reuse_addr,
                                         ctx, peek_offset, diag));
  for (SocketOption& o : options) s.socket_options.push_back(std::move(o));
  return absl::OkStatus();
}

}  // namespace soccr::internal
