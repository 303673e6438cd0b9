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

// The value of option `spec` the caller already has, as a read would leave
// it: SO_REUSEADDR and SO_PEEK_OFF as given, the rest as `diag` carries
// them (a string at most the option's size, without its NUL); nullopt
// where the option must be read.
std::optional<std::string> KnownValue(const SockOptSpec& spec,
                                      std::optional<int> reuse_addr,
                                      std::optional<int> peek_offset,
                                      const SockDiagAnswer* diag) {
  auto is = [&](int level, int name) {
    return spec.level == level && spec.name == name;
  };
  std::optional<int> known_int;
  if (is(SOL_SOCKET, SO_REUSEADDR)) {
    known_int = reuse_addr;
  } else if (is(SOL_SOCKET, SO_PEEK_OFF)) {
    known_int = peek_offset;
  } else if (diag == nullptr) {
    return std::nullopt;
  } else if (is(SOL_IP, IP_TOS)) {
    known_int = diag->tos;
  } else if (is(SOL_IPV6, IPV6_TCLASS)) {
    known_int = diag->tclass;
  } else if (is(SOL_SOCKET, SO_MARK)) {
    known_int = diag->mark;
  } else if (is(SOL_IP, IP_FREEBIND) || is(SOL_IPV6, IPV6_FREEBIND)) {
    known_int = diag->freebind;
  } else if (is(SOL_IP, IP_TRANSPARENT) || is(SOL_IPV6, IPV6_TRANSPARENT)) {
    known_int = diag->transparent;
  } else if (is(SOL_TCP, TCP_CONGESTION) && diag->congestion.has_value()) {
    return diag->congestion->substr(0, spec.max_size);
  }
  if (!known_int.has_value()) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(&*known_int), sizeof(int));
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
    std::optional<std::string> known =
        KnownValue(spec, reuse_addr, peek_offset, diag);
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
