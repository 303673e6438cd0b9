// The real kernel behind soccr::sys::Sys: each method is one system call.

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "soccr/sys/sys.h"

namespace soccr::sys {
namespace {

// `r`, naming the call it is the outcome of.
template <typename R>
R With(Op op, R r) {
  r.op = op;
  return r;
}

Result<void> FromRc(int rc) { return Result<void>{rc < 0 ? errno : 0}; }

Result<size_t> FromSize(ssize_t n) {
  Result<size_t> r;
  if (n < 0) {
    r.err = errno;
  } else {
    r.value = static_cast<size_t>(n);
  }
  return r;
}

template <typename T>
Result<T> GetTcp(BorrowedFd fd, int name) {
  Result<T> r;
  socklen_t len = sizeof(r.value);
  if (::getsockopt(fd.get(), SOL_TCP, name, &r.value, &len) < 0) r.err = errno;
  return r;
}

template <typename T>
Result<void> SetTcp(BorrowedFd fd, int name, const T& value) {
  return FromRc(::setsockopt(fd.get(), SOL_TCP, name, &value, sizeof(value)));
}

Result<int> Ioctl(BorrowedFd fd, unsigned long request) {
  Result<int> r;
  if (::ioctl(fd.get(), request, &r.value) < 0) r.err = errno;
  return r;
}

Result<SocketAddress> Name(BorrowedFd fd, bool peer) {
  struct sockaddr_storage ss = {};
  socklen_t len = sizeof(ss);
  auto* sa = reinterpret_cast<struct sockaddr*>(&ss);
  const int rc = peer ? ::getpeername(fd.get(), sa, &len)
                      : ::getsockname(fd.get(), sa, &len);
  Result<SocketAddress> r;
  if (rc < 0) {
    r.err = errno;
    return r;
  }
  if (auto a = SocketAddress::FromSockaddr(sa, len); a.ok()) r.value = *a;
  return r;
}

class LinuxSysImpl final : public Sys {
 public:
  Result<OwnedFd> Socket(int domain, int type, int protocol) const override {
    Result<OwnedFd> r;
    r.value.reset(::socket(domain, type, protocol));
    if (!r.value) r.err = errno;
    return With(Op::kSocket, std::move(r));
  }
  Result<void> SetRepair(BorrowedFd fd, RepairMode mode) const override {
    return With(Op::kSetRepair, SetTcp(fd, TCP_REPAIR, static_cast<int>(mode)));
  }
  Result<void> SetRepairQueue(BorrowedFd fd, RepairQueue queue) const override {
    return With(Op::kSetRepairQueue,
                SetTcp(fd, TCP_REPAIR_QUEUE, static_cast<int>(queue)));
  }
  Result<uint32_t> GetQueueSeq(BorrowedFd fd) const override {
    return With(Op::kGetQueueSeq, GetTcp<uint32_t>(fd, TCP_QUEUE_SEQ));
  }
  Result<void> SetQueueSeq(BorrowedFd fd, uint32_t seq) const override {
    return With(Op::kSetQueueSeq, SetTcp(fd, TCP_QUEUE_SEQ, seq));
  }
  Result<void> SetRepairOptions(
      BorrowedFd fd,
      absl::Span<const struct tcp_repair_opt> opts) const override {
    return With(
        Op::kSetRepairOptions,
        FromRc(::setsockopt(fd.get(), SOL_TCP, TCP_REPAIR_OPTIONS, opts.data(),
                            opts.size() * sizeof(opts[0]))));
  }
  Result<struct tcp_repair_window> GetRepairWindow(
      BorrowedFd fd) const override {
    return With(Op::kGetRepairWindow,
                GetTcp<struct tcp_repair_window>(fd, TCP_REPAIR_WINDOW));
  }
  Result<void> SetRepairWindow(
      BorrowedFd fd, const struct tcp_repair_window& window) const override {
    return With(Op::kSetRepairWindow, SetTcp(fd, TCP_REPAIR_WINDOW, window));
  }
  Result<uint32_t> GetTimestamp(BorrowedFd fd) const override {
    return With(Op::kGetTimestamp, GetTcp<uint32_t>(fd, TCP_TIMESTAMP));
  }
  Result<void> SetTimestamp(BorrowedFd fd, uint32_t ts) const override {
    return With(Op::kSetTimestamp, SetTcp(fd, TCP_TIMESTAMP, ts));
  }
  Result<struct tcp_info> GetTcpInfo(BorrowedFd fd) const override {
    return With(Op::kGetTcpInfo, GetTcp<struct tcp_info>(fd, TCP_INFO));
  }
  Result<int> GetInq(BorrowedFd fd) const override {
    return With(Op::kGetInq, Ioctl(fd, SIOCINQ));
  }
  Result<int> GetOutq(BorrowedFd fd) const override {
    return With(Op::kGetOutq, Ioctl(fd, SIOCOUTQ));
  }
  Result<int> GetOutqNotSent(BorrowedFd fd) const override {
    return With(Op::kGetOutqNotSent, Ioctl(fd, SIOCOUTQNSD));
  }
  Result<size_t> Peek(BorrowedFd fd, absl::Span<uint8_t> buf,
                      int flags) const override {
    Result<size_t> r;
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(),
                             MSG_PEEK | MSG_DONTWAIT | flags);
    if (n < 0) {
      r.err = errno;
    } else {
      r.value = static_cast<size_t>(n);
    }
    return With(Op::kPeek, r);
  }
  Result<size_t> Recv(BorrowedFd fd, absl::Span<uint8_t> buf) const override {
    Result<size_t> r;
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      r.err = errno;
    } else {
      r.value = static_cast<size_t>(n);
    }
    return With(Op::kRecv, r);
  }
  Result<size_t> Send(BorrowedFd fd, absl::Span<const uint8_t> data,
                      int flags) const override {
    Result<size_t> r;
    const ssize_t n = ::send(fd.get(), data.data(), data.size(),
                             MSG_DONTWAIT | MSG_NOSIGNAL | flags);
    if (n < 0) {
      r.err = errno;
    } else {
      r.value = static_cast<size_t>(n);
    }
    return With(Op::kSend, r);
  }
  Result<size_t> SendTo(BorrowedFd fd, absl::Span<const uint8_t> data,
                        const SocketAddress& dst) const override {
    Result<size_t> r;
    const ssize_t n =
        ::sendto(fd.get(), data.data(), data.size(),
                 MSG_DONTWAIT | MSG_NOSIGNAL, dst.sockaddr(), dst.length());
    if (n < 0) {
      r.err = errno;
    } else {
      r.value = static_cast<size_t>(n);
    }
    return With(Op::kSendTo, r);
  }
  Result<short> Poll(BorrowedFd fd, short events,
                     int timeout_ms) const override {
    struct pollfd p = {fd.get(), events, 0};
    Result<short> r;
    if (::poll(&p, 1, timeout_ms) < 0) {
      r.err = errno;
    } else {
      r.value = p.revents;
    }
    return With(Op::kPoll, r);
  }
  Result<int> GetFileFlags(BorrowedFd fd) const override {
    Result<int> r;
    r.value = ::fcntl(fd.get(), F_GETFL);
    if (r.value < 0) r.err = errno;
    return With(Op::kGetFileFlags, r);
  }
  Result<void> SetFileFlags(BorrowedFd fd, int flags) const override {
    return With(Op::kSetFileFlags, FromRc(::fcntl(fd.get(), F_SETFL, flags)));
  }
  Result<void> Bind(BorrowedFd fd, const SocketAddress& addr) const override {
    return With(Op::kBind,
                FromRc(::bind(fd.get(), addr.sockaddr(), addr.length())));
  }
  Result<void> Connect(BorrowedFd fd,
                       const SocketAddress& addr) const override {
    return With(Op::kConnect,
                FromRc(::connect(fd.get(), addr.sockaddr(), addr.length())));
  }
  Result<void> Listen(BorrowedFd fd, int backlog) const override {
    return With(Op::kListen, FromRc(::listen(fd.get(), backlog)));
  }
  Result<void> Shutdown(BorrowedFd fd, int how) const override {
    return With(Op::kShutdown, FromRc(::shutdown(fd.get(), how)));
  }
  Result<void> Disconnect(BorrowedFd fd) const override {
    struct sockaddr unspec = {};
    unspec.sa_family = AF_UNSPEC;
    return With(Op::kDisconnect,
                FromRc(::connect(fd.get(), &unspec, sizeof(unspec))));
  }
  Result<struct stat> Fstat(BorrowedFd fd) const override {
    Result<struct stat> r;
    if (::fstat(fd.get(), &r.value) != 0) r.err = errno;
    return With(Op::kFstat, r);
  }
  Result<OwnedFd> GetSocketNetns(BorrowedFd fd) const override {
    Result<OwnedFd> r;
    r.value.reset(::ioctl(fd.get(), SIOCGSKNS));
    if (!r.value) r.err = errno;
    return With(Op::kGetSocketNetns, std::move(r));
  }
  Result<void> EnterNetns(BorrowedFd ns) const override {
    return With(Op::kEnterNetns, FromRc(::setns(ns.get(), CLONE_NEWNET)));
  }
  Result<size_t> Writev(BorrowedFd fd,
                        absl::Span<const struct iovec> iov) const override {
    return With(Op::kWritev, FromSize(::writev(fd.get(), iov.data(),
                                               static_cast<int>(iov.size()))));
  }
  Result<size_t> SendMsg(BorrowedFd fd, absl::Span<const struct iovec> iov,
                         int flags) const override {
    struct msghdr msg = {};
    msg.msg_iov = const_cast<struct iovec*>(iov.data());
    msg.msg_iovlen = iov.size();
    return With(Op::kSendMsg,
                FromSize(::sendmsg(fd.get(), &msg, MSG_NOSIGNAL | flags)));
  }
  Result<size_t> Read(BorrowedFd fd, absl::Span<uint8_t> buf) const override {
    return With(Op::kRead, FromSize(::read(fd.get(), buf.data(), buf.size())));
  }
  Result<size_t> Write(BorrowedFd fd,
                       absl::Span<const uint8_t> data) const override {
    return With(Op::kWrite,
                FromSize(::write(fd.get(), data.data(), data.size())));
  }
  Result<void*> Mmap(BorrowedFd fd, size_t length, int prot,
                     int flags) const override {
    Result<void*> r;
    r.value = ::mmap(nullptr, length, prot, flags, fd.get(), 0);
    if (r.value == MAP_FAILED) {
      r.err = errno;
      r.value = nullptr;
    }
    return With(Op::kMmap, r);
  }
  Result<void> Munmap(void* addr, size_t length) const override {
    return With(Op::kMunmap, FromRc(::munmap(addr, length)));
  }
  Result<void> Madvise(void* addr, size_t length, int advice) const override {
    return With(Op::kMadvise, FromRc(::madvise(addr, length, advice)));
  }
  Result<int> GrowPipe(BorrowedFd fd, int bytes) const override {
    Result<int> r;
    r.value = ::fcntl(fd.get(), F_GETPIPE_SZ);
    if (r.value >= 0 && r.value < bytes) {
      r.value = ::fcntl(fd.get(), F_SETPIPE_SZ, bytes);
    }
    if (r.value < 0) {
      r.err = errno;
      r.value = 0;
    }
    return With(Op::kGrowPipe, r);
  }
  Result<OwnedFd> Open(const std::string& path, int flags) const override {
    Result<OwnedFd> r;
    r.value.reset(::open(path.c_str(), flags));
    if (!r.value) r.err = errno;
    return With(Op::kOpen, std::move(r));
  }
  Result<SocketAddress> GetSockName(BorrowedFd fd) const override {
    return With(Op::kGetSockName, Name(fd, /*peer=*/false));
  }
  Result<SocketAddress> GetPeerName(BorrowedFd fd) const override {
    return With(Op::kGetPeerName, Name(fd, /*peer=*/true));
  }
  Result<socklen_t> GetSockOpt(BorrowedFd fd, int level, int name,
                               absl::Span<uint8_t> buf) const override {
    Result<socklen_t> r;
    r.value = static_cast<socklen_t>(buf.size());
    if (::getsockopt(fd.get(), level, name, buf.data(), &r.value) < 0) {
      r.err = errno;
    }
    return With(Op::kGetSockOpt, r);
  }
  Result<void> SetSockOpt(BorrowedFd fd, int level, int name,
                          absl::Span<const uint8_t> value) const override {
    return With(Op::kSetSockOpt,
                FromRc(::setsockopt(fd.get(), level, name, value.data(),
                                    value.size())));
  }
};

}  // namespace

const Sys& LinuxSys() {
  static const LinuxSysImpl* const kSys = new LinuxSysImpl();
  return *kSys;
}

}  // namespace soccr::sys
