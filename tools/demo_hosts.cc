#include "tools/demo_hosts.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "soccr/address.h"
#include "soccr/internal/status_code.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/netlock/netlock.h"
#include "soccr/status_macros.h"
#include "tools/host_lab.h"

namespace soccr::tools {
namespace {

constexpr char kSrcIp[] = "192.0.2.1/24";
constexpr char kDstIp[] = "192.0.2.2/24";
constexpr char kPeerIp[] = "192.0.2.10/24";
constexpr char kServiceIp[] = "192.0.2.100/24";
constexpr char kService[] = "192.0.2.100:8000";
constexpr char kControl[] = "192.0.2.2:7000";
// How long the peer's paced streams last (unless the link is slower): long
// enough that the move happens mid-stream whatever --bytes is.
constexpr absl::Duration kStreamTime = absl::Seconds(1);
// A peer connection that makes no progress for this long has failed.
constexpr absl::Duration kStall = absl::Seconds(15);
// Each wait of the demo for one of its processes.
constexpr absl::Duration kStepTimeout = absl::Seconds(60);

// SIGUSR1 asks the source's service to quiesce before the move.
volatile sig_atomic_t quiesce_requested = 0;
void OnQuiesce(int) { quiesce_requested = 1; }

// A pipe from a child process: one line per message.
class Channel {
 public:
  static absl::StatusOr<Channel> Make() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      return internal::ErrnoStatus(errno, "pipe2");
    }
    return Channel(OwnedFd(fds[0]), OwnedFd(fds[1]));
  }
  // In the child: one line (newlines in `text` become spaces).
  void Tell(absl::string_view text) const {
    const std::string line =
        absl::StrCat(absl::StrReplaceAll(text, {{"\n", " "}}), "\n");
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n =
          ::write(write_.get(), line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }
  // In the parent, after the fork.
  void CloseWriteEnd() { write_.reset(); }
  // The next line, without its newline. DeadlineExceeded after `timeout`;
  // Unavailable if the child closed the pipe (it died) first.
  absl::StatusOr<std::string> Hear(absl::string_view who,
                                   absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      if (const size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(absl::StrCat(
            who, ": no answer within ", absl::FormatDuration(timeout)));
      }
      struct pollfd p = {read_.get(), POLLIN, 0};
      const int r =
          ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
      if (r < 0 && errno != EINTR) return internal::ErrnoStatus(errno, "poll");
      if (r <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(read_.get(), buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return absl::UnavailableError(
            absl::StrCat(who, ": the process ended without a word"));
      }
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  Channel(OwnedFd read, OwnedFd write)
      : read_(std::move(read)), write_(std::move(write)) {}
  OwnedFd read_;
  OwnedFd write_;
  std::string buffer_;
};

// The demo's processes: each forked into a host's network namespace, and
// killed if the demo ends before it does.
class Processes {
 public:
  ~Processes() {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGKILL);
      Reap(pid);
    }
  }
  // Forks; the child enters `netns`, runs `body`, and exits with its
  // result. The child dies with the demo.
  absl::StatusOr<pid_t> Start(BorrowedFd netns, Channel& channel,
                              const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid < 0) return internal::ErrnoStatus(errno, "fork");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (absl::Status s = EnterNetns(netns); !s.ok()) {
        channel.Tell(absl::StrCat("failed ", s.message()));
        _exit(1);
      }
      _exit(body());
    }
    channel.CloseWriteEnd();
    pids_.push_back(pid);
    return pid;
  }
  // Waits for `pid` to end; its wait status.
  int Reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
    return status;
  }

 private:
  std::vector<pid_t> pids_;
};

// The failure a child reported ("failed <message>"), or what it said
// instead.
absl::Status ChildFailure(absl::string_view who, absl::string_view line) {
  if (absl::ConsumePrefix(&line, "failed ")) {
    return absl::InternalError(absl::StrCat(who, ": ", line));
  }
  return absl::InternalError(
      absl::StrCat(who, ": unexpected message \"", line, "\""));
}

// Integers after a fixed first word; false if the line has another shape.
bool ParseNumbers(absl::string_view line, absl::string_view word,
                  std::vector<int64_t>* out, size_t count) {
  std::vector<absl::string_view> words =
      absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (words.size() != count + 1 || words[0] != word) return false;
  out->assign(count, 0);
  for (size_t i = 0; i < count; ++i) {
    if (!absl::SimpleAtoi(words[i + 1], &(*out)[i])) return false;
  }
  return true;
}

