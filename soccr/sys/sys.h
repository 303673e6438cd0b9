// soccr/sys/sys.h: the raw kernel interface soccr is built on.
//
// One method per kernel operation, each saying which call it makes. A method
// returns the call's value and errno and nothing else: no policy, no
// retries, no logging. Everything above this layer takes a `const Sys&`
// explicitly, so a test can pass a `FaultInjectingSys` that fails any chosen
// call with any errno.
//
//   const soccr::sys::Sys& sys = soccr::sys::LinuxSys();
//   soccr::sys::Result<uint32_t> seq = sys.GetQueueSeq(fd);
//   if (!seq.ok()) {
//     // seq.op is Op::kGetQueueSeq, seq.err the errno.
//   }
//
// Thread-safety: `LinuxSys()` is stateless and safe to share; a fake's
// thread-safety is its own business.

#ifndef SOCCR_SYS_SYS_H_
#define SOCCR_SYS_SYS_H_

#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "soccr/address.h"
#include "soccr/fd.h"

namespace soccr::sys {

// TCP_REPAIR's values.
enum class RepairMode : int {
  kOn = TCP_REPAIR_ON,
  kOff = TCP_REPAIR_OFF,
  // Off, without the window probe TCP_REPAIR_OFF sends (Linux 4.14+).
  kOffNoWindowProbe = TCP_REPAIR_OFF_NO_WP,
};

// TCP_REPAIR_QUEUE's values.
enum class RepairQueue : int {
  kNone = TCP_NO_QUEUE,
  kRecv = TCP_RECV_QUEUE,
  kSend = TCP_SEND_QUEUE,
};

// Names every kernel operation of `Sys`, for call logs and fault injection.
enum class Op : int {
  kSocket,
  kSetRepair,
  kSetRepairQueue,
  kGetQueueSeq,
  kSetQueueSeq,
  kSetRepairOptions,
  kGetRepairWindow,
  kSetRepairWindow,
  kGetTimestamp,
  kSetTimestamp,
  kGetTcpInfo,
  kGetInq,
  kGetOutq,
  kGetOutqNotSent,
  kPeek,
  kSend,
  kBind,
  kConnect,
  kListen,
  kShutdown,
  kGetSockName,
  kGetPeerName,
  kGetSockOpt,
  kSetSockOpt,
  kSendTo,
  kPoll,
  kGetFileFlags,
  kSetFileFlags,
  kDisconnect,
  kFstat,
  kWritev,
  kSendMsg,
  kRecv,
  kRead,
  kWrite,
  kMmap,
  kOpen,
  kMunmap,
  kGetSocketNetns,
  kEnterNetns,
  kMadvise,
  kGrowPipe,
};
inline constexpr int kNumOps = static_cast<int>(Op::kGrowPipe) + 1;

// The kernel call behind `op`, e.g. "setsockopt(TCP_REPAIR)".
absl::string_view OpName(Op op);

// Result<T> is a kernel call's outcome: `value` when `err` is 0, otherwise
// `err` holds errno and `value` is unspecified. `op` names the call either
// way, so that an error built from a Result (ErrorContext::SysError) always
// names the call that failed. Every Sys implementation sets it.
template <typename T>
struct [[nodiscard]] Result {
  T value{};
  int err = 0;
  Op op = Op::kSocket;
  bool ok() const { return err == 0; }
};

template <>
struct [[nodiscard]] Result<void> {
  int err = 0;
  Op op = Op::kSocket;
  bool ok() const { return err == 0; }
};

// The raw kernel interface. See the file comment.
class Sys {
 public:
  virtual ~Sys() = default;

  // socket(2).
  virtual Result<OwnedFd> Socket(int domain, int type, int protocol) const = 0;

