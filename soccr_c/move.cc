// The extern "C" entry points of <soccr/move.h>, on soccr's C++ API. Each
// checks what the caller passed, runs the operation, logs a failure in full
// (libsoccr_set_log) and returns libcriu's style of value. Bodies are
// noexcept: nothing unwinds into a C caller.

#include <errno.h>
#include <netinet/tcp.h>
#include <soccr/move.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "soccr/image/stream.h"
#include "soccr/migrate/migrate.h"
#include "soccr/netlock/netlock.h"
#include "soccr/soccr.h"
#include "soccr_c/kept_sock_diag.h"
#include "soccr_c/log.h"

// The caller-visible layouts are frozen (the ABI): pinned here.
static_assert(sizeof(union libsoccr_addr) == 28, "libsoccr_addr");
static_assert(sizeof(struct soccr_move_conn) == 56, "soccr_move_conn");
static_assert(offsetof(struct soccr_move_conn, peer) == 28, "conn.peer");
static_assert(sizeof(struct soccr_move_send_opts) == 64, "send_opts");
static_assert(offsetof(struct soccr_move_send_opts, fds) == 8, "fds");
static_assert(offsetof(struct soccr_move_send_opts, nfds) == 16, "nfds");
static_assert(offsetof(struct soccr_move_send_opts, timeout_ms) == 28, "to");
static_assert(offsetof(struct soccr_move_send_opts, to) == 32, "to");
static_assert(offsetof(struct soccr_move_send_opts, journal) == 56, "jnl");
static_assert(sizeof(struct soccr_move_receive_opts) == 32, "receive_opts");
static_assert(offsetof(struct soccr_move_receive_opts, listen) == 8, "lst");
static_assert(offsetof(struct soccr_move_receive_opts, dev) == 24, "dev");

