// migrate_measure: the downtime of a live migration between two lab hosts
// (network namespaces on a veth bridge), per phase, as soccr::Send and
// soccr::Receive report them, wall clock.
//
//   bazel run -c opt //bench:migrate_measure -- [REPETITIONS] [SIZES...]
//   bazel run -c opt //bench:migrate_measure -- 3 1 1000 10000 queued
//
// Each size N moves N idle connections (with their address) from "src" to
// "dst" while "peer" holds the other ends (peers, owner and receiver each
// in a process of their own, the sender in this one, as `soccr send --pid`
// would be); "queued" moves 100 connections
// with 1 MiB written each way and not yet read (as much of it as the
// kernel's default buffers hold, reported), and then measures how long
// after the destination's unlock the last byte reaches each side.
// Downtime is from the source's lock to the destination's DONE.

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/migrate/migrate.h"
#include "soccr/status_macros.h"
#include "soccr/testing/lab.h"

namespace soccr {
namespace {

using testing::Host;
using testing::HostScope;
using testing::Lab;

struct Round {
  SendReport send;
  absl::Duration last_byte_at_peers;  // queued only
  absl::Duration last_byte_at_dst;    // queued only
  uint64_t queued_to_peers = 0, queued_from_peers = 0;
};

// SOCCR_CHUNK=N: connections per image (SendOptions::chunk), to compare.
size_t Chunk() {
  const char* c = ::getenv("SOCCR_CHUNK");
  return c == nullptr ? 0 : static_cast<size_t>(atoll(c));
}

// Reads until `want` bytes have come from each descriptor, or 30 s.
absl::Time DrainUntil(const std::vector<int>& fds,
                      const std::vector<uint64_t>& want) {
  std::vector<uint64_t> got(fds.size(), 0);
  char buf[1 << 16];
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  absl::Time last = absl::Now();
  for (;;) {
    bool all = true;
    std::vector<pollfd> p;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (got[i] < want[i]) all = false;
      p.push_back({got[i] < want[i] ? fds[i] : -1, POLLIN, 0});
    }
    if (all || absl::Now() > deadline) return last;
    ::poll(p.data(), p.size(), 100);
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(p[i].revents & POLLIN)) continue;
      const ssize_t n = ::recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        got[i] += static_cast<uint64_t>(n);
        last = absl::Now();
      }
    }
  }
}

// Writes up to `n` bytes without blocking; returns how many went in.
uint64_t Fill(int fd, uint64_t n) {
  static const std::string chunk(1 << 16, 'q');
  uint64_t done = 0;
  while (done < n) {
    const ssize_t w =
        ::send(fd, chunk.data(), std::min<uint64_t>(chunk.size(), n - done),
               MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w <= 0) break;
    done += static_cast<uint64_t>(w);
  }
  return done;
}

// A fresh lab (in a new network namespace): src holds the service
// address 192.0.2.100, dst will take it, peer talks to it.
struct Hosts {
  Lab lab;
  Host* src;
  Host* dst;
  Host* peer;
};

absl::StatusOr<Hosts> NewLab() {
  SOCCR_RETURN_IF_ERROR(loopback::EnterPrivateNetns());
  absl::StatusOr<Lab> lab = Lab::Create();
  if (!lab.ok()) return lab.status();
  absl::StatusOr<Host*> src =
      lab->AddHost("src", {"192.0.2.1/24", "192.0.2.100/24"});
  if (!src.ok()) return src.status();
  absl::StatusOr<Host*> dst = lab->AddHost("dst", {"192.0.2.2/24"});
  if (!dst.ok()) return dst.status();
  absl::StatusOr<Host*> peer = lab->AddHost("peer", {"192.0.2.10/24"});
  if (!peer.ok()) return peer.status();
  return Hosts{*std::move(lab), *src, *dst, *peer};
}

// Forks a child that runs `body` in `host`'s namespace and then waits to be
// killed; `ready` gets one byte once `body` returns (its exit code if not 0).
absl::StatusOr<pid_t> Child(const Host& host, int ready,
                            const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    HostScope in(host);
    const char r = static_cast<char>(body());
    if (::write(ready, &r, 1) != 1) _exit(1);
    for (;;) ::pause();
  }
  return pid;
}

