#include "soccr/unix/unix_diag.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <time.h>

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"

namespace soccr::unix_internal {
namespace {

struct MnlCloser {
  void operator()(struct mnl_socket* nl) const { mnl_socket_close(nl); }
};

struct Reply {
  bool found = false;
  uint64_t inode = 0;
  UnixDiag diag;
};

int OnAttribute(const struct nlattr* attr, void* data) {
  UnixDiag* d = static_cast<UnixDiag*>(data);
  const size_t len = mnl_attr_get_payload_len(attr);
  // Each attribute is read only when it is as long as the kernel's uapi
  // says: a short one is ignored rather than read past its end.
  switch (mnl_attr_get_type(attr)) {
    case UNIX_DIAG_PEER:
      if (len >= sizeof(uint32_t)) d->peer_inode = mnl_attr_get_u32(attr);
      break;
    case UNIX_DIAG_SHUTDOWN:
      if (len >= sizeof(uint8_t)) d->shutdown = mnl_attr_get_u8(attr);
      break;
    case UNIX_DIAG_RQLEN:
      if (len >= sizeof(struct unix_diag_rqlen)) {
        const auto* q = static_cast<const struct unix_diag_rqlen*>(
            mnl_attr_get_payload(attr));
        d->rqueue = q->udiag_rqueue;
        d->wqueue = q->udiag_wqueue;
      }
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

int OnMessage(const struct nlmsghdr* nlh, void* data) {
  Reply* reply = static_cast<Reply*>(data);
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct unix_diag_msg)) {
    return MNL_CB_OK;
  }
  const auto* msg =
      static_cast<const struct unix_diag_msg*>(mnl_nlmsg_get_payload(nlh));
  if (msg->udiag_ino != reply->inode) return MNL_CB_OK;
  reply->found = true;
  reply->diag.type = msg->udiag_type;
  reply->diag.state = msg->udiag_state;
  mnl_attr_parse(nlh, sizeof(struct unix_diag_msg), OnAttribute, &reply->diag);
  return MNL_CB_OK;
}

absl::Status NetlinkError(int err, const char* call) {
  return internal::ErrnoStatus(err, absl::StrCat("sock_diag: ", call));
}

}  // namespace

absl::StatusOr<UnixDiag> QueryUnixDiag(uint64_t inode, uint64_t cookie) {
  // unix_diag_req carries a 32-bit inode: sockfs inode numbers fit it.
  if (inode > UINT32_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("sock_diag: inode ", inode, " does not fit 32 bits"));
  }
  std::unique_ptr<struct mnl_socket, MnlCloser> nl(
      mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC));
  if (nl == nullptr) return NetlinkError(errno, "socket(NETLINK_SOCK_DIAG)");
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) != 0) {
    return NetlinkError(errno, "bind(NETLINK_SOCK_DIAG)");
  }
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  struct nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  const uint32_t seq = static_cast<uint32_t>(time(nullptr));
  nlh->nlmsg_seq = seq;
  auto* req = static_cast<struct unix_diag_req*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(struct unix_diag_req)));
  req->sdiag_family = AF_UNIX;
  req->sdiag_protocol = 0;
  req->udiag_states = ~0u;
  req->udiag_ino = static_cast<uint32_t>(inode);
  req->udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
  req->udiag_cookie[0] = static_cast<uint32_t>(cookie);
  req->udiag_cookie[1] = static_cast<uint32_t>(cookie >> 32);
  if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0) {
    return NetlinkError(errno, "sendto(SOCK_DIAG_BY_FAMILY)");
  }
  Reply reply;
  reply.inode = inode;
  const unsigned int portid = mnl_socket_get_portid(nl.get());
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return NetlinkError(errno, "recvfrom(SOCK_DIAG_BY_FAMILY)");
    }
    const int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid,
                             OnMessage, &reply);
    if (reply.found) break;  // a request, not a dump: one message
    if (r == MNL_CB_STOP) break;
    if (r < 0) {
      if (errno == ENOENT) {
        return absl::NotFoundError(
            absl::StrCat("sock_diag: no unix socket with inode ", inode,
                         " in this network namespace"));
      }
      return NetlinkError(errno, "reply");
    }
  }
  if (!reply.found) {
    return absl::NotFoundError(absl::StrCat(
        "sock_diag: no unix socket with inode ", inode, " in the reply"));
  }
  return reply.diag;
}

}  // namespace soccr::unix_internal