int64_t Ns(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

// The echo service, on either host: writes back every byte each connection
// sends, and ends when every connection has ended. With `quiesce`, SIGUSR1
// makes it stop reading, write out what it has read, and stop itself
// (SIGSTOP), so that no byte is in its own memory during the move; it
// carries on at SIGCONT.
ServiceCounts Echo(const std::vector<OwnedFd>& fds, bool quiesce) {
  ServiceCounts counts;
  const size_t n = fds.size();
  std::vector<std::string> pending(n);
  std::vector<bool> open(n, true);
  std::string buf(1 << 16, '\0');
  while (true) {
    bool busy = false, empty = true;
    for (size_t i = 0; i < n; ++i) {
      busy = busy || open[i] || !pending[i].empty();
      empty = empty && pending[i].empty();
    }
    if (!busy) return counts;
    const bool quiescing = quiesce && quiesce_requested != 0;
    if (quiescing && empty) {
      ::raise(SIGSTOP);
      quiesce_requested = 0;
      continue;
    }
    std::vector<pollfd> p(n);
    for (size_t i = 0; i < n; ++i) {
      short events = 0;
      if (open[i] && !quiescing && pending[i].size() < (1u << 20)) {
        events |= POLLIN;
      }
      if (!pending[i].empty()) events |= POLLOUT;
      p[i] = {events != 0 ? fds[i].get() : -1, events, 0};
    }
    if (::poll(p.data(), n, quiescing ? 10 : 1000) < 0 && errno != EINTR) {
      return counts;
    }
    for (size_t i = 0; i < n; ++i) {
      if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && open[i]) {
        const ssize_t r =
            ::recv(fds[i].get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (r > 0) {
          pending[i].append(buf.data(), static_cast<size_t>(r));
          counts.read += static_cast<uint64_t>(r);
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          // The peer is done, or (after a move) the socket was
          // disconnected under us: ECONNABORTED.
          open[i] = false;
          if (r < 0) pending[i].clear();
        }
      }
      if (!pending[i].empty() && (p[i].revents & POLLOUT) != 0) {
        const ssize_t w =
            ::send(fds[i].get(), pending[i].data(), pending[i].size(),
                   MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
          pending[i].erase(0, static_cast<size_t>(w));
          counts.written += static_cast<uint64_t>(w);
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          pending[i].clear();
          open[i] = false;
        }
      }
    }
  }
}

// The service at the source: listens on the service address, accepts
// `connections`, echoes. Says "listening", then "served READ WRITTEN".
int SourceService(const Channel& channel, int connections) {
  struct sigaction sa = {};
  sa.sa_handler = OnQuiesce;  // no SA_RESTART: poll returns at once
  ::sigaction(SIGUSR1, &sa, nullptr);
  absl::StatusOr<SocketAddress> at = SocketAddress::Parse(kService);
  if (!at.ok()) {
    channel.Tell(absl::StrCat("failed ", at.status().message()));
    return 1;
  }
  OwnedFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  if (!listener ||
      ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one,
                   sizeof(one)) != 0 ||
      ::bind(listener.get(), at->sockaddr(), at->length()) != 0 ||
      ::listen(listener.get(), connections) != 0) {
    channel.Tell(
        absl::StrCat("failed listen on ", kService, ": ", strerror(errno)));
    return 1;
  }
  channel.Tell("listening");
  std::vector<OwnedFd> fds;
  while (static_cast<int>(fds.size()) < connections) {
    OwnedFd c(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) {
      if (errno == EINTR) continue;
      channel.Tell(absl::StrCat("failed accept: ", strerror(errno)));
      return 1;
    }
    fds.push_back(std::move(c));
  }
  // Only the connections move (soccr send --all takes every connected TCP
  // socket; a listener would stay behind anyway).
  listener.reset();
  const ServiceCounts c = Echo(fds, /*quiesce=*/true);
  channel.Tell(absl::StrCat("served ", c.read, " ", c.written));
  return 0;
}

