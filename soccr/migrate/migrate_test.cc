// `soccr send` and `soccr receive` on a lab of hosts (network namespaces
// on a bridge, documentation addresses): an echo server on the source is
// moved, with its address, to the destination while its peers stream to it
// and check that every byte comes back. Also: rollback when the
// destination refuses, and crashes of either side with their recovery.

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/netlock/netlock.h"
#include "soccr/testing/lab.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::testing::Host;
using ::soccr::testing::HostScope;
using ::soccr::testing::Lab;
using ::testing::HasSubstr;

constexpr char kSoccr[] = "tools/soccr";
constexpr char kEchoApp[] = "tools/testing/echo_app";

struct Net {
  bool v6;
  std::string src, dst, peer, moved, moved_ip, prefix;
  // What the application listens on, if not moved_ip.
  std::string serve = "";
};

Net V4() {
  return {false,           "192.0.2.1/24",   "192.0.2.2/24",
          "192.0.2.10/24", "192.0.2.100/24", "192.0.2.100",
          "192.0.2.2"};
}
// A dual-stack server (an IPv6 socket) whose peers come over IPv4: its
// connections are IPv4-mapped (::ffff:192.0.2.100).
Net Mapped() {
  Net n = V4();
  n.serve = "::ffff:192.0.2.100";
  return n;
}
Net V6() {
  return {true,
          "2001:db8::1/64",
          "2001:db8::2/64",
          "2001:db8::10/64",
          "2001:db8::100/64",
          "2001:db8::100",
          "[2001:db8::2]"};
}

// The peers: each connection streams `bytes` of a pattern to the server
// and checks that the echo is exactly what it sent.
class Peers {
 public:
  Peers(std::vector<OwnedFd> socks, size_t bytes)
      : socks_(std::move(socks)), bytes_(bytes) {}
  ~Peers() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  // Waits until every byte came back (or the deadline); returns an error
  // for a wrong byte, a reset, or a timeout.
  absl::Status Finish(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!done_ && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    Stop();
    if (!error_.empty()) return absl::DataLossError(error_);
    if (!done_) {
      return absl::DeadlineExceededError(
          absl::StrCat("peers: ", echoed_total_.load(), " of ",
                       bytes_ * socks_.size(), " bytes echoed in time"));
    }
    return absl::OkStatus();
  }
  // How many bytes have come back so far, over all connections.
  size_t echoed() const { return echoed_total_.load(); }
  // The server side's keys (its address and port, then the peer's): what
  // a lock of the server's connections holds.
  std::vector<ConnectionKey> ServerKeys() const {
    std::vector<ConnectionKey> keys;
    for (const OwnedFd& s : socks_) {
      sockaddr_storage a = {}, b = {};
      socklen_t la = sizeof(a), lb = sizeof(b);
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &la);
      ::getpeername(s.get(), reinterpret_cast<sockaddr*>(&b), &lb);
      keys.push_back(
          {*SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&b), lb),
           *SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&a), la)});
    }
    return keys;
  }
  absl::Duration longest_gap() const { return longest_gap_; }

 private:
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void Run() {
    const size_t n = socks_.size();
    std::vector<size_t> sent(n, 0), echoed(n, 0);
    const std::string pattern = soccr::loopback::Pattern(bytes_, 7);
    absl::Time last_read = absl::Now();
    char buf[65536];
    while (!stop_) {
      std::vector<pollfd> p;
      bool all = true;
      for (size_t i = 0; i < n; ++i) {
        short ev = 0;
        if (echoed[i] < bytes_) ev |= POLLIN, all = false;
        if (sent[i] < bytes_) ev |= POLLOUT;
        p.push_back({socks_[i].get(), ev, 0});
      }
      if (all) {
        done_ = true;
        return;
      }
      if (::poll(p.data(), n, 50) < 0) continue;
      for (size_t i = 0; i < n; ++i) {
        if (p[i].revents & POLLOUT) {
          // Small writes, so the streams are under way during the move.
          const size_t chunk = std::min<size_t>(4096, bytes_ - sent[i]);
          const ssize_t w = ::send(socks_[i].get(), pattern.data() + sent[i],
                                   chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
          if (w > 0) sent[i] += static_cast<size_t>(w);
        }
        if (p[i].revents & (POLLIN | POLLERR | POLLHUP)) {
          const ssize_t r =
              ::recv(socks_[i].get(), buf, sizeof(buf), MSG_DONTWAIT);
          if (r > 0) {
            if (pattern.compare(echoed[i], static_cast<size_t>(r), buf,
                                static_cast<size_t>(r)) != 0) {
              error_ = absl::StrCat("peer ", i, ": wrong bytes at offset ",
                                    echoed[i]);
              return;
            }
            echoed[i] += static_cast<size_t>(r);
            echoed_total_ += static_cast<size_t>(r);
            const absl::Time now = absl::Now();
            longest_gap_ = std::max(longest_gap_, now - last_read);
            last_read = now;
          } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            error_ = absl::StrCat("peer ", i, ": connection ended (",
                                  r == 0 ? "EOF" : strerror(errno), ") after ",
                                  echoed[i], " bytes");
            return;
          }
        }
      }
    }
  }

  std::vector<OwnedFd> socks_;
  size_t bytes_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, done_{false};
  std::atomic<size_t> echoed_total_{0};
  absl::Duration longest_gap_;
  std::string error_;
};

int WaitExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (absl::Now() < deadline) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    absl::SleepFor(absl::Milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class LabFixture : public soccr::testing::NetnsTest {
 protected:
  // `extra` more connections are made (in extra_) that the peers' streams
  // leave alone, for a test's own use.
  void SetUpLab(const Net& net, int connections, size_t bytes, int extra = 0) {
    net_ = net;
    tmp_ =
        ::getenv("TEST_TMPDIR") != nullptr ? ::getenv("TEST_TMPDIR") : "/tmp";
    auto lab = Lab::Create();
    ASSERT_OK(lab.status());
    lab_.emplace(*std::move(lab));
    // The moved IPv6 address is deprecated at the source (preferred_lft 0,
    // as service addresses are configured), so that the source does not
    // pick it for its own connection to the destination.
    auto src = lab_->AddHost(
        "src", {net.src, net.v6 ? net.moved + " preferred_lft 0" : net.moved});
    ASSERT_OK(src.status());
    src_ = *src;
    auto dst = lab_->AddHost("dst", {net.dst});
    ASSERT_OK(dst.status());
    dst_ = *dst;
    auto peer = lab_->AddHost("peer", {net.peer});
    ASSERT_OK(peer.status());
    peer_ = *peer;

    const std::string ready = absl::StrCat(tmp_, "/ready");
    ::unlink(ready.c_str());
    auto app = src_->Spawn({kEchoApp, "serve",
                            net.serve.empty() ? net.moved_ip : net.serve,
                            "8000", absl::StrCat(connections + extra), ready});
    ASSERT_OK(app.status());
    app_ = *app;
    for (int i = 0; i < 500 && ::access(ready.c_str(), F_OK) != 0; ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    std::vector<OwnedFd> socks;
    {
      HostScope in(*peer_);
      ASSERT_TRUE(in.ok());
      auto to = SocketAddress::Parse(
          net.v6 ? absl::StrCat("[", net.moved_ip, "]:8000")
                 : absl::StrCat(net.moved_ip, ":8000"));
      ASSERT_OK(to.status());
      for (int i = 0; i < connections; ++i) {
        OwnedFd s(::socket(to->family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_EQ(::connect(s.get(), to->sockaddr(), to->length()), 0)
            << strerror(errno);
        socks.push_back(std::move(s));
      }
      for (int i = 0; i < extra; ++i) {
        OwnedFd s(::socket(to->family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_EQ(::connect(s.get(), to->sockaddr(), to->length()), 0)
            << strerror(errno);
        extra_.push_back(std::move(s));
      }
    }
    peers_ = std::make_unique<Peers>(std::move(socks), bytes);
    peers_->Start();
    // Under way before the move.
    for (int i = 0; i < 500 && peers_->echoed() < 4096u * connections; ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_GE(peers_->echoed(), 4096u * connections);
    // The application is stopped while its connections move (as soccr
    // dump asks): its socket calls would otherwise fail in repair mode. It
    // first writes out what it has read (SIGUSR1), or those bytes, in its
    // own memory, would be lost with it.
    ASSERT_EQ(::kill(app_, SIGUSR1), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(app_, &status, WUNTRACED), app_);
    ASSERT_TRUE(WIFSTOPPED(status));
  }

  void TearDown() override {
    if (app_ > 0) {
      ::kill(app_, SIGKILL);
      ::waitpid(app_, nullptr, 0);
    }
    for (pid_t p : others_) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
    peers_.reset();
    lab_.reset();
  }

  pid_t StartReceive(int port, const std::string& take,
                     const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {
        kSoccr,      "receive",
        "--listen",  absl::StrCat(net_.prefix, ":", port),
        "--timeout", "10s"};
    if (!take.empty()) {
      argv.insert(argv.end(), {"--take-address", take, "--dev", "eth0"});
    }
    argv.insert(argv.end(),
                {"--", kEchoApp, "inherit", absl::StrCat(tmp_, "/names")});
    auto pid = dst_->Spawn(argv, env);
    EXPECT_OK(pid.status());
    others_.push_back(pid.ok() ? *pid : -1);
    return pid.ok() ? *pid : -1;
  }

  // Runs soccr send in the source; returns its exit status.
  int Send(int port, const std::vector<std::string>& env = {},
           std::string* out = nullptr,
           const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {kSoccr,
                                     "send",
                                     "--pid",
                                     absl::StrCat(app_),
                                     "--all",
                                     "--to",
                                     absl::StrCat(net_.prefix, ":", port),
                                     "--release-address",
                                     net_.moved,
                                     "--dev",
                                     "eth0",
                                     "--journal",
                                     Journal(),
                                     "--timeout",
                                     "10s",
                                     "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    OwnedFd r(fds[0]), w(fds[1]);
    auto pid = src_->Spawn(argv, env, w.get());
    w.reset();
    if (!pid.ok()) return -1;
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(r.get(), buf, sizeof(buf))) > 0) text.append(buf, n);
    if (out != nullptr) *out = text;
    return WaitExit(*pid, absl::Seconds(60));
  }

  std::string Journal() const { return absl::StrCat(tmp_, "/send.journal"); }

  std::string Locks(const Host& h) {
    std::string out;
    EXPECT_OK(h.Run({kSoccr, "locks"}, &out));
    return out;
  }

  Net net_;
  std::string tmp_;
  std::optional<Lab> lab_;
  Host* src_ = nullptr;
  Host* dst_ = nullptr;
  Host* peer_ = nullptr;
  pid_t app_ = -1;
  std::vector<pid_t> others_;
  std::unique_ptr<Peers> peers_;
  std::vector<OwnedFd> extra_;
};

class MigrateTest : public LabFixture,
                    public ::testing::WithParamInterface<bool> {};

TEST_P(MigrateTest, MovesConnectionsWhilePeersStream) {
  const int n = 20;
  SetUpLab(GetParam() ? V6() : V4(), n, 256 << 10);
  const pid_t recv = StartReceive(7000, net_.moved);
  std::string report;
  ASSERT_EQ(Send(7000, {}, &report), 0)
      << report << " receive: " << WaitExit(recv, absl::Seconds(5));
  EXPECT_THAT(report, HasSubstr(absl::StrCat("\"connections\": ", n)));
  EXPECT_THAT(report, HasSubstr("\"downtime\": "));
  // The originals are disconnected: the old application has nothing left.
  ::kill(app_, SIGKILL);
  ASSERT_OK(peers_->Finish(absl::Seconds(60)));
  fprintf(stderr, "longest gap a peer saw: %.1f ms\n%s",
          absl::ToDoubleMilliseconds(peers_->longest_gap()), report.c_str());
  const std::string names = ReadFile(absl::StrCat(tmp_, "/names"));
  EXPECT_THAT(names, HasSubstr(absl::StrCat(n, " fd")));
  EXPECT_EQ(Locks(*src_), "");
  EXPECT_EQ(Locks(*dst_), "");
  std::string addrs;
  ASSERT_OK(src_->Run({"ip", "addr", "show", "dev", "eth0"}, &addrs));
  EXPECT_THAT(addrs, ::testing::Not(HasSubstr(net_.moved)));
  ASSERT_OK(dst_->Run({"ip", "addr", "show", "dev", "eth0"}, &addrs));
  EXPECT_THAT(addrs, HasSubstr(net_.moved));
}

TEST_P(MigrateTest, MovesUnderTheNamespaceLock) {
  SetUpLab(GetParam() ? V6() : V4(), 10, 128 << 10);
  const pid_t recv = StartReceive(7000, net_.moved);
  std::string report;
  ASSERT_EQ(Send(7000, {}, &report, {"--lock", "namespace"}), 0)
      << report << " receive: " << WaitExit(recv, absl::Seconds(5));
  EXPECT_THAT(report, HasSubstr("\"connections\": 10"));
  ::kill(app_, SIGKILL);
  ASSERT_OK(peers_->Finish(absl::Seconds(60)));
  EXPECT_EQ(Locks(*src_), "");
  EXPECT_EQ(Locks(*dst_), "");
}

// --lock none: soccr takes no lock at the source; the caller holds the
// connections its own way (here the test's own lock in the source's
// namespace, as a caller's firewall would), and lifts it after the move.
TEST_P(MigrateTest, MovesUnderTheCallersOwnLock) {
  SetUpLab(GetParam() ? V6() : V4(), 10, 128 << 10);
  std::optional<NetworkLock> own;
  {
    HostScope in(*src_);
    ASSERT_TRUE(in.ok());
    ASSERT_OK_AND_ASSIGN(l, NetworkLock::LockConnections(peers_->ServerKeys()));
    own.emplace(std::move(l));
  }
  const pid_t recv = StartReceive(7000, net_.moved);
  std::string report;
  ASSERT_EQ(Send(7000, {}, &report, {"--lock", "none"}), 0)
      << report << " receive: " << WaitExit(recv, absl::Seconds(5));
  // Only the caller's lock is there: soccr made none of its own.
  const std::vector<std::string> left = Lines(Locks(*src_));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_THAT(left[0], HasSubstr(own->id()));
  ASSERT_OK(std::move(*own).Unlock());
  ::kill(app_, SIGKILL);
  ASSERT_OK(peers_->Finish(absl::Seconds(60)));
  EXPECT_EQ(Locks(*src_), "");
  EXPECT_EQ(Locks(*dst_), "");
}

TEST_P(MigrateTest, RollsBackWhenTheDestinationRefuses) {
  SetUpLab(GetParam() ? V6() : V4(), 5, 128 << 10);
  // The destination only takes connections on another address.
  const pid_t recv =
      StartReceive(7000, GetParam() ? "2001:db8::200/64" : "192.0.2.200/24");
  std::string report;
  EXPECT_EQ(Send(7000, {}, &report), 1);
  EXPECT_EQ(WaitExit(recv, absl::Seconds(10)), 1);
  ASSERT_EQ(::kill(app_, SIGCONT), 0);
  ASSERT_OK(peers_->Finish(absl::Seconds(60)));
  EXPECT_EQ(Locks(*src_), "");
  EXPECT_EQ(Locks(*dst_), "");
}

TEST_P(MigrateTest, RollsBackWhenTheDestinationDies) {
  SetUpLab(GetParam() ? V6() : V4(), 5, 128 << 10);
  const pid_t recv =
      StartReceive(7000, net_.moved, {"SOCCR_CRASH_AT=receive:locked"});
  EXPECT_EQ(Send(7000), 1);
  EXPECT_EQ(WaitExit(recv, absl::Seconds(10)), 128 + SIGKILL);
  ASSERT_EQ(::kill(app_, SIGCONT), 0);
  ASSERT_OK(peers_->Finish(absl::Seconds(60)));
  EXPECT_EQ(Locks(*src_), "");
  // The destination's lock outlived it: the documented recovery removes it.
  const std::string left = Locks(*dst_);
  ASSERT_THAT(left, HasSubstr("connections 5 "));
  ASSERT_OK(dst_->Run({kSoccr, "unlock", left.substr(0, 16)}));
}

// A connection whose peer has closed its side (CLOSE_WAIT at the source)
// needs the peer's FIN injected into the restored socket, which only
// reaches an address already local; the destination takes the address
// only after the go-ahead, so it cannot restore it: the move rolls back
// (docs/migration.md, "Half-closed connections"), every connection carries
// on at the source, the half-closed one with its unread bytes and its FIN.
TEST_F(LabFixture, AHalfClosedConnectionRollsTheMoveBack) {
  SetUpLab(V4(), 5, 128 << 10, /*extra=*/1);
  // The application is stopped: the bytes and the FIN wait in its socket.
  ASSERT_OK(soccr::loopback::WriteAll(extra_[0].borrow(), "half-closed"));
  ASSERT_EQ(::shutdown(extra_[0].get(), SHUT_WR), 0);
  absl::SleepFor(absl::Milliseconds(100));
  const pid_t recv = StartReceive(7000, net_.moved);
  std::string report;
  EXPECT_EQ(Send(7000, {}, &report), 1) << report;
  EXPECT_EQ(WaitExit(recv, absl::Seconds(10)), 1);
  EXPECT_EQ(Locks(*src_), "");
  EXPECT_EQ(Locks(*dst_), "");
  ASSERT_EQ(::kill(app_, SIGCONT), 0);
  ASSERT_OK(peers_->Finish(absl::Seconds(60)));
  ASSERT_OK_AND_ASSIGN(echo, soccr::loopback::ReadExactly(
                                 extra_[0].borrow(), 11, absl::Seconds(10)));
  EXPECT_EQ(echo, "half-closed");
}

// A dual-stack server's IPv4 connections (::ffff:192.0.2.100 at the
// server) move with the IPv4 address.
TEST_F(LabFixture, MovesMappedConnections) {
  SetUpLab(Mapped(), 10, 128 << 10);
  const pid_t recv = StartReceive(7000, net_.moved);
  std::string report;
  ASSERT_EQ(Send(7000, {}, &report), 0)
      << report << " receive: " << WaitExit(recv, absl::Seconds(5));
  EXPECT_THAT(report, HasSubstr("\"connections\": 10"));
  ::kill(app_, SIGKILL);
  ASSERT_OK(peers_->Finish(absl::Seconds(60)));
  EXPECT_EQ(Locks(*src_), "");
  EXPECT_EQ(Locks(*dst_), "");
}

// SIGKILL of either side at each step of the protocol, then the recovery
// docs/migration.md prescribes for it: every byte the peers sent comes back,
// from wherever the connections ended up, and no lock is left.
struct Crash {
  const char* step;
  // What the recovery is: kSource, the connections stay at the source
  // (soccr recover JOURNAL); kRedeliver, the saved image goes to a new
  // receiver (soccr recover JOURNAL --to); kDestination, they are at the
  // destination already.
  enum { kSource, kRedeliver, kDestination } outcome;
};

class CrashTest : public LabFixture,
                  public ::testing::WithParamInterface<Crash> {};

TEST_P(CrashTest, OneOwnerAfterRecovery) {
  const Crash c = GetParam();
  SetUpLab(V4(), 4, 96 << 10);
  const bool at_source = absl::StartsWith(c.step, "send:");
  const std::string crash = absl::StrCat("SOCCR_CRASH_AT=", c.step);
  const pid_t recv = StartReceive(
      7000, net_.moved,
      at_source ? std::vector<std::string>{} : std::vector<std::string>{crash});
  const int sent = Send(7000, at_source ? std::vector<std::string>{crash}
                                        : std::vector<std::string>{});
  if (at_source) {
    EXPECT_EQ(sent, 128 + SIGKILL);
  } else {
    EXPECT_EQ(WaitExit(recv, absl::Seconds(15)), 128 + SIGKILL);
    EXPECT_EQ(sent, 1);  // rolled back, or committed without a DONE
  }
  // What the destination left: its lock guards the connections until a
  // new receiver holds them (a peer's segment reaching the address with no
  // socket there would be answered with a reset), so it goes after the
  // recovery: with a redelivery the new receiver removes it itself.
  const std::string dst_left = Locks(*dst_);
  std::string out;
  switch (c.outcome) {
    case Crash::kSource:
      if (at_source) {
        ASSERT_OK(src_->Run({kSoccr, "recover", Journal(), "--json"}, &out));
        EXPECT_THAT(out, HasSubstr("\"committed\": false"));
        EXPECT_THAT(out, HasSubstr("\"summary\": \"not committed"));
      }
      ASSERT_EQ(::kill(app_, SIGCONT), 0);
      break;
    case Crash::kRedeliver:
      StartReceive(7001, net_.moved);
      ASSERT_OK(src_->Run({kSoccr, "recover", Journal(), "--to",
                           absl::StrCat(net_.prefix, ":7001")},
                          &out));
      EXPECT_THAT(out, HasSubstr("committed: 4 connections handed"));
      // The new receiver removed the lock a dead one left (its own
      // session's), once its sockets held the connections: none is left
      // for the operator to remove, in an order that matters.
      EXPECT_EQ(Locks(*dst_), "");
      ::kill(app_, SIGKILL);
      break;
    case Crash::kDestination:
      ::kill(app_, SIGKILL);
      // The source cannot know the go-ahead arrived: its journal says
      // committed. Redelivering to the same host is refused there (the
      // connections exist), so nothing is doubled; the source's lock is
      // then removed by hand.
      StartReceive(7001, net_.moved);
      EXPECT_FALSE(src_->Run({kSoccr, "recover", Journal(), "--to",
                              absl::StrCat(net_.prefix, ":7001")})
                       .ok());
      for (const std::string& line : Lines(Locks(*src_))) {
        ASSERT_OK(src_->Run({kSoccr, "unlock", line.substr(0, 16)}));
      }
      break;
  }
  // (A destination that had the go-ahead may have removed its own lock
  // since: the check is that none is left at the end.)
  for (const std::string& line : Lines(dst_left)) {
    (void)dst_->Run({kSoccr, "unlock", line.substr(0, 16)});
  }
  ASSERT_OK(peers_->Finish(absl::Seconds(60)));
  if (c.outcome != Crash::kDestination) {
    EXPECT_EQ(Locks(*src_), "");
  }
  EXPECT_EQ(Locks(*dst_), "");
}

INSTANTIATE_TEST_SUITE_P(
    Steps, CrashTest,
    ::testing::Values(Crash{"send:locked", Crash::kSource},
                      Crash{"send:checkpointed", Crash::kSource},
                      Crash{"send:sent", Crash::kSource},
                      Crash{"send:restored", Crash::kSource},
                      Crash{"send:committed", Crash::kRedeliver},
                      Crash{"send:go-sent", Crash::kDestination},
                      Crash{"receive:hello", Crash::kSource},
                      Crash{"receive:locked", Crash::kSource},
                      Crash{"receive:restored", Crash::kRedeliver},
                      Crash{"receive:go", Crash::kRedeliver},
                      Crash{"receive:resumed", Crash::kRedeliver}),
    [](const ::testing::TestParamInfo<Crash>& info) {
      std::string name = info.param.step;
      for (char& ch : name) {
        if (ch == ':' || ch == '-') ch = '_';
      }
      return name;
    });

INSTANTIATE_TEST_SUITE_P(Families, MigrateTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "v6" : "v4";
                         });

}  // namespace
}  // namespace soccr
