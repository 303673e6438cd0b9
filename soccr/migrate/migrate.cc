#include "soccr/migrate/migrate.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/batch.h"
#include "soccr/image/image.h"
#include "soccr/image/stream.h"
#include "soccr/internal/status_code.h"
#include "soccr/migrate/endpoint.h"
#include "soccr/migrate/journal.h"
#include "soccr/netlock/netlock.h"
#include "soccr/soccr.h"
#include "tools/pidfd.h"

namespace soccr {
namespace {

using migrate::DestinationTimes;
using migrate::Message;
using migrate::MessageType;
using tools::CheckTcpSocket;
using tools::TakeDescriptor;

// Test hook: SOCCR_CRASH_AT=<step> kills this process with SIGKILL at that
// step, so that tests can check what a crash there leaves (docs/
// migration.md). Unset, it costs a getenv per step.
void CrashPoint(const char* step) {
  const char* at = ::getenv("SOCCR_CRASH_AT");
  if (at != nullptr && strcmp(at, step) == 0) ::raise(SIGKILL);
}

absl::Status Prefixed(absl::string_view prefix, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

uint64_t RandomSession() {
  uint64_t v = 0;
  while (::getrandom(&v, sizeof(v), 0) < 0 && errno == EINTR) {
  }
  return v;
}

// Drops the connection of a socket in repair mode without a packet to the
// peer (connect(AF_UNSPEC) in repair mode), then leaves repair mode without
// a window probe, so that its owner sees a closed socket (ECONNABORTED)
// rather than repair mode's errors.
void DisconnectSilently(BorrowedFd fd) {
  struct sockaddr unspec = {};
  unspec.sa_family = AF_UNSPEC;
  (void)::connect(fd.get(), &unspec, sizeof(unspec));
  const int off = TCP_REPAIR_OFF_NO_WP;
  (void)::setsockopt(fd.get(), SOL_TCP, TCP_REPAIR, &off, sizeof(off));
}

// Every connected TCP socket of `pid` (listeners and unconnected sockets
// are not moved).
absl::StatusOr<std::vector<int>> AllTcpConnections(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid, "/fd");
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return internal::ErrnoStatus(errno, absl::StrCat("opendir ", dir));
  std::vector<int> fds;
  while (dirent* e = ::readdir(d.get())) {
    int fd = -1;
    if (!absl::SimpleAtoi(e->d_name, &fd)) continue;
    absl::StatusOr<OwnedFd> copy = TakeDescriptor(pid, fd);
    if (!copy.ok()) continue;
    if (!CheckTcpSocket(copy->borrow(), "").ok()) continue;
    if (!migrate::TcpKey(copy->borrow()).has_value()) continue;
    fds.push_back(fd);
  }
  std::sort(fds.begin(), fds.end());
  if (fds.empty()) {
    return absl::NotFoundError(
        absl::StrCat("process ", pid, " has no connected TCP socket"));
  }
  return fds;
}

// How many connections go in the next image of a pipelined move, `done` of
// `n` sent, the last image of `prev` (0 before the first). `asked`, if not
// 0, is the caller's fixed size. Otherwise the images grow from 128 to the
// largest size (n/8, within 128..1,024: large enough that the per-image
// costs, threads and a message, stay small) and shrink again towards the
// end, to at most half of what is left: the first is soon at the
// destination, which then restores it while the source checkpoints the
// next, and the last, whose restore nothing overlaps, is short.
size_t NextChunk(size_t done, size_t n, size_t prev, size_t asked) {
  const size_t left = n - done;
  if (asked != 0) return std::min(asked, left);
  constexpr size_t kSmallest = 128;
  const size_t largest = std::clamp<size_t>(n / 8, kSmallest, 1024);
  size_t size = prev == 0 ? kSmallest : std::min(2 * prev, largest);
  size = std::min(size, std::max(kSmallest, left / 2));
  return std::min(size, left);
}

struct Taken {
  int fd;  // in the owning process
  OwnedFd copy;
  ConnectionKey key;
};

// A move in progress on the source: what rollback undoes.
class SourceMove {
 public:
  explicit SourceMove(const SendOptions& o) : o_(o) {}

  absl::StatusOr<SendReport> Run();

 private:
  absl::Status Journal(const std::string& phase);
  // Resumes the originals, unlocks, removes the journal; `why` with
  // "rolled back" added.
  absl::Status RollBack(const absl::Status& why);
  // Reads the destination's reply to `answering` from the control
  // connection: OK if it is `type` for `count` connections; its FAIL as
  // the destination's error; a timeout or a lost connection as what went
  // wrong `waiting_for` it; anything else as a protocol error.
  absl::Status ExpectReply(MessageType type, uint32_t count,
                           absl::string_view waiting_for,
                           absl::string_view answering, absl::Time deadline);