namespace soccr::c_api {
namespace {

// libcriu's table (soccr/move.h) from a Status's code.
int Errno(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return -EINVAL;
    case absl::StatusCode::kUnavailable:
      // A connection that never was is "refused"; one that went is gone.
      return absl::StrContains(s.message(), ": connect to ") ||
                     absl::StrContains(s.message(), "Connection refused")
                 ? -ECONNREFUSED
                 : -ECOMM;
    case absl::StatusCode::kDataLoss:
      return -EBADMSG;
    case absl::StatusCode::kDeadlineExceeded:
      return -ETIMEDOUT;
    case absl::StatusCode::kPermissionDenied:
      return -EPERM;
    case absl::StatusCode::kNotFound:
      return -ENOENT;
    case absl::StatusCode::kAlreadyExists:
      return -EEXIST;
    case absl::StatusCode::kUnimplemented:
      return -EOPNOTSUPP;
    default:
      return -EBADE;
  }
}

int Fail(const char* call, const absl::Status& s) {
  LogError(call, s);
  return Errno(s);
}

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

absl::StatusOr<SocketAddress> Addr(const union libsoccr_addr& a,
                                   absl::string_view which) {
  const socklen_t len =
      a.sa.sa_family == AF_INET6 ? sizeof(a.v6) : sizeof(a.v4);
  absl::StatusOr<SocketAddress> s = SocketAddress::FromSockaddr(&a.sa, len);
  if (!s.ok()) return Bad(absl::StrCat(which, ": ", s.status().message()));
  return s;
}

absl::Duration Timeout(uint32_t ms) {
  return ms == 0 ? absl::Seconds(30) : absl::Milliseconds(ms);
}

int CheckImpl() noexcept {
  OwnedFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return Fail("soccr_move_check", absl::ErrnoToStatus(errno, "socket"));
  const int on = TCP_REPAIR_ON, off = TCP_REPAIR_OFF;
  if (::setsockopt(s.get(), SOL_TCP, TCP_REPAIR, &on, sizeof(on)) != 0) {
    return Fail("soccr_move_check",
                absl::ErrnoToStatus(errno, "setsockopt(TCP_REPAIR)"));
  }
  (void)::setsockopt(s.get(), SOL_TCP, TCP_REPAIR, &off, sizeof(off));
  return 0;
}

int DumpImpl(int sk, int out_fd, unsigned flags) noexcept {
  constexpr const char* kCall = "soccr_move_dump_fd";
  const unsigned known = SOCCR_MOVE_DUMP_CLOSE | SOCCR_MOVE_DUMP_LEAVE_PAUSED;
  if (sk < 0 || out_fd < 0 || (flags & ~known) != 0 || flags == known) {
    return Fail(kCall, Bad("bad descriptor or flags"));
  }
  absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(BorrowedFd(sk));
  if (!paused.ok()) return Fail(kCall, paused.status());
  CheckpointOptions options;
  options.sock_diag = KeptSockDiag();
  absl::StatusOr<ConnectionState> state = Checkpoint(*paused, options);
  if (!state.ok()) return Fail(kCall, state.status());
  absl::StatusOr<uint64_t> written =
      WriteImageToStream(BorrowedFd(out_fd), {*state});
  if (!written.ok()) return Fail(kCall, written.status());  // resumes
  if (flags & SOCCR_MOVE_DUMP_CLOSE) {
    const bool repair = paused->in_repair_mode();
    std::move(*paused).LeaveInRepairMode();
    struct sockaddr unspec = {};
    unspec.sa_family = AF_UNSPEC;
    (void)::connect(sk, &unspec, sizeof(unspec));
    if (repair) {
      const int off = TCP_REPAIR_OFF_NO_WP;
      (void)::setsockopt(sk, SOL_TCP, TCP_REPAIR, &off, sizeof(off));
    }
  } else if (flags & SOCCR_MOVE_DUMP_LEAVE_PAUSED) {
    std::move(*paused).LeaveInRepairMode();
  } else if (absl::Status s = std::move(*paused).Resume(); !s.ok()) {
    return Fail(kCall, s);
  }
  return 0;
}

int RestoreImpl(int in_fd) noexcept {
  constexpr const char* kCall = "soccr_move_restore_fd";
  if (in_fd < 0) return Fail(kCall, Bad("bad descriptor"));
  absl::StatusOr<ImageReader> image = ReadImageStream(BorrowedFd(in_fd));
  if (!image.ok()) return Fail(kCall, image.status());
  absl::StatusOr<ConnectionState> state = image->Read(0);
  if (!state.ok()) return Fail(kCall, state.status());
  absl::StatusOr<RestoredSocket> restored = Restore(*state);
  if (!restored.ok()) return Fail(kCall, restored.status());
  absl::StatusOr<OwnedFd> live = std::move(*restored).Resume();
  if (!live.ok()) return Fail(kCall, live.status());
  return live->release();
}

int LockImpl(const soccr_move_conn* conns, unsigned n, char* id) noexcept {
  constexpr const char* kCall = "soccr_move_lock";
  if (id == nullptr || (conns == nullptr) != (n == 0)) {
    return Fail(kCall, Bad("id is NULL, or conns and n disagree"));
  }
  absl::StatusOr<NetworkLock> lock;
  if (n == 0) {
    lock = NetworkLock::LockNamespace();
  } else {
    std::vector<ConnectionKey> keys;
    keys.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      absl::StatusOr<SocketAddress> l = Addr(conns[i].local, "local");
      absl::StatusOr<SocketAddress> p = Addr(conns[i].peer, "peer");
      if (!l.ok()) return Fail(kCall, l.status());
      if (!p.ok()) return Fail(kCall, p.status());
      keys.push_back({*l, *p});
    }
    lock = NetworkLock::LockConnections(keys);
  }
  if (!lock.ok()) return Fail(kCall, lock.status());
  const std::string s = std::move(*lock).LeaveInPlace();
  memcpy(id, s.c_str(), SOCCR_MOVE_LOCK_ID_SIZE);
  return 0;
}