  // setsockopt(SOL_TCP, TCP_REPAIR, mode).
  virtual Result<void> SetRepair(BorrowedFd fd, RepairMode mode) const = 0;
  // SetRepair(fds[i], mode) for each socket; result i is fds[i]'s. By
  // default one call each. A Sys that switches repair mode through another
  // process (soccr/repair_helper) hands the whole span over in a few
  // messages instead.
  virtual std::vector<Result<void>> SetRepairEach(
      absl::Span<const BorrowedFd> fds, RepairMode mode) const;
  // Whether SetRepairEach() costs much less than one SetRepair() per
  // socket, so that batch operations (soccr/batch.h) should switch a whole
  // batch at once rather than socket by socket on their threads.
  virtual bool BatchesRepair() const { return false; }
  // setsockopt(SOL_TCP, TCP_REPAIR_QUEUE, queue).
  virtual Result<void> SetRepairQueue(BorrowedFd fd,
                                      RepairQueue queue) const = 0;
  // getsockopt(SOL_TCP, TCP_QUEUE_SEQ): for the selected repair queue, the
  // sequence number after its last byte (rcv_nxt or write_seq).
  virtual Result<uint32_t> GetQueueSeq(BorrowedFd fd) const = 0;
  // setsockopt(SOL_TCP, TCP_QUEUE_SEQ): the selected queue's starting
  // sequence number (closed sockets only).
  virtual Result<void> SetQueueSeq(BorrowedFd fd, uint32_t seq) const = 0;
  // setsockopt(SOL_TCP, TCP_REPAIR_OPTIONS, opts).
  virtual Result<void> SetRepairOptions(
      BorrowedFd fd, absl::Span<const struct tcp_repair_opt> opts) const = 0;
  // getsockopt(SOL_TCP, TCP_REPAIR_WINDOW).
  virtual Result<struct tcp_repair_window> GetRepairWindow(
      BorrowedFd fd) const = 0;
  // setsockopt(SOL_TCP, TCP_REPAIR_WINDOW).
  virtual Result<void> SetRepairWindow(
      BorrowedFd fd, const struct tcp_repair_window& window) const = 0;
  // getsockopt(SOL_TCP, TCP_TIMESTAMP): the current timestamp value.
  virtual Result<uint32_t> GetTimestamp(BorrowedFd fd) const = 0;
  // setsockopt(SOL_TCP, TCP_TIMESTAMP): sets the timestamp offset so that
  // the current timestamp value becomes `ts` (repair mode only).
  virtual Result<void> SetTimestamp(BorrowedFd fd, uint32_t ts) const = 0;
  // getsockopt(SOL_TCP, TCP_INFO). Fields the kernel does not fill are 0.
  virtual Result<struct tcp_info> GetTcpInfo(BorrowedFd fd) const = 0;

  // ioctl(SIOCINQ): bytes in the receive queue.
  virtual Result<int> GetInq(BorrowedFd fd) const = 0;
  // ioctl(SIOCOUTQ): bytes in the send queue, sent-unacked and unsent.
  virtual Result<int> GetOutq(BorrowedFd fd) const = 0;
  // ioctl(SIOCOUTQNSD): bytes in the send queue not yet sent.
  virtual Result<int> GetOutqNotSent(BorrowedFd fd) const = 0;

  // recv(2) with MSG_PEEK | MSG_DONTWAIT | `flags`: copies from the queue
  // selected by TCP_REPAIR_QUEUE (or the receive queue) into `buf`.
  virtual Result<size_t> Peek(BorrowedFd fd, absl::Span<uint8_t> buf,
                              int flags = 0) const = 0;
  // send(2) with MSG_DONTWAIT | MSG_NOSIGNAL | `flags`. In repair mode it
  // writes into the queue selected by TCP_REPAIR_QUEUE.
  virtual Result<size_t> Send(BorrowedFd fd, absl::Span<const uint8_t> data,
                              int flags = 0) const = 0;

  // sendto(2) with MSG_DONTWAIT | MSG_NOSIGNAL: for raw sockets, which
  // inject a packet addressed to `dst`.
  virtual Result<size_t> SendTo(BorrowedFd fd, absl::Span<const uint8_t> data,
                                const SocketAddress& dst) const = 0;
  // recv(2) with MSG_DONTWAIT: for raw sockets, one captured packet.
  virtual Result<size_t> Recv(BorrowedFd fd, absl::Span<uint8_t> buf) const = 0;
  // poll(2) of `fd` alone for `events`, waiting up to `timeout_ms` (0: not
  // at all, -1: until an event): the revents, 0 on timeout.
  virtual Result<short> Poll(BorrowedFd fd, short events,
                             int timeout_ms) const = 0;
  // fcntl(F_GETFL), fcntl(F_SETFL): the file status flags (O_NONBLOCK).
  virtual Result<int> GetFileFlags(BorrowedFd fd) const = 0;
  virtual Result<void> SetFileFlags(BorrowedFd fd, int flags) const = 0;

  // bind(2), connect(2), listen(2), shutdown(2).
  virtual Result<void> Bind(BorrowedFd fd, const SocketAddress& addr) const = 0;
  virtual Result<void> Connect(BorrowedFd fd,
                               const SocketAddress& addr) const = 0;
  virtual Result<void> Listen(BorrowedFd fd, int backlog) const = 0;
  virtual Result<void> Shutdown(BorrowedFd fd, int how) const = 0;
  // connect(2) to an AF_UNSPEC address: dissolves the association. In
  // repair mode the kernel drops the connection without a packet to the
  // peer; on a listener it stops listening.
  virtual Result<void> Disconnect(BorrowedFd fd) const = 0;