  const SendOptions& o_;
  std::vector<Taken> taken_;
  std::optional<NetworkLock> lock_;
  std::vector<absl::StatusOr<PausedCheckpoint>> paused_;
  std::vector<ConnectionState> states_;  // paused_[i]'s
  OwnedFd control_;
  std::string session_;
  std::string image_path_;
};

absl::Status SourceMove::Journal(const std::string& phase) {
  if (o_.journal.empty()) return absl::OkStatus();
  migrate::Journal j;
  j.phase = phase;
  j.session = session_;
  j.pid = o_.pid;
  for (const Taken& t : taken_) j.fds.push_back(t.fd);
  j.lock = lock_.has_value() ? lock_->id() : "";
  j.to = o_.to;
  j.release_address =
      o_.release_address.has_value() ? o_.release_address->ToString() : "";
  j.dev = o_.dev;
  j.image = phase == "committed" ? image_path_ : "";
  return migrate::WriteJournal(o_.journal, j);
}

absl::Status SourceMove::RollBack(const absl::Status& why) {
  if (control_) {
    Message abort;
    abort.type = MessageType::kAbort;
    (void)migrate::WriteMessage(control_.borrow(), abort,
                                absl::Now() + absl::Seconds(1));
  }
  paused_.clear();  // each PausedSocket resumes its original
  std::string extra;
  if (lock_.has_value()) {
    if (absl::Status s = std::move(*lock_).Unlock(); !s.ok()) {
      extra = absl::StrCat(" (but the source's lock ", lock_->id(),
                           " could not be removed: ", s.message(),
                           "; run soccr unlock ", lock_->id(), ")");
      (void)std::move(*lock_).LeaveInPlace();
    }
    lock_.reset();
  }
  if (!o_.journal.empty()) (void)::unlink(o_.journal.c_str());
  return absl::Status(
      why.code(),
      absl::StrCat("send: ", why.message(),
                   "; rolled back: every original resumed at the source",
                   extra));
}

absl::Status SourceMove::ExpectReply(MessageType type, uint32_t count,
                                     absl::string_view waiting_for,
                                     absl::string_view answering,
                                     absl::Time deadline) {
  absl::StatusOr<Message> reply =
      migrate::ReadMessage(control_.borrow(), deadline);
  if (!reply.ok()) {
    return Prefixed(absl::StrCat("waiting for ", waiting_for, ": "),
                    reply.status());
  }
  if (reply->type == MessageType::kFailed) {
    return absl::Status(reply->code,
                        absl::StrCat("the destination failed: ",
                                     absl::CHexEscape(reply->text)));
  }
  if (reply->type != type || reply->count != count) {
    return absl::DataLossError(
        absl::StrCat("protocol: the destination answered ",
                     migrate::MessageTypeName(reply->type), " ", reply->count,
                     " to ", answering, " (expected ",
                     migrate::MessageTypeName(type), " ", count, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SendReport> SourceMove::Run() {
  SendReport report;
  const absl::Time start = absl::Now();
  session_ = absl::StrCat(absl::Hex(RandomSession(), absl::kZeroPad16));
  absl::StatusOr<migrate::Endpoint> to = migrate::ParseEndpoint(o_.to);
  if (!to.ok()) return to.status();

  std::vector<int> fds = o_.fds;
  if (o_.all) {
    absl::StatusOr<std::vector<int>> all = AllTcpConnections(o_.pid);
    if (!all.ok()) return all.status();
    fds = *all;
  }
  if (fds.empty()) return absl::InvalidArgumentError("send: no connections");
  for (int fd : fds) {
    const std::string what = absl::StrCat("fd ", fd, " of process ", o_.pid);
    absl::StatusOr<OwnedFd> copy = TakeDescriptor(o_.pid, fd);
    if (!copy.ok()) return copy.status();
    // What we are handed: only TCP connections are moved.
    if (absl::Status s = CheckTcpSocket(copy->borrow(), what); !s.ok()) {
      return s;
    }
    std::optional<ConnectionKey> key = migrate::TcpKey(copy->borrow());
    if (!key.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is not a connected TCP socket"));
    }
    taken_.push_back({fd, *std::move(copy), *key});
  }

  // What no restore can carry (TCP-MD5/AO keys, kTLS) is refused now,
  // while nothing is paused, rather than by each checkpoint inside the
  // downtime, and the socket options, the addresses, SO_REUSEADDR and the
  // buffer locks are read now for the same reason (ReadAhead(): the owner
  // is stopped, so nothing adds keys, sets options or reconnects
  // meanwhile; the buffer sizes, which the kernel tunes itself, are still
  // read by the checkpoints, as are the addresses of a connection a reset
  // has closed since).
  std::vector<absl::Status> carriable(taken_.size());
  std::vector<ReadAheadState> ahead(taken_.size());
  ForEachConnection(taken_.size(), {}, [&](size_t i) {
    carriable[i] = CheckCarriable(taken_[i].copy.borrow());
    if (!carriable[i].ok()) return;
    absl::StatusOr<ReadAheadState> o = ReadAhead(taken_[i].copy.borrow());
    if (o.ok()) {
      ahead[i] = *std::move(o);
    } else {
      carriable[i] = o.status();
    }
  });
  for (size_t i = 0; i < carriable.size(); ++i) {
    if (!carriable[i].ok()) {
      return Prefixed(
          absl::StrCat("send: fd ", taken_[i].fd, " of process ", o_.pid, ": "),
          carriable[i]);
    }
  }

  const absl::Time connect_deadline = absl::Now() + o_.timeout;
  absl::StatusOr<OwnedFd> control = migrate::Connect(*to, connect_deadline);
  if (!control.ok()) return Prefixed("send: ", control.status());
  control_ = *std::move(control);
  // The control connection must outlive the address's release.
  if (std::optional<ConnectionKey> k = migrate::TcpKey(control_.borrow());
      k.has_value() && o_.release_address.has_value()) {
    SocketAddress ip = k->local;
    ip.set_port(0);
    if (ip == o_.release_address->ip) {
      return absl::FailedPreconditionError(
          absl::StrCat("send: the connection to ", o_.to, " goes out from ",
                       k->local.ToString(),
                       ", the address to be released; reach the "
                       "destination through another address"));
    }
  }

  // The lock, staged: its table and sets are built now, while the
  // connections still run; only its rules go in at the lock (one small
  // transaction whatever the number of connections). The journal is
  // written now too: off the downtime, and with the lock's id in it.
  LockOptions lo;
  lo.note = absl::StrCat("soccr send ", session_);
  if (o_.lock == LockMode::kConnections) {
    std::vector<ConnectionKey> keys;
    keys.reserve(taken_.size());
    for (const Taken& t : taken_) keys.push_back(t.key);
    absl::StatusOr<NetworkLock> l = NetworkLock::StageConnections(keys, lo);
    if (!l.ok()) return RollBack(Prefixed("lock: ", l.status()));
    lock_.emplace(*std::move(l));
  }
  if (absl::Status s = Journal("locked"); !s.ok()) return RollBack(s);

  // HELO with the keys, before anything is paused: the destination locks
  // them while the connections still run here, off the downtime, and says
  // when it is ready. Nothing to undo if it refuses.
  const absl::Time hello_deadline = absl::Now() + o_.timeout;
  Message hello;
  hello.type = MessageType::kHello;
  hello.flags = migrate::kHelloStreamed;
  hello.count = static_cast<uint32_t>(taken_.size());
  uint64_t session_number = 0;
  (void)absl::SimpleHexAtoi(session_, &session_number);
  hello.session = session_number;
  for (const Taken& t : taken_) {
    hello.fds.push_back(static_cast<uint32_t>(t.fd));
    hello.keys.push_back({t.key.local, t.key.peer});
  }
  if (absl::Status w =
          migrate::WriteMessage(control_.borrow(), hello, hello_deadline);
      !w.ok()) {
    return RollBack(w);
  }
  if (absl::Status r =
          ExpectReply(MessageType::kReady, hello.count,
                      "the destination's lock", "HELO", hello_deadline);
      !r.ok()) {
    return RollBack(r);
  }

  // Lock.
  const absl::Time lock_start = absl::Now();
  if (o_.lock == LockMode::kConnections) {
    if (absl::Status a = lock_->Activate(); !a.ok()) {
      return RollBack(Prefixed("lock: ", a));
    }
  } else if (o_.lock == LockMode::kNamespace) {
    if (std::optional<ConnectionKey> k = migrate::TcpKey(control_.borrow())) {
      lo.exempt.push_back(*k);
    }
    absl::StatusOr<NetworkLock> l = NetworkLock::LockNamespace(lo);
    if (!l.ok()) return RollBack(Prefixed("lock: ", l.status()));
    lock_.emplace(*std::move(l));
    if (absl::Status s = Journal("locked"); !s.ok()) return RollBack(s);
  }
  const absl::Time locked_at = absl::Now();
  report.lock = locked_at - lock_start;
  CrashPoint("send:locked");

  // Checkpoint and transfer, pipelined: the connections go in chunks, each
  // checkpointed, serialized and sent while the destination restores the
  // one before. `checkpoint` is the time spent checkpointing and
  // serializing, `transfer` the rest until the destination has restored
  // the last chunk.
  const absl::Time deadline = locked_at + o_.timeout;
  const size_t n = taken_.size();
  std::vector<BorrowedFd> borrowed;
  borrowed.reserve(n);
  for (const Taken& t : taken_) borrowed.push_back(t.copy.borrow());
  paused_.reserve(n);
  states_.reserve(n);
  absl::Duration checkpointing;
  BatchOptions checkpointing_options;
  checkpointing_options.checkpoint.check_carriable = false;  // done above
  // The destination plans each state in its Restore() and refuses (and the
  // move rolls back) what it cannot restore: planning here too would only
  // add the same work to the downtime.
  ImageWriteOptions image_options;
  image_options.check_restorable = false;
  for (size_t start = 0, len = 0; start < n; start += len) {
    const absl::Time t0 = absl::Now();
    len = NextChunk(start, n, len, o_.chunk);
    checkpointing_options.read_ahead =
        absl::MakeConstSpan(ahead).subspan(start, len);
    std::vector<absl::StatusOr<PausedCheckpoint>> part =
        CheckpointMany(absl::MakeConstSpan(borrowed).subspan(start, len),
                       checkpointing_options);
    for (size_t i = 0; i < part.size(); ++i) {
      if (!part[i].ok()) {
        const absl::Status why = part[i].status();
        part.clear();  // resumes this chunk; RollBack the earlier ones
        return RollBack(Prefixed(
            absl::StrCat("checkpoint fd ", taken_[start + i].fd, ": "), why));
      }
    }
    for (auto& p : part) {
      states_.push_back(std::move(p->state));
      paused_.push_back(std::move(p));
    }
    absl::StatusOr<std::string> image = SerializeImage(
        absl::MakeConstSpan(states_).subspan(start, len), image_options);
    if (!image.ok()) return RollBack(image.status());
    checkpointing += absl::Now() - t0;
    if (start + len == n) CrashPoint("send:checkpointed");
    Message images;
    images.type = MessageType::kImages;
    images.count = static_cast<uint32_t>(len);
    images.image_bytes = image->size();
    report.image_bytes += image->size();
    if (absl::Status w = migrate::WriteAllBytes(
            control_.borrow(), migrate::EncodeMessage(images) + *image,
            deadline);
        !w.ok()) {
      return RollBack(w);
    }
  }
  report.checkpoint = checkpointing;
  report.connections = n;
  CrashPoint("send:sent");
  if (absl::Status r =
          ExpectReply(MessageType::kRestored, hello.count,
                      "the destination's restore", "the images", deadline);
      !r.ok()) {
    return RollBack(r);
  }
  report.transfer = absl::Now() - locked_at - checkpointing;
  CrashPoint("send:restored");

  // Commit: from here the connections are the destination's (or, until it
  // confirms, the saved image's).
  const absl::Time commit_start = absl::Now();
  if (!o_.journal.empty()) {
    image_path_ = absl::StrCat(o_.journal, ".image");
    // Unchecked too: the destination has restored every one of these
    // states, and Recover() checks them again when it reads the image.
    absl::StatusOr<std::string> image = SerializeImage(states_, image_options);
    if (!image.ok()) return RollBack(image.status());
    if (absl::Status w = migrate::WriteFileDurably(image_path_, *image, 0600);
        !w.ok()) {
      return RollBack(w);
    }
  }
  if (absl::Status j = Journal("committed"); !j.ok()) return RollBack(j);
  CrashPoint("send:committed");
  for (auto& p : paused_) {
    std::move(p->socket).LeaveInRepairMode();
  }
  paused_.clear();
  std::string left;
  if (o_.release_address.has_value()) {
    if (absl::Status r = ReleaseAddress(*o_.release_address, o_.dev);
        !r.ok() && !absl::IsNotFound(r)) {
      left = absl::StrCat("; releasing the address failed: ", r.message());
    }
  }
  Message go;
  go.type = MessageType::kGo;
  absl::Status g = migrate::WriteMessage(control_.borrow(), go, deadline);
  CrashPoint("send:go-sent");
  absl::StatusOr<Message> done =
      g.ok() ? migrate::ReadMessage(control_.borrow(), absl::Now() + o_.timeout)
             : absl::StatusOr<Message>(g);
  // DONE follows the destination's unlock: the downtime ends here, before
  // the disconnects below.
  const absl::Time done_at = absl::Now();
  report.commit = done_at - commit_start;
  // The originals stay in repair mode, silent and behind the lock, until
  // disconnected here, once the destination has resumed: no CPU taken from
  // its resume (a crash before this leaves them to `soccr recover`, which
  // disconnects them too).
  ForEachConnection(taken_.size(), {}, [&](size_t i) {
    DisconnectSilently(taken_[i].copy.borrow());
  });
  if (!done.ok() || done->type != MessageType::kDone) {
    // The destination may have died after the go-ahead: the image in the
    // journal still holds the connections. Keep the lock and the journal.
    if (lock_.has_value()) (void)std::move(*lock_).LeaveInPlace();
    lock_.reset();
    const absl::Status why = done.ok()
                                 ? absl::DataLossError(absl::StrCat(
                                       "the destination answered ",
                                       migrate::MessageTypeName(done->type)))
                                 : done.status();
    return absl::Status(
        why.code(),
        absl::StrCat("send: committed, but the destination did not confirm (",
                     why.message(), ")", left,
                     o_.journal.empty()
                         ? "; without a journal nothing can be recovered"
                         : absl::StrCat("; the connections are in ",
                                        image_path_, ": run soccr recover ",
                                        o_.journal, " --to ADDR")));
  }
  report.destination = done->times;
  report.downtime = done_at - lock_start;

  // Unlock.
  const absl::Time unlock_start = absl::Now();
  if (lock_.has_value()) {
    if (absl::Status u = std::move(*lock_).Unlock(); !u.ok()) {
      left = absl::StrCat(
          left, "; the source's lock could not be removed: ", u.message());
    }
  }
  report.unlock = absl::Now() - unlock_start;
  // Closing the lock's netlink socket right after the deletion waits for an
  // RCU grace period (docs/network-lock.md): after the unlock, not in it.
  lock_.reset();
  if (!o_.journal.empty()) {
    (void)::unlink(o_.journal.c_str());
    (void)::unlink(image_path_.c_str());
  }
  report.total = absl::Now() - start;
  if (!left.empty()) {
    return absl::InternalError(absl::StrCat("send: moved", left));
  }
  return report;
}

// The destination's side.

// Address, port (and scope) equal; the flow label is no part of a
// connection's identity.
bool SameEndpoint(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family() || a.port() != b.port()) return false;
  if (a.family() == AF_INET) {
    return a.v4().sin_addr.s_addr == b.v4().sin_addr.s_addr;
  }
  return a.v6().sin6_scope_id == b.v6().sin6_scope_id &&
         memcmp(&a.v6().sin6_addr, &b.v6().sin6_addr, 16) == 0;
}

SocketAddress Unmapped(const SocketAddress& a) {
  if (!a.is_v4_mapped()) return a;
  uint32_t v4 = 0;
  memcpy(&v4, &a.v6().sin6_addr.s6_addr[12], 4);
  return SocketAddress::V4(ntohl(v4), a.port());
}

// What we are handed: a connection (with a peer) and, with an address to
// take, one of that address, or a sender could have us hijack any
// connection.
absl::Status CheckTaken(const ReceiveOptions& o, const SocketAddress& local,
                        const SocketAddress& peer) {
  const std::string what =
      absl::StrCat(local.ToString(), "->", peer.ToString());
  if (peer.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("receive: ", what, ": not a connection (no peer)"));
  }
  if (o.take_address.has_value()) {
    // A dual-stack socket's IPv4 connection (::ffff:a.b.c.d) is on the
    // IPv4 address.
    SocketAddress ip = Unmapped(local);
    ip.set_port(0);
    if (!SameEndpoint(ip, Unmapped(o.take_address->ip))) {
      return absl::PermissionDeniedError(
          absl::StrCat("receive: ", what, ": its local address is not ",
                       o.take_address->ToString(), ", the one taken"));
    }
  }
  return absl::OkStatus();
}

// What a new TCP socket of `family` has in this network namespace, as the
// kernel reports it (the option table's values that differ from the
// table's defaults: those that follow a sysctl, such as the keepalive
// timing and the TTL). Read from a plain socket, not one in repair mode
// (there SO_REUSEADDR reads as forced reuse).
std::vector<SocketOption> FreshSocketValues(int family) {
  OwnedFd probe(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!probe) return {};
  absl::StatusOr<std::vector<SocketOption>> v =
      ReadSocketOptions(probe.borrow());
  return v.ok() ? *std::move(v) : std::vector<SocketOption>{};
}

// Whether setting `o` on a fresh socket that already reports its value
// `fresh` changes nothing a restore must carry. For the options whose value
// follows a sysctl until set (TCP_KEEPIDLE/INTVL/CNT, IP_TTL,
// IPV6_UNICAST_HOPS, IPV6_V6ONLY) setting only pins the value the kernel
// reports already; left unset the socket follows the destination's
// sysctl, as the original, showing the same value, followed the source's.
// TCP_CONGESTION is always set: setting it also marks the choice as the
// application's (icsk_ca_setsockopt), which keeps a route's congestion
// control (RTAX_CC_ALGO) from replacing it.
bool SetsNothing(const SocketOption& o,
                 const std::vector<SocketOption>& fresh) {
  if (o.level == SOL_TCP && o.name == TCP_CONGESTION) return false;
  for (const SocketOption& f : fresh) {
    if (f.level == o.level && f.name == o.name && f.value == o.value) {
      return true;
    }
  }
  return false;
}

// What a restored socket gets back once the move is done.
struct OwnSettings {
  struct linger linger = {};  // its own, for linger 0 during the move
  // Allowed a non-local address ahead (AllowNonlocalBind), which the
  // original did not have: cleared once the address is local.
  bool clear_transparent = false;
  int family = AF_INET;  // the socket's
};

bool IsTransparent(const SocketOption& o) {
  return (o.level == SOL_IP && o.name == IP_TRANSPARENT) ||
         (o.level == SOL_IPV6 && o.name == IPV6_TRANSPARENT);
}

// Readies a received state for its restore, in memory: drops the options
// SetsNothing() finds already in place on a fresh socket here, and puts
// linger 0 in place of the connection's own, so that the restore sets it
// with the other options (see the resume below for why). Returns what the
// socket gets back after the move; `allowed_nonlocal`: its fresh socket
// was allowed a non-local address ahead.
OwnSettings ForRestoreHere(ConnectionState& s,
                           const std::vector<SocketOption>& fresh,
                           bool allowed_nonlocal) {
  OwnSettings own;
  own.clear_transparent = allowed_nonlocal;
  own.family = s.local.family();
  const struct linger abort_close = {1, 0};
  const std::string abort_value(reinterpret_cast<const char*>(&abort_close),
                                sizeof(abort_close));
  bool linger_set = false;
  // Filtered in place: no allocation per connection (the linger added
  // below fits where a dropped option was, as a rule).
  std::vector<SocketOption>& options = s.socket_options;
  size_t kept = 0;
  for (size_t i = 0; i < options.size(); ++i) {
    SocketOption& o = options[i];
    // One of another size is left as it came, for the restore's
    // PlanRestore to refuse (the kernel takes no shorter struct linger).
    if (o.level == SOL_SOCKET && o.name == SO_LINGER &&
        o.value.size() == sizeof(own.linger)) {
      memcpy(&own.linger, o.value.data(), sizeof(own.linger));
      o.value = abort_value;
      linger_set = true;
    } else if (SetsNothing(o, fresh)) {
      continue;
    }
    // Saved only when set (not 0): the original was transparent itself.
    if (IsTransparent(o)) own.clear_transparent = false;
    if (kept != i) options[kept] = std::move(o);
    ++kept;
  }
  options.erase(options.begin() + static_cast<ptrdiff_t>(kept), options.end());
  if (!linger_set) options.push_back({SOL_SOCKET, SO_LINGER, abort_value});
  return own;
}

// Saves the socket's linger setting in `saved` and sets linger 0 (a close
// is then a reset).
void SetAbortLinger(BorrowedFd fd, struct linger* saved) {
  socklen_t len = sizeof(*saved);
  (void)::getsockopt(fd.get(), SOL_SOCKET, SO_LINGER, saved, &len);
  const struct linger abort_close = {1, 0};
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &abort_close,
                     sizeof(abort_close));
}

// Whether process `pid` has ended (gone, or a zombie nobody has reaped: its
// sockets were closed when it died either way).
bool ProcessEnded(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  OwnedFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[512];
  const ssize_t n = f ? ::read(f.get(), buf, sizeof(buf) - 1) : -1;
  if (n <= 0) return false;
  buf[n] = '\0';
  // "pid (comm) S ...": the state follows the last ')'.
  const char* close = strrchr(buf, ')');
  return close != nullptr && close[1] == ' ' &&
         (close[2] == 'Z' || close[2] == 'X');
}

// Removes the locks in this namespace with this note (a receiver's, with
// its session) whose process has gone, but `ours`. Says what it did, or
// failed to do, on standard error: the receiver's output is CMD's.
void RemoveLocksOfTheDead(const std::string& note, const std::string& ours) {
  absl::StatusOr<std::vector<LockInfo>> locks = NetworkLock::List();
  if (!locks.ok()) {
    fprintf(stderr, "soccr receive: listing the locks: %s\n",
            std::string(locks.status().message()).c_str());
    return;
  }
  for (const LockInfo& l : *locks) {
    if (l.note != note || l.id == ours) continue;
    if (l.pid <= 0 || !ProcessEnded(l.pid)) continue;
    const absl::Status u = NetworkLock::UnlockById(l.id);
    fprintf(stderr,
            "soccr receive: lock %s of the receiver (pid %d) that died "
            "in this move: %s\n",
            l.id.c_str(), static_cast<int>(l.pid),
            u.ok() ? "removed" : std::string(u.message()).c_str());
  }
}

absl::Status Fail(BorrowedFd control, const absl::Status& why) {
  Message m;
  m.type = MessageType::kFailed;
  m.code = why.code();
  m.text = std::string(why.message());
  (void)migrate::WriteMessage(control, m, absl::Now() + absl::Seconds(1));
  return why;
}

}  // namespace

absl::StatusOr<SendReport> Send(const SendOptions& options) {
  SourceMove move(options);
  return move.Run();
}

absl::StatusOr<ReceiveResult> Receive(const ReceiveOptions& o) {
  absl::StatusOr<migrate::Endpoint> at = migrate::ParseEndpoint(o.listen);
  if (!at.ok()) return at.status();
  absl::StatusOr<OwnedFd> listener = migrate::Listen(*at);
  if (!listener.ok()) return Prefixed("receive: ", listener.status());
  absl::StatusOr<OwnedFd> control =
      migrate::Accept(listener->borrow(),
                      o.accept_timeout == absl::InfiniteDuration()
                          ? absl::InfiniteFuture()
                          : absl::Now() + o.accept_timeout,
                      migrate::PeerPolicy{o.any_uid});
  if (!control.ok()) return Prefixed("receive: ", control.status());
  listener->reset();
  const BorrowedFd c = control->borrow();
  const absl::Time deadline = absl::Now() + o.timeout;

  absl::StatusOr<Message> hello = migrate::ReadMessage(c, deadline);
  if (!hello.ok()) return Prefixed("receive: ", hello.status());
  if (hello->type != MessageType::kHello) {
    return Fail(c, absl::DataLossError(absl::StrCat(
                       "receive: protocol: ",
                       migrate::MessageTypeName(hello->type), " before HELO")));
  }
  if (o.max_connections != 0 && hello->count > o.max_connections) {
    return Fail(c, absl::FailedPreconditionError(absl::StrCat(
                       "receive: the sender has ", hello->count,
                       " connections, more than the ", o.max_connections,
                       " this receiver takes")));
  }
  CrashPoint("receive:hello");
  ReceiveResult result;
  // Declared first, destroyed last: on an error the restored sockets close
  // (silently, in repair mode, or resumed with linger 0, a reset the lock
  // drops) before the lock goes.
  std::optional<NetworkLock> lock;
  std::vector<absl::StatusOr<RestoredSocket>> restored;
  // Streamed: the connections restored and resumed so far, still behind
  // the lock (see the resume after the go-ahead for the options).
  std::vector<OwnedFd> resumed;
  const bool streamed = (hello->flags & migrate::kHelloStreamed) != 0;
  std::vector<FreshSocket> fresh;    // streamed: one per connection, ahead
  std::vector<OwnSettings> lingers;  // each restored socket's own
  const std::string note = absl::StrCat(
      "soccr receive ", absl::Hex(hello->session, absl::kZeroPad16));
  // The connections resume while our lock still holds them, so that a
  // crash before the unlock leaves the source able to redeliver the image.
  // The in-flight probe cannot work then: its answer would be dropped by
  // the lock, and each connection with bytes in flight would wait out the
  // whole probe timeout (50 ms) inside the downtime before taking the
  // plain path anyway. So no probe: those bytes go as the plain path sends
  // them (see docs/migration.md, "Data in flight").
  // The window probe TCP_REPAIR_OFF sends would be dropped by the same
  // lock (it drops our packets too), so leave repair mode without it: the
  // wire sees the same, and the resume makes no packet per connection.
  ResumeOptions resume_options;
  resume_options.in_flight_probe_timeout = absl::ZeroDuration();
  resume_options.window_probe = false;
  if (streamed) {
    // Pipelined (soccr send): lock the keys now, while the source still
    // runs them, then restore each chunk of images as it comes.
    std::vector<ConnectionKey> keys;
    keys.reserve(hello->keys.size());
    for (const migrate::Key& k : hello->keys) {
      if (absl::Status s = CheckTaken(o, k.local, k.peer); !s.ok()) {
        return Fail(c, s);
      }
      keys.push_back({k.local, k.peer});
    }
    absl::Time t = absl::Now();
    absl::StatusOr<NetworkLock> l =
        NetworkLock::LockConnections(keys, LockOptions{{}, note});
    if (!l.ok()) return Fail(c, Prefixed("receive: lock: ", l.status()));
    lock.emplace(*std::move(l));
    result.times.lock = absl::Now() - t;
    CrashPoint("receive:locked");
    // The sockets too are made now, in repair mode: a restore's socket()
    // and TCP_REPAIR are off the downtime.
    std::vector<int> families;
    families.reserve(keys.size());
    for (const ConnectionKey& k : keys) families.push_back(k.local.family());
    std::vector<absl::StatusOr<FreshSocket>> made = MakeFreshSockets(families);
    fresh.reserve(made.size());
    for (absl::StatusOr<FreshSocket>& f : made) {
      if (!f.ok()) return Fail(c, Prefixed("receive: ", f.status()));
      fresh.push_back(*std::move(f));
    }
    made.clear();
    // What a fresh socket has here already, per family: a restore need not
    // set it again (ForRestoreHere).
    std::vector<SocketOption> fresh_v4, fresh_v6;
    if (std::count(families.begin(), families.end(), AF_INET) > 0) {
      fresh_v4 = FreshSocketValues(AF_INET);
    }
    if (std::count(families.begin(), families.end(), AF_INET6) > 0) {
      fresh_v6 = FreshSocketValues(AF_INET6);
    }
    // The address taken comes after the restore: each restore's bind()
    // would find it not local and retry (four more calls inside the
    // downtime). Allowed ahead instead; the sockets end the same.
    if (o.take_address.has_value()) {
      std::vector<absl::Status> allowed(fresh.size());
      ForEachConnection(fresh.size(), {}, [&](size_t i) {
        allowed[i] = AllowNonlocalBind(fresh[i]);
      });
      for (const absl::Status& a : allowed) {
        if (!a.ok()) return Fail(c, Prefixed("receive: ", a));
      }
    }
    Message ready;
    ready.type = MessageType::kReady;
    ready.count = hello->count;
    if (absl::Status s = migrate::WriteMessage(c, ready, deadline); !s.ok()) {
      return Prefixed("receive: ", s);
    }
    resumed.reserve(hello->count);
    while (resumed.size() < hello->count) {
      absl::StatusOr<Message> m = migrate::ReadMessage(c, deadline);
      if (!m.ok()) return Prefixed("receive: ", m.status());
      if (m->type == MessageType::kAbort) {
        return absl::AbortedError(
            "receive: the source aborted; rolled back: every restored "
            "connection closed silently, the lock removed");
      }
      const size_t at = resumed.size();
      if (m->type != MessageType::kImages || m->count > hello->count - at) {
        return Fail(
            c, absl::DataLossError(absl::StrCat(
                   "receive: protocol: ", migrate::MessageTypeName(m->type),
                   " ", m->count, " after ", at, " of ", hello->count,
                   " connections")));
      }
      // Exactly the announced bytes, read as they arrive (never allocated
      // ahead), then the image checks on them.
      auto bytes = std::make_shared<std::string>();
      if (absl::Status r = ReadStreamBytes(c, m->image_bytes, deadline,
                                           "receive: IMGS", bytes.get());
          !r.ok()) {
        return Fail(c, r);
      }
      result.image_bytes += m->image_bytes;
      t = absl::Now();
      // Each record is parsed by the thread that restores it, and planned
      // once, by its Restore() (check_restorable off: Restore() makes the
      // same checks before it touches the socket).
      ImageReadOptions read_options;
      read_options.check_restorable = false;
      absl::StatusOr<ImageReader> image = ImageReader::Open(
          absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes->data()),
                              bytes->size()),
          bytes, read_options);
      if (!image.ok()) return Fail(c, Prefixed("receive: ", image.status()));
      if (image->size() != m->count) {
        return Fail(c, absl::DataLossError(absl::StrCat(
                           "receive: IMGS announced ", m->count,
                           " connections, its image holds ", image->size())));
      }
      const size_t len = image->size();
      lingers.resize(at + len);
      std::vector<absl::StatusOr<OwnedFd>> part(len);
      ForEachConnection(len, {}, [&](size_t i) {
        absl::StatusOr<ConnectionState> st = image->Read(i);
        if (!st.ok()) {
          part[i] = Prefixed("receive: ", st.status());
          return;
        }
        // What we are handed: each connection is the one HELO announced
        // (and locked), or a sender could restore one we did not lock.
        const migrate::Key& k = hello->keys[at + i];
        if (!SameEndpoint(st->local, k.local) ||
            !SameEndpoint(st->peer, k.peer)) {
          part[i] = absl::PermissionDeniedError(
              absl::StrCat("receive: connection ", at + i, " is ",
                           st->Endpoints(), ", HELO announced ",
                           k.local.ToString(), "->", k.peer.ToString()));
          return;
        }
        // Linger 0 until the unlock (see below) goes in with the restore's
        // options, while the source still checkpoints the next chunk.
        lingers[at + i] = ForRestoreHere(
            *st, st->local.family() == AF_INET ? fresh_v4 : fresh_v6,
            o.take_address.has_value());
        absl::StatusOr<RestoredSocket> r =
            Restore(std::move(fresh[at + i]), *st);
        if (!r.ok()) {
          part[i] = Prefixed(
              absl::StrCat("receive: restore connection ", at + i, ": "),
              r.status());
          return;
        }
        // Resumed at once, still behind our lock, with linger 0 (above):
        // the source still owns the connection, and a close before the
        // unlock (a rollback, a crash) is a reset the lock drops. Here the
        // resume overlaps the source's checkpoint of the next chunk instead
        // of following the go-ahead, inside the downtime; and a resume that
        // fails rolls the move back instead of losing the connection.
        part[i] = std::move(*r).Resume(resume_options);
        if (!part[i].ok()) {
          part[i] = Prefixed(
              absl::StrCat("receive: resume connection ", at + i, ": "),
              part[i].status());
        }
      });
      // The first connection that failed, in the sender's order.
      for (size_t i = 0; i < len; ++i) {
        if (!part[i].ok()) return Fail(c, part[i].status());
      }
      for (auto& r : part) resumed.push_back(*std::move(r));
      result.times.restore += absl::Now() - t;
    }
  } else {
    // One image after the HELO (soccr recover).
    StreamReadOptions so;
    so.max_bytes = hello->image_bytes;
    so.deadline = deadline;
    absl::StatusOr<ImageReader> image = ReadImageStream(c, so);
    if (!image.ok()) return Fail(c, Prefixed("receive: ", image.status()));
    absl::StatusOr<std::vector<ConnectionState>> states = image->ReadAll();
    if (!states.ok()) return Fail(c, Prefixed("receive: ", states.status()));
    if (states->size() != hello->count) {
      return Fail(c, absl::DataLossError(absl::StrCat(
                         "receive: HELO announced ", hello->count,
                         " connections, the image holds ", states->size())));
    }
    std::vector<ConnectionKey> keys;
    for (const ConnectionState& s : *states) {
      if (absl::Status st = CheckTaken(o, s.local, s.peer); !st.ok()) {
        return Fail(c, st);
      }
      keys.push_back({s.local, s.peer});
    }
    result.image_bytes = hello->image_bytes;
    absl::Time t = absl::Now();
    absl::StatusOr<NetworkLock> l =
        NetworkLock::LockConnections(keys, LockOptions{{}, note});
    if (!l.ok()) return Fail(c, Prefixed("receive: lock: ", l.status()));
    lock.emplace(*std::move(l));
    result.times.lock = absl::Now() - t;
    CrashPoint("receive:locked");
    t = absl::Now();
    restored = RestoreMany(*states);
    for (size_t i = 0; i < restored.size(); ++i) {
      if (!restored[i].ok()) {
        const absl::Status why =
            Prefixed(absl::StrCat("receive: restore connection ", i, ": "),
                     restored[i].status());
        restored.clear();  // every one closed silently, in repair mode
        return Fail(c, why);
      }
    }
    result.times.restore = absl::Now() - t;
  }
  Message ok;
  ok.type = MessageType::kRestored;
  ok.count = hello->count;
  if (absl::Status s = migrate::WriteMessage(c, ok, deadline); !s.ok()) {
    return Prefixed("receive: ", s);
  }
  CrashPoint("receive:restored");

