// soccr/sys/intercepting_sys.h: a Sys that hands every call to a hook
// before forwarding it to another Sys, the base of the test and benchmark
// decorators (FaultInjectingSys, CountingSys).
//
//   class LoggingSys final : public soccr::sys::InterceptingSys {
//     int Intercept(Op op, int /*level*/, int /*name*/) const override {
//       fprintf(stderr, "%s\n", std::string(OpName(op)).c_str());
//       return 0;  // make the call
//     }
//   };

#ifndef SOCCR_SYS_INTERCEPTING_SYS_H_
#define SOCCR_SYS_INTERCEPTING_SYS_H_

#include <string>

#include "soccr/sys/sys.h"

namespace soccr::sys {

class InterceptingSys : public Sys {
 public:
  // `real` must outlive this object.
  explicit InterceptingSys(const Sys& real) : real_(real) {}
  InterceptingSys(const InterceptingSys&) = delete;
  InterceptingSys& operator=(const InterceptingSys&) = delete;

  Result<OwnedFd> Socket(int domain, int type, int protocol) const override;
  Result<void> SetRepair(BorrowedFd fd, RepairMode mode) const override;
  Result<void> SetRepairQueue(BorrowedFd fd, RepairQueue queue) const override;
  Result<uint32_t> GetQueueSeq(BorrowedFd fd) const override;
  Result<void> SetQueueSeq(BorrowedFd fd, uint32_t seq) const override;
  Result<void> SetRepairOptions(
      BorrowedFd fd,
      absl::Span<const struct tcp_repair_opt> opts) const override;
  Result<struct tcp_repair_window> GetRepairWindow(
      BorrowedFd fd) const override;
  Result<void> SetRepairWindow(
      BorrowedFd fd, const struct tcp_repair_window& window) const override;
  Result<uint32_t> GetTimestamp(BorrowedFd fd) const override;
  Result<void> SetTimestamp(BorrowedFd fd, uint32_t ts) const override;
  Result<struct tcp_info> GetTcpInfo(BorrowedFd fd) const override;
  Result<int> GetInq(BorrowedFd fd) const override;
  Result<int> GetOutq(BorrowedFd fd) const override;
  Result<int> GetOutqNotSent(BorrowedFd fd) const override;
  Result<size_t> Recv(BorrowedFd fd, absl::Span<uint8_t> buf) const override;
  Result<size_t> Peek(BorrowedFd fd, absl::Span<uint8_t> buf,
                      int flags) const override;
  Result<size_t> Send(BorrowedFd fd, absl::Span<const uint8_t> data,
                      int flags) const override;
  Result<size_t> SendTo(BorrowedFd fd, absl::Span<const uint8_t> data,
                        const SocketAddress& dst) const override;
  Result<short> Poll(BorrowedFd fd, short events,
                     int timeout_ms) const override;
  Result<int> GetFileFlags(BorrowedFd fd) const override;
  Result<void> SetFileFlags(BorrowedFd fd, int flags) const override;
  Result<void> Bind(BorrowedFd fd, const SocketAddress& addr) const override;
  Result<void> Connect(BorrowedFd fd, const SocketAddress& addr) const override;
  Result<void> Listen(BorrowedFd fd, int backlog) const override;
  Result<void> Shutdown(BorrowedFd fd, int how) const override;
  Result<void> Disconnect(BorrowedFd fd) const override;
  Result<struct stat> Fstat(BorrowedFd fd) const override;
  Result<OwnedFd> GetSocketNetns(BorrowedFd fd) const override;
  Result<void> EnterNetns(BorrowedFd ns) const override;
  Result<size_t> Writev(BorrowedFd fd,
                        absl::Span<const struct iovec> iov) const override;
  Result<size_t> SendMsg(BorrowedFd fd, absl::Span<const struct iovec> iov,
                         int flags) const override;
  Result<size_t> Read(BorrowedFd fd, absl::Span<uint8_t> buf) const override;
  Result<size_t> Write(BorrowedFd fd,
                       absl::Span<const uint8_t> data) const override;
  Result<void*> Mmap(BorrowedFd fd, size_t length, int prot,
                     int flags) const override;
  Result<void> Munmap(void* addr, size_t length) const override;
  Result<void> Madvise(void* addr, size_t length, int advice) const override;
  Result<int> GrowPipe(BorrowedFd fd, int bytes) const override;
  Result<OwnedFd> Open(const std::string& path, int flags) const override;
  Result<SocketAddress> GetSockName(BorrowedFd fd) const override;
  Result<SocketAddress> GetPeerName(BorrowedFd fd) const override;
  Result<socklen_t> GetSockOpt(BorrowedFd fd, int level, int name,
                               absl::Span<uint8_t> buf) const override;
  Result<void> SetSockOpt(BorrowedFd fd, int level, int name,
                          absl::Span<const uint8_t> value) const override;

 protected:
  // Called before every call (`level` and `name` set for Get/SetSockOpt).
  // Returns 0 to make the call, or an errno to fail it with instead.
  virtual int Intercept(Op op, int level, int name) const = 0;

 private:
  // Makes `call` (of `op`) unless Intercept() fails it.
  template <typename T, typename Call>
  Result<T> Forward(Op op, Call call) const {
    return Forward<T>(op, 0, 0, call);
  }
  template <typename T, typename Call>
  Result<T> Forward(Op op, int level, int name, Call call) const {
    if (const int err = Intercept(op, level, name); err != 0) {
      Result<T> failed;
      failed.err = err;
      failed.op = op;
      return failed;
    }
    return call();
  }

  const Sys& real_;
};

}  // namespace soccr::sys

#endif  // SOCCR_SYS_INTERCEPTING_SYS_H_
