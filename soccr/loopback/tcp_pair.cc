#include "soccr/loopback/tcp_pair.h"

#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace soccr::loopback {
namespace {

int PollMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

int Ioctl(BorrowedFd fd, unsigned long request) {
  int v = -1;
  if (::ioctl(fd.get(), request, &v) != 0) return -1;
  return v;
}

}  // namespace

std::string FamilyName(Family family) {
  switch (family) {
    case Family::kV4:
      return "v4";
    case Family::kV6:
      return "v6";
    case Family::kMapped:
      return "mapped";
  }
  return "?";
}

absl::StatusOr<TcpPair> ConnectedPair(Family family, uint16_t port,
                                      int server_rcvbuf) {
  const int domain = family == Family::kV4 ? AF_INET : AF_INET6;
  OwnedFd listener(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener) return absl::ErrnoToStatus(errno, "socket");
  const int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (server_rcvbuf > 0 &&
      ::setsockopt(listener.get(), SOL_SOCKET, SO_RCVBUF, &server_rcvbuf,
                   sizeof(server_rcvbuf)) != 0) {
    return absl::ErrnoToStatus(errno, "SO_RCVBUF");
  }
  SocketAddress bind_addr;
  SocketAddress connect_addr;
  switch (family) {
    case Family::kV4:
      bind_addr = SocketAddress::Loopback4(port);
      break;
    case Family::kV6:
      bind_addr = SocketAddress::Loopback6(port);
      break;
    case Family::kMapped: {
      const int zero = 0;
      ::setsockopt(listener.get(), SOL_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
      static constexpr uint8_t kAny[16] = {};
      bind_addr = SocketAddress::V6(kAny, port);
      break;
    }
  }
  if (::bind(listener.get(), bind_addr.sockaddr(), bind_addr.length()) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("bind ", bind_addr.ToString()));
  }
  if (::listen(listener.get(), 8) != 0)
    return absl::ErrnoToStatus(errno, "listen");
  struct sockaddr_storage ss = {};
  socklen_t len = sizeof(ss);
  ::getsockname(listener.get(), reinterpret_cast<struct sockaddr*>(&ss), &len);
  absl::StatusOr<SocketAddress> bound =
      SocketAddress::FromSockaddr(reinterpret_cast<struct sockaddr*>(&ss), len);
  if (!bound.ok()) return bound.status();
  switch (family) {
    case Family::kV4:
      connect_addr = SocketAddress::Loopback4(bound->port());
      break;
    case Family::kV6:
      connect_addr = SocketAddress::Loopback6(bound->port());
      break;
    case Family::kMapped:
      connect_addr = SocketAddress::LoopbackMapped(bound->port());
      break;
  }
  TcpPair pair;
  pair.client.reset(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!pair.client) return absl::ErrnoToStatus(errno, "socket");
  if (::connect(pair.client.get(), connect_addr.sockaddr(),
                connect_addr.length()) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("connect ", connect_addr.ToString()));
  }
  pair.server.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!pair.server) return absl::ErrnoToStatus(errno, "accept");
  return pair;
}

std::string Pattern(size_t n, uint64_t seed, uint64_t offset) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    // A cheap mix of position and seed: any shift or repeat shows.
    uint64_t x =
        (offset + i) * 0x9E3779B97F4A7C15ull + seed * 0xD6E8FEB86659FD93ull;
    x ^= x >> 29;
    out[i] = static_cast<char>(x ^ (x >> 17));
  }
  return out;
}

absl::Status WriteAll(BorrowedFd fd, absl::string_view data,
                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd.get(), data.data() + done, data.size() - done,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return absl::ErrnoToStatus(errno,
                                 absl::StrCat("send after ", done, " bytes"));
    }
    struct pollfd p = {fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, PollMs(deadline)) == 0 && absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("send: ", done, " of ", data.size(), " bytes written"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> WriteSome(BorrowedFd fd, absl::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd.get(), data.data() + done, data.size() - done,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return absl::ErrnoToStatus(errno, "send");
    break;
  }
  return done;
}

