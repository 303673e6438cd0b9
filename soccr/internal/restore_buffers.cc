#include "soccr/internal/restore_buffers.h"

#include <errno.h>
#include <limits.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"

namespace soccr::internal {
namespace {

struct Names {
  int plain;
  int force;
  const char* plain_name;
  const char* force_name;
  const char* queue;
  const char* sysctl_max;
  const char* sysctl_tcp;
};

Names NamesOf(BufferKind kind) {
  if (kind == BufferKind::kSend) {
    return {SO_SNDBUF,          SO_SNDBUFFORCE, "SO_SNDBUF",
            "SO_SNDBUFFORCE",   "send",         "net.core.wmem_max",
            "net.ipv4.tcp_wmem"};
  }
  return {SO_RCVBUF, SO_RCVBUFFORCE,      "SO_RCVBUF",        "SO_RCVBUFFORCE",
          "receive", "net.core.rmem_max", "net.ipv4.tcp_rmem"};
}

// The argument to SO_*BUF that makes the kernel's (doubled) size `size`.
int HalfOf(uint64_t size) {
  const uint64_t half = (size + 1) / 2;
  return half > INT_MAX / 2 ? INT_MAX / 2 : static_cast<int>(half);
}

}  // namespace

absl::Status EnsureBuffer(const sys::Sys& sys, BorrowedFd fd, BufferKind kind,
                          uint64_t needed, uint64_t wanted,
                          uint64_t queue_bytes, const ErrorContext& ctx,
                          bool* raised, std::optional<int>* size) {
  *raised = false;
  std::optional<int> unused;
  if (size == nullptr) size = &unused;
  if (wanted < needed) wanted = needed;
  if (wanted == 0) return absl::OkStatus();
  const Names n = NamesOf(kind);
  sys::Result<int> cur = sys.GetSockOptInt(fd, SOL_SOCKET, n.plain);
  if (!cur.ok()) {
    return ctx.SysError(absl::StrCat("read ", n.queue, " buffer size"), cur);
  }
  *size = cur.value;
  if (static_cast<uint64_t>(cur.value) >= wanted) return absl::OkStatus();
  if (needed > INT_MAX) {
    return ctx.Error(absl::StatusCode::kResourceExhausted,
                     absl::StrCat(n.queue, " queue of ", queue_bytes,
                                  " bytes needs a buffer larger than the "
                                  "kernel allows"));
  }

  sys::Result<void> forced =
      sys.SetSockOptInt(fd, SOL_SOCKET, n.force, HalfOf(wanted));
  if (forced.ok()) {
    *raised = true;
    // The kernel's size for SO_*BUFFORCE: twice the argument (above its
    // minimum, which `cur` already was).
    *size = 2 * HalfOf(wanted);
    return absl::OkStatus();
  }
  if (forced.err != EPERM) {
    return ctx.SysError(absl::StrCat("raise ", n.queue, " buffer to ", wanted,
                                     " bytes with ", n.force_name),
                        forced);
  }
  // No CAP_NET_ADMIN in the initial user namespace. If the queue fits
  // already, `wanted` stays a wish: SO_*BUF is capped by the *mem_max sysctl
  // and could shrink a buffer that tcp_*mem gave new sockets.
  if (static_cast<uint64_t>(cur.value) >= needed) return absl::OkStatus();
  sys::Result<void> plain =
      sys.SetSockOptInt(fd, SOL_SOCKET, n.plain, HalfOf(wanted));
  if (!plain.ok()) {
    return ctx.SysError(absl::StrCat("raise ", n.queue, " buffer to ", wanted,
                                     " bytes with ", n.plain_name),
                        plain);
  }
  *raised = true;
  sys::Result<int> got = sys.GetSockOptInt(fd, SOL_SOCKET, n.plain);
  if (!got.ok()) {
    *size = std::nullopt;
    return ctx.SysError(absl::StrCat("read ", n.queue, " buffer size"), got);
  }
  *size = got.value;
  if (static_cast<uint64_t>(got.value) >= needed) return absl::OkStatus();
  return ctx.Error(
      absl::StatusCode::kFailedPrecondition,
      absl::StrCat(
          "the ", n.queue, " queue holds ", queue_bytes,
          " bytes and needs a socket buffer of ", needed, " bytes, but ",
          n.plain_name, " stops at ", got.value, " (", n.sysctl_max,
          " doubled) and ", n.force_name,
          " is not permitted (it needs CAP_NET_ADMIN in the initial user "
          "namespace). Raise ",
          n.sysctl_max, " to at least ", HalfOf(needed),
          ", or the middle value of ", n.sysctl_tcp,
          " (the buffer new sockets start with) to at least ", needed,
          ", in the restoring network namespace"));
}

void ApplyFinalBuffer(const sys::Sys& sys, BorrowedFd fd, BufferKind kind,
                      const std::optional<SocketBuffers>& final_buffers) {
  if (!final_buffers.has_value()) return;
  const bool send = kind == BufferKind::kSend;
  const bool locked =
      send ? final_buffers->sndbuf_locked : final_buffers->rcvbuf_locked;
  if (!locked) return;
  SetBufferSize(sys, fd, kind,
                send ? final_buffers->sndbuf : final_buffers->rcvbuf);
}

void SetBufferSize(const sys::Sys& sys, BorrowedFd fd, BufferKind kind,
                   uint64_t size) {
  const Names n = NamesOf(kind);
  if (!sys.SetSockOptInt(fd, SOL_SOCKET, n.force, HalfOf(size)).ok()) {
    (void)sys.SetSockOptInt(fd, SOL_SOCKET, n.plain, HalfOf(size));
  }
}

void ApplyBufferLocks(const sys::Sys& sys, BorrowedFd fd,
                      const std::optional<SocketBuffers>& final_buffers,
                      int callers, int callers_locks) {
#ifndef SO_BUF_LOCK
  constexpr int SO_BUF_LOCK = 72;
#endif
  // SOCK_SNDBUF_LOCK and SOCK_RCVBUF_LOCK.
  int mask = 0;
  if (final_buffers.has_value()) {
    if (final_buffers->sndbuf_locked) mask |= 1;
    if (final_buffers->rcvbuf_locked) mask |= 2;
  }
  mask = (mask & ~callers) | (callers_locks & callers);
  (void)sys.SetSockOptInt(fd, SOL_SOCKET, SO_BUF_LOCK, mask);
}

}  // namespace soccr::internal