// The destination: soccr receive, then the same service on what it
// received. Says "received N", then "served READ WRITTEN".
int Destination(const Channel& channel, const InterfaceAddress& address) {
  ReceiveOptions o;
  o.listen = kControl;
  o.take_address = address;
  o.dev = "eth0";
  o.accept_timeout = kStepTimeout;
  o.timeout = absl::Seconds(10);
  absl::StatusOr<ReceiveResult> r = Receive(o);
  if (!r.ok()) {
    channel.Tell(absl::StrCat("failed ", r.status().message()));
    return 1;
  }
  channel.Tell(absl::StrCat("received ", r->connections.size()));
  const ServiceCounts c = Echo(r->connections, /*quiesce=*/false);
  channel.Tell(absl::StrCat("served ", c.read, " ", c.written));
  return 0;
}

// The source's side of the move: soccr send of every connection of the
// service. Says "sent" and the report's figures, or "failed <message>".
int Source(const Channel& channel, pid_t service,
           const InterfaceAddress& address) {
  SendOptions o;
  o.pid = service;
  o.all = true;
  o.to = kControl;
  o.lock = LockMode::kConnections;
  o.release_address = address;
  o.dev = "eth0";
  o.timeout = absl::Seconds(10);
  absl::StatusOr<SendReport> r = Send(o);
  if (!r.ok()) {
    channel.Tell(absl::StrCat("failed ", r.status().message()));
    return 1;
  }
  const migrate::DestinationTimes& d = r->destination;
  channel.Tell(
      absl::StrCat("sent ", r->connections, " ", r->image_bytes, " ",
                   Ns(r->lock), " ", Ns(r->checkpoint), " ", Ns(r->transfer),
                   " ", Ns(r->commit), " ", Ns(r->unlock), " ", Ns(r->total),
                   " ", Ns(r->downtime), " ", Ns(d.lock), " ", Ns(d.restore),
                   " ", Ns(d.takeover), " ", Ns(d.resume), " ", Ns(d.unlock)));
  return 0;
}

absl::Status ParseSent(absl::string_view line, SendReport* r) {
  std::vector<int64_t> v;
  if (!ParseNumbers(line, "sent", &v, 14)) return ChildFailure("send", line);
  r->connections = static_cast<size_t>(v[0]);
  r->image_bytes = static_cast<uint64_t>(v[1]);
  absl::Duration* phases[] = {&r->lock,
                              &r->checkpoint,
                              &r->transfer,
                              &r->commit,
                              &r->unlock,
                              &r->total,
                              &r->downtime,
                              &r->destination.lock,
                              &r->destination.restore,
                              &r->destination.takeover,
                              &r->destination.resume,
                              &r->destination.unlock};
  for (size_t i = 0; i < 12; ++i) *phases[i] = absl::Nanoseconds(v[i + 2]);
  return absl::OkStatus();
}

// One peer connection's stream and its check.
struct PeerStream {
  OwnedFd fd;
  uint64_t seed = 0;
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t mismatched = 0;
  bool open = true;
  absl::Time last_read = absl::InfinitePast();
  absl::Duration longest_gap;
};

