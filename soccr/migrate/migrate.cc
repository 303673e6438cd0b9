#include "soccr/migrate/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
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
  if (!d) return absl::ErrnoToStatus(errno, absl::StrCat("opendir ", dir));
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

  const SendOptions& o_;
  std::vector<Taken> taken_;
  std::optional<NetworkLock> lock_;
  std::vector<absl::StatusOr<PausedCheckpoint>> paused_;
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

  // Lock.
  const absl::Time lock_start = absl::Now();
  LockOptions lo;
  lo.note = absl::StrCat("soccr send ", session_);
  if (o_.lock == LockMode::kConnections) {
    std::vector<ConnectionKey> keys;
    for (const Taken& t : taken_) keys.push_back(t.key);
    absl::StatusOr<NetworkLock> l = NetworkLock::LockConnections(keys, lo);
    if (!l.ok()) return Prefixed("send: lock: ", l.status());
    lock_.emplace(*std::move(l));
  } else if (o_.lock == LockMode::kNamespace) {
    if (std::optional<ConnectionKey> k = migrate::TcpKey(control_.borrow())) {
      lo.exempt.push_back(*k);
    }
    absl::StatusOr<NetworkLock> l = NetworkLock::LockNamespace(lo);
    if (!l.ok()) return Prefixed("send: lock: ", l.status());
    lock_.emplace(*std::move(l));
  }
  const absl::Time locked_at = absl::Now();
  report.lock = locked_at - lock_start;
  if (absl::Status s = Journal("locked"); !s.ok()) return RollBack(s);
  CrashPoint("send:locked");

  // Checkpoint.
  std::vector<BorrowedFd> borrowed;
  for (const Taken& t : taken_) borrowed.push_back(t.copy.borrow());
  paused_ = CheckpointMany(borrowed);
  std::vector<ConnectionState> states;
  for (size_t i = 0; i < paused_.size(); ++i) {
    if (!paused_[i].ok()) {
      return RollBack(
          Prefixed(absl::StrCat("checkpoint fd ", taken_[i].fd, ": "),
                   paused_[i].status()));
    }
    states.push_back(paused_[i]->state);
  }
  absl::StatusOr<std::string> image = SerializeImage(states);
  if (!image.ok()) return RollBack(image.status());
  report.checkpoint = absl::Now() - locked_at;
  report.connections = states.size();
  report.image_bytes = image->size();
  CrashPoint("send:checkpointed");

  // Transfer: HELO, the image, and the destination's restore.
  const absl::Time transfer_start = absl::Now();
  const absl::Time deadline = transfer_start + o_.timeout;
  Message hello;
  hello.type = MessageType::kHello;
  hello.count = static_cast<uint32_t>(states.size());
  uint64_t session_number = 0;
  (void)absl::SimpleHexAtoi(session_, &session_number);
  hello.session = session_number;
  hello.image_bytes = image->size();
  for (const Taken& t : taken_)
    hello.fds.push_back(static_cast<uint32_t>(t.fd));
  absl::Status s = migrate::WriteAllBytes(
      control_.borrow(), migrate::EncodeMessage(hello) + *image, deadline);
  if (!s.ok()) return RollBack(s);
  CrashPoint("send:sent");
  absl::StatusOr<Message> reply =
      migrate::ReadMessage(control_.borrow(), deadline);
  if (!reply.ok()) {
    return RollBack(
        Prefixed("waiting for the destination's restore: ", reply.status()));
  }
  if (reply->type == MessageType::kFailed) {
    return RollBack(
        absl::Status(reply->code, absl::StrCat("the destination failed: ",
                                               absl::CHexEscape(reply->text))));
  }
  if (reply->type != MessageType::kRestored || reply->count != hello.count) {
    return RollBack(absl::DataLossError(absl::StrCat(
        "protocol: the destination answered ",
        migrate::MessageTypeName(reply->type), " ", reply->count)));
  }
  report.transfer = absl::Now() - transfer_start;
  CrashPoint("send:restored");

  // Commit: from here the connections are the destination's (or, until it
  // confirms, the saved image's).
  const absl::Time commit_start = absl::Now();
  if (!o_.journal.empty()) {
    image_path_ = absl::StrCat(o_.journal, ".image");
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
  for (const Taken& t : taken_) DisconnectSilently(t.copy.borrow());
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
  report.commit = absl::Now() - commit_start;
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
  report.downtime = absl::Now() - lock_start;

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
absl::Status Fail(BorrowedFd control, const absl::Status& why) {
  Message m;
  m.type = MessageType::kFailed;
  m.code = why.code();
  m.text = std::string(why.message());
  (void)migrate::WriteMessage(control, m, absl::Now() + absl::Seconds(1));
  return why;
}

// Restores the socket's linger setting (the restore's, from the image).
struct Linger {
  int fd;
  struct linger value;
};

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
                      o.any_uid);
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
  // What we are handed: with an address to take, the connections must be
  // that address's, or a sender could have us hijack any connection.
  std::vector<ConnectionKey> keys;
  for (const ConnectionState& s : *states) {
    if (s.peer.empty()) {
      return Fail(
          c, absl::InvalidArgumentError(absl::StrCat(
                 "receive: ", s.Endpoints(), ": not a connection (no peer)")));
    }
    if (o.take_address.has_value()) {
      SocketAddress ip = s.local;
      ip.set_port(0);
      if (ip != o.take_address->ip) {
        return Fail(
            c, absl::PermissionDeniedError(absl::StrCat(
                   "receive: ", s.Endpoints(), ": its local address is not ",
                   o.take_address->ToString(), ", the one taken")));
      }
    }
    keys.push_back({s.local, s.peer});
  }

  ReceiveResult result;
  result.image_bytes = hello->image_bytes;
  absl::Time t = absl::Now();
  absl::StatusOr<NetworkLock> lock = NetworkLock::LockConnections(
      keys,
      LockOptions{{},
                  absl::StrCat("soccr receive ",
                               absl::Hex(hello->session, absl::kZeroPad16))});
  if (!lock.ok()) return Fail(c, Prefixed("receive: lock: ", lock.status()));
  result.times.lock = absl::Now() - t;
  CrashPoint("receive:locked");

  t = absl::Now();
  std::vector<absl::StatusOr<RestoredSocket>> restored = RestoreMany(*states);
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

  t = absl::Now();
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
  // leaves no orphan to send a FIN after the unlock.
  t = absl::Now();
  std::vector<Linger> lingers;
  for (auto& r : restored) {
    Linger l = {r->fd().get(), {}};
    socklen_t len = sizeof(l.value);
    (void)::getsockopt(l.fd, SOL_SOCKET, SO_LINGER, &l.value, &len);
    const struct linger abort_close = {1, 0};
    (void)::setsockopt(l.fd, SOL_SOCKET, SO_LINGER, &abort_close,
                       sizeof(abort_close));
    lingers.push_back(l);
  }
  // The connections resume while our lock still holds them, so that a
  // crash before the unlock leaves the source able to redeliver the image.
  // The in-flight probe cannot work then: its answer would be dropped by
  // the lock, and each connection with bytes in flight would wait out the
  // whole probe timeout (50 ms) inside the downtime before taking the
  // plain path anyway. So no probe: those bytes go as the plain path sends
  // them (see docs/migration.md, "Data in flight").
  ResumeOptions resume_options;
  resume_options.in_flight_probe_timeout = absl::ZeroDuration();
  for (size_t i = 0; i < restored.size(); ++i) {
    absl::StatusOr<OwnedFd> live =
        std::move(*restored[i]).Resume(resume_options);
    if (!live.ok()) {
      fprintf(stderr, "soccr receive: resume connection %zu: %s\n", i,
              std::string(live.status().message()).c_str());
      continue;
    }
    result.connections.push_back(*std::move(live));
    result.names.push_back(absl::StrCat("fd", hello->fds[i]));
  }
  result.times.resume = absl::Now() - t;
  CrashPoint("receive:resumed");

  t = absl::Now();
  if (absl::Status s = std::move(*lock).Unlock(); !s.ok()) {
    fprintf(stderr, "soccr receive: %s\n", std::string(s.message()).c_str());
  }
  result.times.unlock = absl::Now() - t;
  for (const Linger& l : lingers) {
    (void)::setsockopt(l.fd, SOL_SOCKET, SO_LINGER, &l.value, sizeof(l.value));
  }
  Message done;
  done.type = MessageType::kDone;
  done.count = static_cast<uint32_t>(result.connections.size());
  done.times = result.times;
  (void)migrate::WriteMessage(c, done, absl::Now() + absl::Seconds(1));
  CrashPoint("receive:done");
  return result;
}

absl::StatusOr<std::string> Recover(const std::string& journal_path,
                                    const std::string& to,
                                    absl::Duration timeout) {
  absl::StatusOr<migrate::Journal> j = migrate::ReadJournal(journal_path);
  if (!j.ok()) return j.status();
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
    }
    (void)::unlink(journal_path.c_str());
    return absl::StrCat("not committed: ", resumed, " of ", j->fds.size(),
                        " connections resumed at the source, lock ",
                        j->lock.empty() ? "(none)" : j->lock, " removed");
  }
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
    if (!f) return absl::ErrnoToStatus(errno, absl::StrCat("open ", j->image));
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
  if (!j->lock.empty()) (void)NetworkLock::UnlockById(j->lock);
  (void)::unlink(j->image.c_str());
  (void)::unlink(journal_path.c_str());
  return absl::StrCat("committed: ", done->count,
                      " connections handed to the destination at ", to);
}

}  // namespace soccr