// Idle connections, each side in a process of its own (a process may hold
// 20,000 descriptors here, and 10,000 connections need 40,000 in all):
// peers, the owner the connections are taken from, the receiver; this
// process sends.
absl::StatusOr<Round> MoveIdle(int n) {
  absl::StatusOr<Hosts> hosts = NewLab();
  if (!hosts.ok()) return hosts.status();
  Host* const* src = &hosts->src;
  Host* const* dst = &hosts->dst;
  Host* const* peer = &hosts->peer;
  const SocketAddress service = SocketAddress::V4(0xc0000264, 8000);
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe");
  OwnedFd ready_r(ready[0]), ready_w(ready[1]);
  int fds_pipe[2];
  if (::pipe2(fds_pipe, O_CLOEXEC) != 0)
    return absl::ErrnoToStatus(errno, "pipe");
  OwnedFd fds_r(fds_pipe[0]), fds_w(fds_pipe[1]);
  std::vector<pid_t> children;
  auto reap = [&] {
    for (pid_t c : children) {
      ::kill(c, SIGKILL);
      ::waitpid(c, nullptr, 0);
    }
  };
  auto wait_ready = [&]() -> absl::Status {
    char r = 1;
    if (::read(ready_r.get(), &r, 1) != 1 || r != 0) {
      return absl::InternalError("a child failed");
    }
    return absl::OkStatus();
  };
  // The owner: listens, accepts, reports its descriptors, holds them.
  absl::StatusOr<pid_t> owner = Child(**src, ready_w.get(), [&]() -> int {
    OwnedFd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::bind(l.get(), service.sockaddr(), service.length()) != 0 ||
        ::listen(l.get(), 4096) != 0) {
      return 2;
    }
    const char go = 0;
    if (::write(fds_w.get(), &go, 1) != 1) return 3;  // listening
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) {
      const int c = ::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return 4;
      fds.push_back(c);
    }
    const size_t bytes = fds.size() * sizeof(int);
    if (::write(fds_w.get(), fds.data(), bytes) !=
        static_cast<ssize_t>(bytes)) {
      return 5;
    }
    return 0;
  });
  if (!owner.ok()) return owner.status();
  children.push_back(*owner);
  char listening;
  if (::read(fds_r.get(), &listening, 1) != 1) {
    reap();
    return absl::InternalError("owner");
  }
  absl::StatusOr<pid_t> peers = Child(**peer, ready_w.get(), [&]() -> int {
    std::vector<OwnedFd> socks;
    for (int i = 0; i < n; ++i) {
      OwnedFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!s || ::connect(s.get(), service.sockaddr(), service.length()) != 0) {
        return 6;
      }
      socks.push_back(std::move(s));
    }
    for (OwnedFd& s : socks) (void)s.release();  // held until killed
    return 0;
  });
  if (!peers.ok()) return peers.status();
  children.push_back(*peers);
  std::vector<int> fds(n);
  size_t got = 0;
  while (got < fds.size() * sizeof(int)) {
    const ssize_t r =
        ::read(fds_r.get(), reinterpret_cast<char*>(fds.data()) + got,
               fds.size() * sizeof(int) - got);
    if (r <= 0) {
      reap();
      return absl::InternalError("reading the owner's descriptors");
    }
    got += static_cast<size_t>(r);
  }
  for (int i = 0; i < 2; ++i) {
    if (absl::Status s = wait_ready(); !s.ok()) {
      reap();
      return s;
    }
  }
  absl::StatusOr<pid_t> receiver = Child(**dst, ready_w.get(), [&]() -> int {
    ReceiveOptions r;
    r.listen = "192.0.2.2:7000";
    r.take_address = *InterfaceAddress::Parse("192.0.2.100/24");
    r.dev = "eth0";
    r.timeout = absl::Seconds(120);
    absl::StatusOr<ReceiveResult> got = Receive(r);
    if (!got.ok()) {
      fprintf(stderr, "receive: %s\n", got.status().ToString().c_str());
      return 7;
    }
    for (OwnedFd& f : got->connections) (void)f.release();
    return 0;
  });
  if (!receiver.ok()) return receiver.status();
  children.push_back(*receiver);
  absl::StatusOr<SendReport> sent;
  {
    HostScope in(**src);
    SendOptions s;
    s.pid = *owner;
    s.fds = fds;
    s.to = "192.0.2.2:7000";
    s.release_address = *InterfaceAddress::Parse("192.0.2.100/24");
    s.dev = "eth0";
    s.timeout = absl::Seconds(120);
    s.chunk = Chunk();
    sent = Send(s);
  }
  reap();
  if (!sent.ok()) return sent.status();
  Round round;
  round.send = *sent;
  return round;
}