  // fstat(2).
  virtual Result<struct stat> Fstat(BorrowedFd fd) const = 0;
  // ioctl(SIOCGSKNS): a descriptor of the network namespace the socket
  // belongs to (Linux 4.9+; CAP_NET_ADMIN over it). A Sys that does not
  // implement it fails with ENOSYS.
  virtual Result<OwnedFd> GetSocketNetns(BorrowedFd fd) const;
  // setns(2) of the calling thread into the network namespace `ns`
  // (CAP_SYS_ADMIN over it and in the caller's user namespace). ENOSYS
  // where not implemented.
  virtual Result<void> EnterNetns(BorrowedFd ns) const;
  // writev(2) of `iov` (at most IOV_MAX entries): the bytes written.
  virtual Result<size_t> Writev(BorrowedFd fd,
                                absl::Span<const struct iovec> iov) const = 0;
  // sendmsg(2) of `iov` (at most IOV_MAX entries) with MSG_NOSIGNAL |
  // `flags`: the bytes sent. Blocks as the descriptor does.
  virtual Result<size_t> SendMsg(BorrowedFd fd,
                                 absl::Span<const struct iovec> iov,
                                 int flags) const = 0;
  // read(2) into `buf`: the bytes read, 0 at end of file. Blocks as the
  // descriptor does.
  virtual Result<size_t> Read(BorrowedFd fd, absl::Span<uint8_t> buf) const = 0;
  // write(2) of `data`: the bytes written. Blocks as the descriptor does.
  virtual Result<size_t> Write(BorrowedFd fd,
                               absl::Span<const uint8_t> data) const = 0;
  // mmap(2) of the first `length` bytes of the file open on `fd`, with
  // `prot` and `flags` (MAP_PRIVATE, MAP_SHARED...), at an address the
  // kernel chooses: the mapping's address. The caller munmap()s it.
  virtual Result<void*> Mmap(BorrowedFd fd, size_t length, int prot,
                             int flags) const = 0;
  // munmap(2) of the `length` bytes at `addr` (a mapping Mmap() made).
  virtual Result<void> Munmap(void* addr, size_t length) const = 0;
  // madvise(2) of the `length` bytes at `addr` with `advice`
  // (MADV_SEQUENTIAL...). Advice only: a caller must work the same when it
  // fails, so a Sys that does not implement it fails with ENOSYS.
  virtual Result<void> Madvise(void* addr, size_t length, int advice) const;
  // fcntl(F_GETPIPE_SZ), then fcntl(F_SETPIPE_SZ) if that is below `bytes`:
  // the pipe behind `fd` made to hold at least `bytes`, never shrunk; the
  // size it has now (the kernel gives whole pages, a power of two of
  // them). For speed only, as Madvise: EBADF for a descriptor that is not a
  // pipe, EPERM above /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE;
  // ENOSYS from a Sys that does not implement it.
  virtual Result<int> GrowPipe(BorrowedFd fd, int bytes) const;
  // open(2) of `path` with `flags` (O_RDONLY | O_CLOEXEC...), no mode: not
  // for creating files. The new descriptor.
  virtual Result<OwnedFd> Open(const std::string& path, int flags) const = 0;
  // getsockname(2), getpeername(2). The address is empty (AF_UNSPEC) for a
  // family other than AF_INET/AF_INET6.
  virtual Result<SocketAddress> GetSockName(BorrowedFd fd) const = 0;
  virtual Result<SocketAddress> GetPeerName(BorrowedFd fd) const = 0;

  // getsockopt(2) into `buf`; the value is the length the kernel returned.
  virtual Result<socklen_t> GetSockOpt(BorrowedFd fd, int level, int name,
                                       absl::Span<uint8_t> buf) const = 0;
  // setsockopt(2).
  virtual Result<void> SetSockOpt(BorrowedFd fd, int level, int name,
                                  absl::Span<const uint8_t> value) const = 0;

  // Conveniences over GetSockOpt/SetSockOpt for `int` options.
  Result<int> GetSockOptInt(BorrowedFd fd, int level, int name) const;
  Result<void> SetSockOptInt(BorrowedFd fd, int level, int name,
                             int value) const;
};

// The real kernel. Stateless; lives forever.
const Sys& LinuxSys();

}  // namespace soccr::sys

#endif  // SOCCR_SYS_SYS_H_