// The peer: connects `connections` times to the service and streams
// `bytes` each way on each, paced over kStreamTime, comparing every byte
// echoed with what it sent. Says "streaming" once every connection has a
// quarter back, then "done SENT RECEIVED MISMATCHED MISSING GAP_NS [error]".
int Peer(const Channel& channel, int connections, uint64_t bytes) {
  absl::StatusOr<SocketAddress> to = SocketAddress::Parse(kService);
  if (!to.ok()) {
    channel.Tell(absl::StrCat("failed ", to.status().message()));
    return 1;
  }
  std::vector<PeerStream> streams(static_cast<size_t>(connections));
  for (size_t i = 0; i < streams.size(); ++i) {
    PeerStream& s = streams[i];
    s.seed = i + 1;
    s.fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.fd || ::connect(s.fd.get(), to->sockaddr(), to->length()) != 0) {
      channel.Tell(
          absl::StrCat("failed connect to ", kService, ": ", strerror(errno)));
      return 1;
    }
  }
  const absl::Time start = absl::Now();
  absl::Time progress_at = start;
  bool told_streaming = false;
  std::string error;
  std::string buf(1 << 16, '\0');
  std::string expected;
  while (true) {
    bool all_back = true, quarter_back = true;
    for (const PeerStream& s : streams) {
      all_back = all_back && (s.received == bytes || !s.open);
      quarter_back = quarter_back && s.received >= bytes / 4;
    }
    if (all_back) break;
    if (quarter_back && !told_streaming) {
      channel.Tell("streaming");
      told_streaming = true;
    }
    const absl::Time now = absl::Now();
    if (now - progress_at > kStall) {
      error = absl::StrCat("no byte for ", absl::FormatDuration(kStall));
      break;
    }
    // The pace: what each connection may have sent by now (a 32nd ahead,
    // so that the first bytes go at once). Never everything at once, or the
    // streams could end before the move begins.
    const double elapsed =
        std::min(1.0, absl::FDivDuration(now - start, kStreamTime));
    const uint64_t allowed = std::min<uint64_t>(
        bytes, static_cast<uint64_t>(elapsed * static_cast<double>(bytes)) +
                   bytes / 32);
    std::vector<pollfd> p(streams.size());
    for (size_t i = 0; i < streams.size(); ++i) {
      const PeerStream& s = streams[i];
      short events = 0;
      if (s.open && s.received < bytes) events |= POLLIN;
      if (s.open && s.sent < allowed) events |= POLLOUT;
      p[i] = {events != 0 ? s.fd.get() : -1, events, 0};
    }
    if (::poll(p.data(), p.size(), 5) < 0 && errno != EINTR) {
      error = absl::StrCat("poll: ", strerror(errno));
      break;
    }
    for (size_t i = 0; i < streams.size(); ++i) {
      PeerStream& s = streams[i];
      if ((p[i].revents & POLLOUT) != 0 && s.sent < allowed) {
        const std::string out = loopback::Pattern(
            std::min<uint64_t>(allowed - s.sent, buf.size()), s.seed, s.sent);
        const ssize_t w = ::send(s.fd.get(), out.data(), out.size(),
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) s.sent += static_cast<uint64_t>(w);
      }
      if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const size_t want = static_cast<size_t>(
          std::min<uint64_t>(buf.size(), bytes - s.received));
      const ssize_t r = ::recv(s.fd.get(), buf.data(), want, MSG_DONTWAIT);
      if (r > 0) {
        const size_t got = static_cast<size_t>(r);
        expected = loopback::Pattern(got, s.seed, s.received);
        for (size_t k = 0; k < got; ++k) {
          if (buf[k] != expected[k]) ++s.mismatched;
        }
        if (s.received + got > s.sent)
          s.mismatched += s.received + got - s.sent;
        s.received += got;
        const absl::Time t = absl::Now();
        if (s.last_read != absl::InfinitePast()) {
          s.longest_gap = std::max(s.longest_gap, t - s.last_read);
        }
        s.last_read = t;
        progress_at = t;
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        s.open = false;
        if (error.empty()) {
          error = absl::StrCat("connection ", i, " ended (",
                               r == 0 ? "EOF" : strerror(errno), ") after ",
                               s.received, " of ", bytes, " bytes");
        }
      }
    }
  }
  uint64_t sent = 0, received = 0, mismatched = 0, missing = 0;
  absl::Duration gap;
  for (PeerStream& s : streams) {
    sent += s.sent;
    received += s.received;
    mismatched += s.mismatched;
    missing += bytes - std::min(bytes, s.received);
    gap = std::max(gap, s.longest_gap);
    s.fd.reset();  // the service sees the end and finishes
  }
  channel.Tell(absl::StrCat("done ", sent, " ", received, " ", mismatched, " ",
                            missing, " ", Ns(gap), error.empty() ? "" : " ",
                            error));
  return 0;
}

absl::Status ParseServed(absl::string_view who, absl::string_view line,
                         ServiceCounts* c) {
  std::vector<int64_t> v;
  if (!ParseNumbers(line, "served", &v, 2)) return ChildFailure(who, line);
  c->read = static_cast<uint64_t>(v[0]);
  c->written = static_cast<uint64_t>(v[1]);
  return absl::OkStatus();
}

absl::Status ParseDone(absl::string_view line, HostsDemoReport* r) {
  std::vector<absl::string_view> words =
      absl::StrSplit(absl::string_view(line), absl::MaxSplits(' ', 6));
  std::vector<int64_t> v(5, 0);
  if (words.size() < 6 || words[0] != "done") return ChildFailure("peer", line);
  for (size_t i = 0; i < 5; ++i) {
    if (!absl::SimpleAtoi(words[i + 1], &v[i])) {
      return ChildFailure("peer", line);
    }
  }
  r->peer_sent = static_cast<uint64_t>(v[0]);
  r->peer_received = static_cast<uint64_t>(v[1]);
  r->mismatched = static_cast<uint64_t>(v[2]);
  r->missing = static_cast<uint64_t>(v[3]);
  r->longest_gap = absl::Nanoseconds(v[4]);
  if (words.size() == 7) r->peer_error = std::string(words[6]);
  return absl::OkStatus();
}

