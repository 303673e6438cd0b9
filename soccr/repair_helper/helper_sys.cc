#include "soccr/repair_helper/helper_sys.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <utility>

#include "soccr/repair_helper/protocol.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

namespace soccr::repair_helper {

absl::StatusOr<std::unique_ptr<RepairHelperSys>> RepairHelperSys::Connect(
    const std::string& path, const sys::Sys& real) {
  absl::StatusOr<RepairHelperClient> client = RepairHelperClient::Connect(path);
  if (!client.ok()) return client.status();
  return std::make_unique<RepairHelperSys>(*std::move(client), real);
}

RepairHelperSys::RepairHelperSys(RepairHelperClient client,
                                 const sys::Sys& real)
    : InterceptingSys(real), real_(real), client_(std::move(client)) {}

uint64_t RepairHelperSys::round_trips() const {
  absl::MutexLock lock(&mu_);
  return client_.round_trips();
}

int RepairHelperSys::LocalCheck(BorrowedFd fd) const {
  // What setsockopt(SOL_TCP, TCP_REPAIR) would answer for these, so that
  // callers tell them apart as they do without the helper (PausedSocket
  // takes a listener's EPERM to mean "hold it as it is").
  const sys::Result<int> proto =
      real_.GetSockOptInt(fd, SOL_SOCKET, SO_PROTOCOL);
  if (!proto.ok()) return proto.err;  // ENOTSOCK, EBADF
  if (proto.value == IPPROTO_MPTCP) return EOPNOTSUPP;
  if (proto.value != IPPROTO_TCP) return ENOPROTOOPT;
  const sys::Result<int> listening =
      real_.GetSockOptInt(fd, SOL_SOCKET, SO_ACCEPTCONN);
  if (!listening.ok()) return listening.err;
  if (listening.value != 0) return EPERM;
  return 0;
}

sys::Result<void> RepairHelperSys::SetRepair(BorrowedFd fd,
                                             sys::RepairMode mode) const {
  return SetRepairEach(absl::MakeConstSpan(&fd, 1), mode)[0];
}

std::vector<sys::Result<void>> RepairHelperSys::SetRepairEach(
    absl::Span<const BorrowedFd> fds, sys::RepairMode mode) const {
  std::vector<sys::Result<void>> out(fds.size());
  std::vector<BorrowedFd> send;
  std::vector<size_t> index;
  send.reserve(fds.size());
  index.reserve(fds.size());
  for (size_t i = 0; i < fds.size(); ++i) {
    out[i].op = sys::Op::kSetRepair;
    out[i].err = LocalCheck(fds[i]);
    if (out[i].err == 0) {
      send.push_back(fds[i]);
      index.push_back(i);
    }
  }
  if (send.empty()) return out;
  std::vector<int> errs;
  {
    absl::MutexLock lock(&mu_);
    errs = client_.SetRepair(send, static_cast<int8_t>(mode));
  }
  for (size_t j = 0; j < index.size(); ++j) out[index[j]].err = errs[j];
  return out;
}

}  // namespace soccr::repair_helper
