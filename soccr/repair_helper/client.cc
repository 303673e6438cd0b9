#include "soccr/repair_helper/client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"
#include "soccr/repair_helper/protocol.h"

namespace soccr::repair_helper {
namespace {

// connect() to the unix socket `path`: the descriptor or an errno.
OwnedFd ConnectUnix(const std::string& path, int* err) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    *err = ENAMETOOLONG;
    return OwnedFd();
  }
  memcpy(addr.sun_path, path.data(), path.size());
  OwnedFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    *err = errno;
    return fd;
  }
  if (connect(fd.get(), reinterpret_cast<const struct sockaddr*>(&addr),
              sizeof(addr)) != 0) {
    *err = errno;
    return OwnedFd();
  }
  *err = 0;
  return fd;
}

int PollMs(absl::Duration d) {
  return static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 0, 1 << 30));
}

}  // namespace

absl::StatusOr<RepairHelperClient> RepairHelperClient::Connect(
    std::string path, absl::Duration timeout) {
  int err = 0;
  OwnedFd conn = ConnectUnix(path, &err);
  if (!conn) {
    return internal::ErrnoStatus(
        err, absl::StrCat("connect to the repair helper at ", path));
  }
  return RepairHelperClient(std::move(path), std::move(conn), timeout);
}

RepairHelperClient RepairHelperClient::ForPath(std::string path,
                                               absl::Duration timeout) {
  return RepairHelperClient(std::move(path), OwnedFd(), timeout);
}

RepairHelperClient RepairHelperClient::FromConnection(OwnedFd conn,
                                                      absl::Duration timeout) {
  return RepairHelperClient(std::string(), std::move(conn), timeout);
}

int RepairHelperClient::EnsureConnected() {
  if (conn_) {
    // A connection the helper closed meanwhile (idle timeout) reads as
    // readable; so would a helper that sent something unasked. Either way
    // it is no good for a request.
    struct pollfd p = {conn_.get(), POLLIN, 0};
    if (poll(&p, 1, 0) == 0) return 0;
    conn_.reset();
  }
  if (path_.empty()) return ENOTCONN;
  int err = 0;
  conn_ = ConnectUnix(path_, &err);
  return err;
}

int RepairHelperClient::RoundTrip(absl::Span<const BorrowedFd> fds,
                                  int8_t command) {
  if (const int err = EnsureConnected(); err != 0) return err;
  uint8_t byte = static_cast<uint8_t>(command);
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) uint8_t control[kControlBufferSize] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  for (size_t i = 0; i < fds.size(); ++i) {
    const int fd = fds[i].get();
    memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
  }
  ++round_trips_;
  if (sendmsg(conn_.get(), &msg, MSG_NOSIGNAL) != 1) {
    int err = errno;
    conn_.reset();
    // The helper closed the connection just before (its idle timeout):
    // nothing was asked yet, so ask once more on a new one.
    if ((err != EPIPE && err != ECONNRESET) || path_.empty()) return err;
    if ((err = EnsureConnected()) != 0) return err;
    if (sendmsg(conn_.get(), &msg, MSG_NOSIGNAL) != 1) {
      err = errno;
      conn_.reset();
      // A new connection closed before we asked anything: the helper
      // refused us on accepting it (CheckPeer), as it answers a refused
      // request.
      return err == EPIPE || err == ECONNRESET ? EPERM : err;
    }
  }
  struct pollfd p = {conn_.get(), POLLIN, 0};
  int r;
  do {
    r = poll(&p, 1, PollMs(timeout_));
  } while (r < 0 && errno == EINTR);
  if (r <= 0) {
    conn_.reset();
    return r == 0 ? ETIMEDOUT : errno;
  }
  uint8_t reply = 0;
  const ssize_t n = recv(conn_.get(), &reply, 1, MSG_DONTWAIT);
  if (n == 1 && reply == byte) return 0;
  // The helper answers a refusal or a failure by closing the connection,
  // which reads as EOF, or as a reset when it closed with our request still
  // unread (it refused us before reading).
  const int err = n < 0    ? (errno == ECONNRESET ? EPERM : errno)
                  : n == 0 ? EPERM
                           : EPROTO;
  conn_.reset();  // refused (closed), broken, or out of step
  return err;
}

std::vector<int> RepairHelperClient::SetRepair(absl::Span<const BorrowedFd> fds,
                                               int8_t command) {
  std::vector<int> errs(fds.size(), 0);
  for (size_t start = 0; start < fds.size(); start += kMaxFds) {
    const size_t n = std::min<size_t>(kMaxFds, fds.size() - start);
    const absl::Span<const BorrowedFd> batch = fds.subspan(start, n);
    int err = RoundTrip(batch, command);
    if (err == 0) continue;
    if (n == 1) {
      errs[start] = err;
      continue;
    }
    // Which ones? Ask again one by one (see the file comment).
    for (size_t i = 0; i < n; ++i) {
      errs[start + i] = RoundTrip(batch.subspan(i, 1), command);
    }
  }
  return errs;
}

}  // namespace soccr::repair_helper