// Waits until `pid` has stopped (WUNTRACED).
absl::Status WaitStopped(pid_t pid) {
  const absl::Time deadline = absl::Now() + kStepTimeout;
  while (absl::Now() < deadline) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WUNTRACED | WNOHANG);
    if (r == pid && WIFSTOPPED(status)) return absl::OkStatus();
    if (r == pid) {
      return absl::InternalError("the service ended instead of quiescing");
    }
    if (r < 0 && errno != EINTR) return internal::ErrnoStatus(errno, "waitpid");
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::DeadlineExceededError("the service did not quiesce");
}

// In host `netns`: whether it has `address` on an interface, and how many
// of soccr's locks it holds. The calling thread returns to `lab`.
absl::Status LookAt(BorrowedFd netns, BorrowedFd lab,
                    const InterfaceAddress& address, bool* has_address,
                    size_t* locks) {
  SOCCR_RETURN_IF_ERROR(EnterNetns(netns));
  absl::StatusOr<std::vector<LockInfo>> list = NetworkLock::List();
  ifaddrs* addrs = nullptr;
  const int err = ::getifaddrs(&addrs) == 0 ? 0 : errno;
  SOCCR_RETURN_IF_ERROR(EnterNetns(lab));
  if (!list.ok()) return list.status();
  if (err != 0) return internal::ErrnoStatus(err, "getifaddrs");
  *locks = list->size();
  *has_address = false;
  for (ifaddrs* a = addrs; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    *has_address =
        *has_address || in->sin_addr.s_addr == address.ip.v4().sin_addr.s_addr;
  }
  ::freeifaddrs(addrs);
  return absl::OkStatus();
}

std::string Ms(absl::Duration d) {
  return absl::StrFormat("%8.3f ms", absl::ToDoubleMilliseconds(d));
}

}  // namespace

bool HostsDemoReport::AllBytesArrived() const {
  const uint64_t total = static_cast<uint64_t>(connections) * bytes;
  return peer_error.empty() && mismatched == 0 && missing == 0 &&
         peer_sent == total && peer_received == total &&
         at_source.read + at_destination.read == peer_sent &&
         at_source.written + at_destination.written == peer_received;
}

bool HostsDemoReport::LeftClean() const {
  return address_at_dst && !address_at_src && locks_at_src == 0 &&
         locks_at_dst == 0;
}