absl::StatusOr<std::string> ReadExactly(BorrowedFd fd, size_t n,
                                        absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    const ssize_t r =
        ::recv(fd.get(), out.data() + done, n - done, MSG_DONTWAIT);
    if (r > 0) {
      done += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      return absl::DataLossError(
          absl::StrCat("EOF after ", done, " of ", n, " bytes"));
    }
    if (errno != EAGAIN && errno != EINTR) {
      return absl::ErrnoToStatus(errno,
                                 absl::StrCat("recv after ", done, " bytes"));
    }
    struct pollfd p = {fd.get(), POLLIN, 0};
    if (::poll(&p, 1, PollMs(deadline)) == 0 && absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("recv: ", done, " of ", n, " bytes arrived"));
    }
  }
  return out;
}

absl::StatusOr<std::string> ReadAvailable(BorrowedFd fd, size_t max) {
  std::string out(max, '\0');
  size_t done = 0;
  while (done < max) {
    const ssize_t r =
        ::recv(fd.get(), out.data() + done, max - done, MSG_DONTWAIT);
    if (r > 0) {
      done += static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno != EAGAIN) return absl::ErrnoToStatus(errno, "recv");
    break;
  }
  out.resize(done);
  return out;
}

absl::Status ExpectEof(BorrowedFd fd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    char c;
    const ssize_t r = ::recv(fd.get(), &c, 1, MSG_DONTWAIT);
    if (r == 0) return absl::OkStatus();
    if (r > 0)
      return absl::DataLossError("data where end-of-file was expected");
    if (errno != EAGAIN && errno != EINTR)
      return absl::ErrnoToStatus(errno, "recv");
    struct pollfd p = {fd.get(), POLLIN, 0};
    if (::poll(&p, 1, PollMs(deadline)) == 0 && absl::Now() >= deadline) {
      return absl::DeadlineExceededError("no end-of-file");
    }
  }
}

int InqLen(BorrowedFd fd) { return Ioctl(fd, SIOCINQ); }
int OutqLen(BorrowedFd fd) { return Ioctl(fd, SIOCOUTQ); }
int UnsentLen(BorrowedFd fd) { return Ioctl(fd, SIOCOUTQNSD); }

absl::Status WaitNothingInFlight(BorrowedFd fd, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (OutqLen(fd) != UnsentLen(fd)) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "still in flight: ", OutqLen(fd) - UnsentLen(fd), " bytes"));
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

absl::Status WaitInq(BorrowedFd fd, size_t n, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (InqLen(fd) < static_cast<int>(n)) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "receive queue holds ", InqLen(fd), " of ", n, " bytes"));
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

absl::Status DropIncoming(BorrowedFd fd) {
  struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  struct sock_fprog prog = {1, drop_all};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog,
                   sizeof(prog)) != 0) {
    return absl::ErrnoToStatus(errno, "SO_ATTACH_FILTER");
  }
  return absl::OkStatus();
}

absl::Status AcceptIncoming(BorrowedFd fd) {
  int unused = 0;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_DETACH_FILTER, &unused,
                   sizeof(unused)) != 0) {
    return absl::ErrnoToStatus(errno, "SO_DETACH_FILTER");
  }
  return absl::OkStatus();
}

absl::Status DropIncomingFin(BorrowedFd fd) {
  // A TCP socket's filter sees the segment from its TCP header on: byte 13
  // holds the flags, FIN is bit 0.
  struct sock_filter drop_fin[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x01, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
  };
  struct sock_fprog prog = {4, drop_fin};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog,
                   sizeof(prog)) != 0) {
    return absl::ErrnoToStatus(errno, "SO_ATTACH_FILTER");
  }
  return absl::OkStatus();
}

int TcpStateNumber(BorrowedFd fd) {
  struct tcp_info ti = {};
  socklen_t len = sizeof(ti);
  if (::getsockopt(fd.get(), SOL_TCP, TCP_INFO, &ti, &len) != 0) return 0;
  return ti.tcpi_state;
}

absl::Status WaitTcpState(BorrowedFd fd, int state, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (TcpStateNumber(fd) != state) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("TCP state is ", TcpStateNumber(fd), ", not ", state));
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

int CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (::readdir(dir) != nullptr) ++n;
  ::closedir(dir);
  return n - 3;  // ".", ".." and the directory itself.
}

}  // namespace soccr::loopback