  absl::StatusOr<Message> go = migrate::ReadMessage(c, deadline);
  if (!go.ok() || go->type != MessageType::kGo) {
    const absl::Status why =
        go.ok() ? absl::AbortedError("the source aborted") : go.status();
    return Prefixed(
        "receive: no go-ahead: ",
        absl::Status(why.code(),
                     absl::StrCat(why.message(),
                                  "; rolled back: every restored connection "
                                  "closed silently, the lock removed")));
  }
  CrashPoint("receive:go");

  absl::Time t = absl::Now();
  if (o.take_address.has_value()) {
    absl::Status s = TakeAddress(*o.take_address, o.dev);
    if (absl::IsAlreadyExists(s)) s = AnnounceAddress(*o.take_address, o.dev);
    if (!s.ok()) {
      // Committed at the source: go on (the connections still work over
      // whatever route reaches us), but say so.
      fprintf(stderr, "soccr receive: %s\n", std::string(s.message()).c_str());
    }
  }
  result.times.takeover = absl::Now() - t;

  // Killed between the resume and the unlock, a socket must vanish without
  // a trace: linger 0 makes its close a reset, which the lock drops, and
  // leaves no orphan to send a FIN after the unlock. Streamed, the
  // connections were resumed as they were restored (above); a redelivery
  // resumes them now, with the same options.
  t = absl::Now();
  std::vector<OwnSettings> kept;
  if (streamed) {
    for (size_t i = 0; i < resumed.size(); ++i) {
      result.connections.push_back(std::move(resumed[i]));
      result.names.push_back(absl::StrCat("fd", hello->fds[i]));
    }
    resumed.clear();
    kept = std::move(lingers);
  } else {
    const bool lingers_set = lingers.size() == restored.size();
    if (!lingers_set) lingers.assign(restored.size(), {});
    std::vector<RestoredSocket> paused;
    paused.reserve(restored.size());
    for (auto& r : restored) paused.push_back(*std::move(r));
    restored.clear();
    std::vector<absl::StatusOr<OwnedFd>> live(paused.size());
    ForEachConnection(paused.size(), {}, [&](size_t i) {
      if (!lingers_set) SetAbortLinger(paused[i].fd(), &lingers[i].linger);
      live[i] = std::move(paused[i]).Resume(resume_options);
    });
    for (size_t i = 0; i < live.size(); ++i) {
      if (!live[i].ok()) {
        fprintf(stderr, "soccr receive: resume connection %zu: %s\n", i,
                std::string(live[i].status().message()).c_str());
        continue;
      }
      result.connections.push_back(*std::move(live[i]));
      result.names.push_back(absl::StrCat("fd", hello->fds[i]));
      kept.push_back(lingers[i]);
    }
  }
  result.times.resume = absl::Now() - t;
  CrashPoint("receive:resumed");

