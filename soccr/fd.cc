#include "soccr/fd.h"

#include <errno.h>
#include <unistd.h>

namespace soccr {

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

void OwnedFd::reset(int fd) {
  if (fd_ >= 0 && fd_ != fd) {
    const int saved_errno = errno;
    ::close(fd_);  // Never retried: see the class comment.
    errno = saved_errno;
  }
  fd_ = fd;
}

}  // namespace soccr