absl::StatusOr<Round> MoveOnce(int n, bool queued) {
  if (!queued) return MoveIdle(n);
  absl::StatusOr<Hosts> hosts = NewLab();
  if (!hosts.ok()) return hosts.status();
  Host* const* src = &hosts->src;
  Host* const* dst = &hosts->dst;
  Host* const* peer = &hosts->peer;
  const SocketAddress service = SocketAddress::V4(0xc0000264, 8000);

  OwnedFd listener;
  {
    HostScope in(**src);
    listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::bind(listener.get(), service.sockaddr(), service.length()) != 0 ||
        ::listen(listener.get(), 4096) != 0) {
      return absl::ErrnoToStatus(errno, "bind/listen in src");
    }
  }
  std::vector<OwnedFd> peers, app;
  {
    HostScope in(**peer);
    for (int i = 0; i < n; ++i) {
      OwnedFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!s) return absl::ErrnoToStatus(errno, "socket in peer");
      if (::connect(s.get(), service.sockaddr(), service.length()) != 0) {
        return absl::ErrnoToStatus(errno, "connect from peer");
      }
      peers.push_back(std::move(s));
      app.emplace_back(
          ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!app.back()) return absl::ErrnoToStatus(errno, "accept");
    }
  }
  listener.reset();
  Round round;
  std::vector<uint64_t> to_peers(n, 0), from_peers(n, 0);
  if (queued) {
    for (int i = 0; i < n; ++i) {
      to_peers[i] = Fill(app[i].get(), 1 << 20);
      from_peers[i] = Fill(peers[i].get(), 1 << 20);
      round.queued_to_peers += to_peers[i];
      round.queued_from_peers += from_peers[i];
    }
    absl::SleepFor(absl::Milliseconds(200));  // let what can fly, fly
  }

  std::optional<absl::StatusOr<ReceiveResult>> received;
  absl::Time dst_last;
  std::thread receiver([&] {
    HostScope in(**dst);
    ReceiveOptions r;
    r.listen = "192.0.2.2:7000";
    r.take_address = *InterfaceAddress::Parse("192.0.2.100/24");
    r.dev = "eth0";
    r.timeout = absl::Seconds(60);
    received.emplace(Receive(r));
    if (queued && received->ok()) {
      std::vector<int> fds;
      for (const OwnedFd& f : (*received)->connections) fds.push_back(f.get());
      dst_last = DrainUntil(fds, from_peers);
    }
  });
  absl::StatusOr<SendReport> sent;
  {
    HostScope in(**src);
    SendOptions s;
    s.pid = ::getpid();
    for (const OwnedFd& f : app) s.fds.push_back(f.get());
    s.to = "192.0.2.2:7000";
    s.release_address = *InterfaceAddress::Parse("192.0.2.100/24");
    s.dev = "eth0";
    s.timeout = absl::Seconds(60);
    s.chunk = Chunk();
    sent = Send(s);
  }
  const absl::Time unlocked = absl::Now();
  absl::Time peers_last = unlocked;
  if (sent.ok() && queued) {
    std::vector<int> fds;
    for (const OwnedFd& f : peers) fds.push_back(f.get());
    peers_last = DrainUntil(fds, to_peers);
  }
  receiver.join();
  if (!sent.ok()) return sent.status();
  if (!received->ok()) return received->status();
  round.send = *sent;
  round.last_byte_at_peers = peers_last - unlocked;
  round.last_byte_at_dst = dst_last - unlocked;
  return round;
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

int Main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, atoi(argv[1])) : 3;
  std::vector<std::string> sizes;
  for (int i = 2; i < argc; ++i) sizes.push_back(argv[i]);
  if (sizes.empty()) sizes = {"1", "1000", "10000", "queued"};
  // Four descriptors per connection live in this one process (peer, owner,
  // the sender's copy, the restored socket): 10,000 connections need more
  // than the usual limit. Raising the hard limit needs CAP_SYS_RESOURCE
  // (root, before the user namespace); otherwise take what there is.
  struct rlimit rl = {};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  struct rlimit want = {1 << 17, 1 << 17};
  if (::setrlimit(RLIMIT_NOFILE, &want) != 0) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }

  printf(
      "%-14s %9s %9s %9s %9s %9s %9s | %8s %8s %8s %8s %8s (ms, median of "
      "%d)\n",
      "connections", "downtime", "lock", "checkpt", "transfer", "commit",
      "unlock", "d.lock", "d.restor", "d.takeov", "d.resume", "d.unlock", reps);
  for (const std::string& size : sizes) {
    const bool queued = size == "queued";
    const int n = queued ? 100 : atoi(size.c_str());
    std::vector<Round> rounds;
    for (int r = 0; r < reps; ++r) {
      absl::StatusOr<Round> round = MoveOnce(n, queued);
      if (!round.ok()) {
        fprintf(stderr, "%s: %s\n", size.c_str(),
                round.status().ToString().c_str());
        return 1;
      }
      rounds.push_back(*round);
    }
    std::sort(rounds.begin(), rounds.end(), [](const Round& a, const Round& b) {
      return a.send.downtime < b.send.downtime;
    });
    const Round& m = rounds[rounds.size() / 2];
    const SendReport& s = m.send;
    const migrate::DestinationTimes& d = s.destination;
    printf(
        "%-14s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f | %8.2f %8.2f %8.2f %8.2f "
        "%8.2f\n",
        queued ? "100 queued" : size.c_str(), Ms(s.downtime), Ms(s.lock),
        Ms(s.checkpoint), Ms(s.transfer), Ms(s.commit), Ms(s.unlock),
        Ms(d.lock), Ms(d.restore), Ms(d.takeover), Ms(d.resume), Ms(d.unlock));
    // Every round's downtime, sorted: the minimum is the least disturbed
    // by whatever else the machine ran.
    printf("  downtimes (ms, sorted):");
    for (const Round& r : rounds) printf(" %.2f", Ms(r.send.downtime));
    printf("\n");
    if (queued) {
      printf(
          "  queued: %.1f MiB app->peers, %.1f MiB peers->app; last byte at "
          "the peers %.1f ms after the unlock, at the destination %.1f ms\n",
          m.queued_to_peers / 1048576.0, m.queued_from_peers / 1048576.0,
          Ms(m.last_byte_at_peers), Ms(m.last_byte_at_dst));
    }
    fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace soccr

int main(int argc, char** argv) { return soccr::Main(argc, argv); }