absl::StatusOr<HostsDemoReport> RunHostsDemo(const HostsDemoOptions& options,
                                             Progress& progress) {
  if (options.connections < 1 || options.connections > 1000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--connections ", options.connections, " is not between 1 and 1000"));
  }
  if (options.bytes < (64 << 10) || options.bytes > (1 << 30)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bytes ", options.bytes,
                     " is not between 65536 (64 KiB) and 1073741824 (1 GiB)"));
  }
  absl::StatusOr<InterfaceAddress> service_address =
      InterfaceAddress::Parse(kServiceIp);
  if (!service_address.ok()) return service_address.status();

  progress.Step("building the hosts");
  SOCCR_RETURN_IF_ERROR(loopback::EnterPrivateNetns());
  SOCCR_RETURN_IF_ERROR(CreateBridge("br0"));
  struct HostSpec {
    const char* name;
    std::vector<const char*> addresses;
  };
  const HostSpec specs[] = {
      {"src", {kSrcIp, kServiceIp}}, {"dst", {kDstIp}}, {"peer", {kPeerIp}}};
  std::vector<OwnedFd> hosts;
  for (const HostSpec& h : specs) {
    std::vector<InterfaceAddress> addresses;
    for (const char* a : h.addresses) {
      absl::StatusOr<InterfaceAddress> parsed = InterfaceAddress::Parse(a);
      if (!parsed.ok()) return parsed.status();
      addresses.push_back(*parsed);
    }
    absl::StatusOr<OwnedFd> ns = AddHost(h.name, "br0", addresses);
    if (!ns.ok()) return ns.status();
    hosts.push_back(*std::move(ns));
  }
  const BorrowedFd src = hosts[0].borrow(), dst = hosts[1].borrow(),
                   peer = hosts[2].borrow();

  HostsDemoReport report;
  report.connections = options.connections;
  report.bytes = options.bytes;
  Processes processes;

  // The service on src, then the peer's streams to it.
  progress.Step("starting the service on src");
  absl::StatusOr<Channel> service_channel = Channel::Make();
  if (!service_channel.ok()) return service_channel.status();
  absl::StatusOr<pid_t> service = processes.Start(src, *service_channel, [&] {
    return SourceService(*service_channel, options.connections);
  });
  if (!service.ok()) return service.status();
  absl::StatusOr<std::string> line =
      service_channel->Hear("the service on src", kStepTimeout);
  if (!line.ok()) return line.status();
  if (*line != "listening") return ChildFailure("the service on src", *line);

  progress.Step("the peer streams both ways");
  absl::StatusOr<Channel> peer_channel = Channel::Make();
  if (!peer_channel.ok()) return peer_channel.status();
  absl::StatusOr<pid_t> peer_pid = processes.Start(peer, *peer_channel, [&] {
    return Peer(*peer_channel, options.connections, options.bytes);
  });
  if (!peer_pid.ok()) return peer_pid.status();
  line = peer_channel->Hear("the peer", kStepTimeout);
  if (!line.ok()) return line.status();
  if (*line != "streaming") return ChildFailure("the peer", *line);

  // Mid-stream: the service quiesces, and the move runs.
  progress.Step("moving the connections from src to dst");
  if (::kill(*service, SIGUSR1) != 0) {
    return internal::ErrnoStatus(errno, "kill(SIGUSR1) the service");
  }
  SOCCR_RETURN_IF_ERROR(WaitStopped(*service));
  absl::StatusOr<Channel> dst_channel = Channel::Make();
  if (!dst_channel.ok()) return dst_channel.status();
  absl::StatusOr<pid_t> receiver = processes.Start(dst, *dst_channel, [&] {
    return Destination(*dst_channel, *service_address);
  });
  if (!receiver.ok()) return receiver.status();
  absl::StatusOr<Channel> src_channel = Channel::Make();
  if (!src_channel.ok()) return src_channel.status();
  absl::StatusOr<pid_t> sender = processes.Start(src, *src_channel, [&] {
    return Source(*src_channel, *service, *service_address);
  });
  if (!sender.ok()) return sender.status();
  line = src_channel->Hear("soccr send", kStepTimeout);
  processes.Reap(*sender);
  if (!line.ok()) {
    report.move_error = std::string(line.status().message());
  } else if (absl::string_view l = *line; absl::ConsumePrefix(&l, "failed ")) {
    report.move_error = std::string(l);  // Send's own "send: ..." message
  } else if (absl::Status s = ParseSent(*line, &report.send); !s.ok()) {
    report.move_error = std::string(s.message());
  } else {
    report.moved = true;
  }
  // Moved: the original finds its sockets disconnected and ends. Rolled
  // back: it carries on with them.
  ::kill(*service, SIGCONT);

  progress.Step("the peer finishes its streams");
  line = peer_channel->Hear("the peer", kStepTimeout + kStall);
  if (!line.ok()) return line.status();
  SOCCR_RETURN_IF_ERROR(ParseDone(*line, &report));
  line = service_channel->Hear("the service on src", kStepTimeout);
  if (!line.ok()) return line.status();
  SOCCR_RETURN_IF_ERROR(
      ParseServed("the service on src", *line, &report.at_source));
  if (report.moved) {
    line = dst_channel->Hear("soccr receive", kStepTimeout);
    if (line.ok() && absl::StartsWith(*line, "received ")) {
      line = dst_channel->Hear("the service on dst", kStepTimeout);
    }
    if (!line.ok()) return line.status();
    SOCCR_RETURN_IF_ERROR(
        ParseServed("the service on dst", *line, &report.at_destination));
  }
  absl::StatusOr<OwnedFd> lab = []() -> absl::StatusOr<OwnedFd> {
    OwnedFd fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!fd)
      return internal::ErrnoStatus(errno, "open /proc/thread-self/ns/net");
    return fd;
  }();
  if (!lab.ok()) return lab.status();
  SOCCR_RETURN_IF_ERROR(LookAt(src, lab->borrow(), *service_address,
                               &report.address_at_src, &report.locks_at_src));
  SOCCR_RETURN_IF_ERROR(LookAt(dst, lab->borrow(), *service_address,
                               &report.address_at_dst, &report.locks_at_dst));
  progress.Clear();
  return report;
}

