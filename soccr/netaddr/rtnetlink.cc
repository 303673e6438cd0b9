#include "soccr/netaddr/rtnetlink.h"

#include <errno.h>
#include <sys/socket.h>
#include <time.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"

namespace soccr::rtnetlink {
namespace {

struct Closer {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

}  // namespace

nlmsghdr* PutHeader(char* buf, uint16_t type, uint16_t flags) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  struct timespec ts = {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  nlh->nlmsg_seq = static_cast<uint32_t>(ts.tv_nsec);
  return nlh;
}

Outcome Request(nlmsghdr* nlh) {
  std::unique_ptr<mnl_socket, Closer> sock(
      mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
  if (!sock) return {errno, "netlink socket"};
  if (mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) != 0) {
    return {errno, "bind netlink socket"};
  }
  if (mnl_socket_sendto(sock.get(), nlh, nlh->nlmsg_len) < 0) {
    return {errno, "sendmsg"};
  }
  char buf[MNL_SOCKET_BUFFER_SIZE];
  const ssize_t n = mnl_socket_recvfrom(sock.get(), buf, sizeof(buf));
  if (n < 0) return {errno, "recv"};
  if (mnl_cb_run(buf, n, nlh->nlmsg_seq, mnl_socket_get_portid(sock.get()),
                 nullptr, nullptr) < 0) {
    return {errno, ""};
  }
  return {};
}

absl::Status ToStatus(const Outcome& outcome, absl::string_view what) {
  if (outcome.err == 0) return absl::OkStatus();
  return internal::ErrnoStatus(outcome.err,
                               *outcome.step == '\0'
                                   ? std::string(what)
                                   : absl::StrCat(what, ": ", outcome.step));
}

}  // namespace soccr::rtnetlink
