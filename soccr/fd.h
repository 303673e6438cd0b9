// soccr/fd.h: owned and borrowed file descriptors.
//
// `OwnedFd` is the only type in soccr's C++ API that closes a descriptor;
// `BorrowedFd` is a cheap, non-owning view for calls that only use one.
//
//   soccr::OwnedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
//   if (!fd) return absl::ErrnoToStatus(errno, "socket");
//   absl::Status s = DoSomething(fd.borrow());
//   int raw = fd.release();  // the caller now closes `raw`
//
// Neither type converts implicitly to `int`; `get()` is spelled out where a
// raw number must cross into the kernel or a C caller.

#ifndef SOCCR_FD_H_
#define SOCCR_FD_H_

namespace soccr {

// BorrowedFd is a non-owning view of a descriptor. It never closes anything;
// whoever handed it out must keep the descriptor open while it is used.
class BorrowedFd {
 public:
  constexpr BorrowedFd() = default;
  constexpr explicit BorrowedFd(int fd) : fd_(fd) {}

  constexpr int get() const { return fd_; }
  constexpr explicit operator bool() const { return fd_ >= 0; }

  friend constexpr bool operator==(BorrowedFd a, BorrowedFd b) {
    return a.fd_ == b.fd_;
  }
  friend constexpr bool operator!=(BorrowedFd a, BorrowedFd b) {
    return a.fd_ != b.fd_;
  }

 private:
  int fd_ = -1;
};

// OwnedFd owns a descriptor and closes it when destroyed. Move-only.
//
// close() is never retried on EINTR: on Linux the descriptor is released
// even when close() reports EINTR, and retrying could close a descriptor
// another thread has just been given.
class OwnedFd {
 public:
  constexpr OwnedFd() = default;
  // Takes ownership of `fd` (which may be -1: an empty OwnedFd).
  constexpr explicit OwnedFd(int fd) : fd_(fd) {}
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  ~OwnedFd() { reset(); }

  constexpr int get() const { return fd_; }
  constexpr BorrowedFd borrow() const { return BorrowedFd(fd_); }
  constexpr explicit operator bool() const { return fd_ >= 0; }

  // Gives up ownership without closing; the caller must close the result.
  [[nodiscard]] int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes the current descriptor (if any) and takes ownership of `fd`.
  // Preserves errno, so it is safe on error paths.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

}  // namespace soccr

#endif  // SOCCR_FD_H_