std::string HostsDemoReportText(const HostsDemoReport& r) {
  const SendReport& s = r.send;
  const migrate::DestinationTimes& d = s.destination;
  std::string out = absl::StrCat(
      "soccr demo --hosts: ", r.connections,
      " live TCP connections moved from host src to host dst while a peer "
      "streams, every byte checked\n",
      "  hosts         src 192.0.2.1, dst 192.0.2.2, peer 192.0.2.10: network "
      "namespaces on a bridge, in a private user namespace\n",
      "  service       ", kService, ", echoing; the peer streams ",
      FormatBytes(r.bytes), " each way on each connection\n",
      "  move          soccr send on src (lock: connections, "
      "--release-address ",
      kServiceIp, ") to soccr receive on dst (--take-address ", kServiceIp,
      ")\n");
  if (r.moved) {
    absl::StrAppend(
        &out, "  lock        ", Ms(s.lock),
        "  source: the connections' network lock\n", "  checkpoint  ",
        Ms(s.checkpoint), "  source: paused and checkpointed, ",
        FormatBytes(s.image_bytes), " of image\n", "  transfer    ",
        Ms(s.transfer), "  image streamed to dst (locked there in ",
        absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(d.lock)), " ms)\n",
        "  restore     ", Ms(d.restore),
        "  destination: sockets rebuilt and resumed behind its lock\n",
        "  commit      ", Ms(s.commit),
        "  originals disconnected, address moved (taken in ",
        absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(d.takeover)),
        " ms), go-ahead\n", "  unlock      ", Ms(s.unlock),
        "  source (the destination unlocked in ",
        absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(d.unlock)), " ms)\n",
        "  downtime    ", Ms(s.downtime),
        "  from the source's lock to the destination's unlock\n");
  } else {
    absl::StrAppend(&out, "  move failed   ", r.move_error, "\n");
    if (r.AllBytesArrived()) {
      absl::StrAppend(&out,
                      "  rolled back   the connections carried on at src\n");
    }
  }
  absl::StrAppend(
      &out, "  longest gap ", Ms(r.longest_gap),
      "  the longest the peer waited for a byte on a connection\n",
      "  peer -> service  ", r.peer_sent, " bytes sent, ",
      r.at_source.read + r.at_destination.read, " received (", r.at_source.read,
      " at src, ", r.at_destination.read, " at dst)\n", "  service -> peer  ",
      r.at_source.written + r.at_destination.written, " bytes sent (",
      r.at_source.written, " from src, ", r.at_destination.written,
      " from dst), ", r.peer_received, " received, ", r.mismatched,
      " mismatched, ", r.missing, " missing\n");
  if (!r.peer_error.empty()) {
    absl::StrAppend(&out, "  peer error  ", r.peer_error, "\n");
  }
  const char* where = r.address_at_src
                          ? (r.address_at_dst ? "src and dst" : "src only")
                          : (r.address_at_dst ? "dst only" : "neither host");
  absl::StrAppend(&out, "  afterwards    ",
                  absl::StripSuffix(kServiceIp, "/24"), " on ", where,
                  "; network locks left: ",
                  r.locks_at_src + r.locks_at_dst == 0
                      ? std::string("none")
                      : absl::StrCat(r.locks_at_src, " on src, ",
                                     r.locks_at_dst, " on dst"),
                  "\n");
  if (!r.AllBytesArrived()) {
    absl::StrAppend(&out, "FAILED: not every byte arrived intact\n");
  } else if (!r.moved) {
    absl::StrAppend(&out,
                    "FAILED: the move was rolled back; every byte arrived, "
                    "none lost, none duplicated\n");
  } else if (!r.LeftClean()) {
    absl::StrAppend(&out,
                    "FAILED: every byte arrived, but the move did not leave "
                    "the address on dst alone, with no lock\n");
  } else {
    absl::StrAppend(&out,
                    "OK: every byte arrived, none lost, none duplicated\n");
  }
  return out;
}

}  // namespace soccr::tools