  // A redelivery (soccr recover: a HELO with the image) may follow a
  // receiver of the same move that died after its takeover (docs/
  // migration.md, "Who owns each connection"). That receiver's lock still
  // guards these connections: without it, a peer's segment would reach the
  // address taken with no socket behind it and be answered with a reset.
  // It has done its part now that these sockets hold the connections, so
  // it goes before ours, while ours still holds them; only a lock of this
  // session whose process is gone.
  if (!streamed) {
    RemoveLocksOfTheDead(note, lock->id());
  }
  t = absl::Now();
  if (absl::Status s = std::move(*lock).Unlock(); !s.ok()) {
    fprintf(stderr, "soccr receive: %s\n", std::string(s.message()).c_str());
  }
  result.times.unlock = absl::Now() - t;
  Message done;
  done.type = MessageType::kDone;
  done.count = static_cast<uint32_t>(result.connections.size());
  done.times = result.times;
  (void)migrate::WriteMessage(c, done, absl::Now() + absl::Seconds(1));
  // Unlocked: the sockets' own linger settings again, and no
  // IP_TRANSPARENT the original did not have now that the address is local
  // (after DONE: off the downtime).
  ForEachConnection(kept.size(), {}, [&](size_t i) {
    const int fd = result.connections[i].get();
    (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &kept[i].linger,
                       sizeof(kept[i].linger));
    if (kept[i].clear_transparent) {
      const int off = 0;
      const bool v4 = kept[i].family == AF_INET;
      (void)::setsockopt(fd, v4 ? SOL_IP : SOL_IPV6,
                         v4 ? IP_TRANSPARENT : IPV6_TRANSPARENT, &off,
                         sizeof(off));
    }
  });
  CrashPoint("receive:done");
  return result;
}