int UnlockImpl(const char* id) noexcept {
  if (id == nullptr) return Fail("soccr_move_unlock", Bad("id is NULL"));
  absl::Status s = NetworkLock::UnlockById(std::string(id, strnlen(id, 64)));
  return s.ok() ? 0 : Fail("soccr_move_unlock", s);
}

int SendImpl(const soccr_move_send_opts* o) noexcept {
  constexpr const char* kCall = "soccr_move_send";
  if (o == nullptr || o->size < sizeof(soccr_move_send_opts) ||
      o->to == nullptr || o->pid <= 0 || o->lock > SOCCR_MOVE_LOCK_NONE ||
      (o->all != 0) == (o->nfds != 0) || (o->nfds != 0 && o->fds == nullptr) ||
      (o->release_address != nullptr && o->dev == nullptr)) {
    return Fail(kCall, Bad("bad options"));
  }
  SendOptions s;
  s.pid = o->pid;
  s.fds.assign(o->fds, o->fds + o->nfds);
  s.all = o->all != 0;
  s.to = o->to;
  s.lock = o->lock == SOCCR_MOVE_LOCK_NAMESPACE ? LockMode::kNamespace
           : o->lock == SOCCR_MOVE_LOCK_NONE    ? LockMode::kNone
                                                : LockMode::kConnections;
  if (o->release_address != nullptr) {
    absl::StatusOr<InterfaceAddress> a =
        InterfaceAddress::Parse(o->release_address);
    if (!a.ok()) return Fail(kCall, a.status());
    s.release_address = *a;
    s.dev = o->dev;
  }
  s.timeout = Timeout(o->timeout_ms);
  if (o->journal != nullptr) s.journal = o->journal;
  absl::StatusOr<SendReport> r = Send(s);
  return r.ok() ? 0 : Fail(kCall, r.status());
}

int ReceiveImpl(const soccr_move_receive_opts* o, int* fds,
                unsigned max_fds) noexcept {
  constexpr const char* kCall = "soccr_move_receive";
  if (o == nullptr || o->size < sizeof(soccr_move_receive_opts) ||
      o->listen == nullptr || fds == nullptr || max_fds == 0 ||
      (o->take_address != nullptr && o->dev == nullptr)) {
    return Fail(kCall, Bad("bad options"));
  }
  ReceiveOptions r;
  r.listen = o->listen;
  if (o->take_address != nullptr) {
    absl::StatusOr<InterfaceAddress> a =
        InterfaceAddress::Parse(o->take_address);
    if (!a.ok()) return Fail(kCall, a.status());
    r.take_address = *a;
    r.dev = o->dev;
  }
  r.timeout = Timeout(o->timeout_ms);
  r.max_connections = max_fds;
  absl::StatusOr<ReceiveResult> got = Receive(r);
  if (!got.ok()) return Fail(kCall, got.status());
  int n = 0;
  for (OwnedFd& f : got->connections) fds[n++] = f.release();
  return n;
}

}  // namespace
}  // namespace soccr::c_api

extern "C" {

int soccr_move_check(void) { return soccr::c_api::CheckImpl(); }
int soccr_move_dump_fd(int sk, int out_fd, unsigned flags) {
  return soccr::c_api::DumpImpl(sk, out_fd, flags);
}
int soccr_move_restore_fd(int in_fd) {
  return soccr::c_api::RestoreImpl(in_fd);
}
int soccr_move_lock(const struct soccr_move_conn* conns, unsigned n, char* id) {
  return soccr::c_api::LockImpl(conns, n, id);
}
int soccr_move_unlock(const char* id) { return soccr::c_api::UnlockImpl(id); }
int soccr_move_send(const struct soccr_move_send_opts* opts) {
  return soccr::c_api::SendImpl(opts);
}
int soccr_move_receive(const struct soccr_move_receive_opts* opts, int* fds,
                       unsigned max_fds) {
  return soccr::c_api::ReceiveImpl(opts, fds, max_fds);
}

}  // extern "C"