absl::StatusOr<RecoverResult> Recover(const std::string& journal_path,
                                      const std::string& to,
                                      absl::Duration timeout) {
  absl::StatusOr<migrate::Journal> j = migrate::ReadJournal(journal_path);
  if (!j.ok()) return j.status();
  RecoverResult result;
  result.connections = j->fds.size();
  result.lock = j->lock;
  if (j->phase == "locked") {
    // Not committed: the originals are the connections. Take each out of
    // repair mode (a no-op on one never put in it), then unlock.
    int resumed = 0;
    for (int fd : j->fds) {
      absl::StatusOr<OwnedFd> copy = TakeDescriptor(j->pid, fd);
      if (!copy.ok()) continue;  // the process has gone, and its sockets
      const int off = TCP_REPAIR_OFF;
      if (::setsockopt(copy->get(), SOL_TCP, TCP_REPAIR, &off, sizeof(off)) ==
          0) {
        ++resumed;
      }
    }
    if (!j->lock.empty()) {
      absl::Status s = NetworkLock::UnlockById(j->lock);
      if (!s.ok() && !absl::IsNotFound(s)) return s;
      result.lock_removed = true;
    }
    (void)::unlink(journal_path.c_str());
    result.resumed = static_cast<size_t>(resumed);
    result.summary =
        absl::StrCat("not committed: ", resumed, " of ", j->fds.size(),
                     " connections resumed at the source, lock ",
                     j->lock.empty() ? "(none)" : j->lock, " removed");
    return result;
  }
  result.committed = true;
  result.image = j->image;
  // Committed: the saved image holds the connections.
  for (int fd : j->fds) {
    absl::StatusOr<OwnedFd> copy = TakeDescriptor(j->pid, fd);
    if (copy.ok()) DisconnectSilently(copy->borrow());
  }
  if (!j->release_address.empty()) {
    absl::StatusOr<InterfaceAddress> a =
        InterfaceAddress::Parse(j->release_address);
    if (a.ok()) (void)ReleaseAddress(*a, j->dev);
  }
  if (to.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("committed: the connections are in ", j->image,
                     "; start soccr receive and run soccr recover ",
                     journal_path, " --to ADDR to hand them over"));
  }
  std::string image;
  {
    OwnedFd f(::open(j->image.c_str(), O_RDONLY | O_CLOEXEC));
    if (!f)
      return internal::ErrnoStatus(errno, absl::StrCat("open ", j->image));
    absl::Status r = ReadStreamBytes(f.borrow(), uint64_t{1} << 40,
                                     absl::InfiniteFuture(), j->image, &image);
    // The file ends before 1 TiB: DataLoss is the normal end here.
    if (!r.ok() && !absl::IsDataLoss(r)) return r;
  }
  absl::StatusOr<std::vector<ConnectionState>> states =
      ParseImage(absl::MakeConstSpan(
          reinterpret_cast<const uint8_t*>(image.data()), image.size()));
  if (!states.ok())
    return Prefixed(absl::StrCat(j->image, ": "), states.status());
  absl::StatusOr<migrate::Endpoint> e = migrate::ParseEndpoint(to);
  if (!e.ok()) return e.status();
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<OwnedFd> c = migrate::Connect(*e, deadline);
  if (!c.ok()) return c.status();
  Message hello;
  hello.type = MessageType::kHello;
  hello.count = static_cast<uint32_t>(states->size());
  (void)absl::SimpleHexAtoi(j->session, &hello.session);
  hello.image_bytes = image.size();
  for (size_t i = 0; i < states->size(); ++i) {
    hello.fds.push_back(i < j->fds.size() ? static_cast<uint32_t>(j->fds[i])
                                          : 0);
  }
  if (absl::Status w = migrate::WriteAllBytes(
          c->borrow(), migrate::EncodeMessage(hello) + image, deadline);
      !w.ok()) {
    return w;
  }
  absl::StatusOr<Message> reply = migrate::ReadMessage(c->borrow(), deadline);
  if (!reply.ok()) return reply.status();
  if (reply->type != MessageType::kRestored) {
    return absl::Status(
        reply->type == MessageType::kFailed ? reply->code
                                            : absl::StatusCode::kDataLoss,
        absl::StrCat(
            "the destination did not restore: ", absl::CHexEscape(reply->text),
            "; the image stays in ", j->image,
            " (if the destination had received the go-ahead it carries the "
            "connections already and refuses them again: then remove the "
            "journal and the source's lock)"));
  }
  Message go;
  go.type = MessageType::kGo;
  if (absl::Status w = migrate::WriteMessage(c->borrow(), go, deadline);
      !w.ok()) {
    return w;
  }
  absl::StatusOr<Message> done = migrate::ReadMessage(c->borrow(), deadline);
  if (!done.ok() || done->type != MessageType::kDone) {
    return absl::UnavailableError(absl::StrCat(
        "the destination did not confirm; the connections are still in ",
        j->image));
  }
  if (!j->lock.empty()) {
    result.lock_removed = NetworkLock::UnlockById(j->lock).ok();
  }
  (void)::unlink(j->image.c_str());
  (void)::unlink(journal_path.c_str());
  result.handed_over = done->count;
  result.handed_to = to;
  result.summary =
      absl::StrCat("committed: ", done->count,
                   " connections handed to the destination at ", to);
  return result;
}

}  // namespace soccr
