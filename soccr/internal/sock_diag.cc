#include "soccr/internal/sock_diag.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace soccr::internal {
namespace {

// The address bytes inet_diag wants (network order, IPv4 in the first word).
void PutAddress(const SocketAddress& a, __be32 out[4]) {
  memset(out, 0, 4 * sizeof(__be32));
  if (a.family() == AF_INET) {
    out[0] = a.v4().sin_addr.s_addr;
  } else if (a.family() == AF_INET6) {
    memcpy(out, &a.v6().sin6_addr, 16);
  }
}

struct Reply {
  bool found = false;
  bool md5 = false;
};

int OnAttribute(const struct nlattr* attr, void* data) {
  Reply* reply = static_cast<Reply*>(data);
  if (mnl_attr_get_type(attr) == INET_DIAG_MD5SIG &&
      mnl_attr_get_payload_len(attr) > 0) {
    reply->md5 = true;
  }
  return MNL_CB_OK;
}

int OnMessage(const struct nlmsghdr* nlh, void* data) {
  Reply* reply = static_cast<Reply*>(data);
  reply->found = true;
  mnl_attr_parse(nlh, sizeof(struct inet_diag_msg), OnAttribute, reply);
  return MNL_CB_OK;
}

thread_local SockDiagSocket* thread_sock_diag = nullptr;

}  // namespace

struct mnl_socket* SockDiagSocket::Get(const char** call) {
  if (nl_ != nullptr) return nl_;
  nl_ = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
  if (nl_ == nullptr) {
    *call = "socket(NETLINK_SOCK_DIAG)";
    return nullptr;
  }
  if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) != 0) {
    const int err = errno;
    Close();
    errno = err;
    *call = "bind(NETLINK_SOCK_DIAG)";
    return nullptr;
  }
  // Replies are matched by sequence number: start where no earlier
  // socket's could be mistaken for ours.
  seq_ = static_cast<uint32_t>(time(nullptr));
  return nl_;
}

void SockDiagSocket::Close() {
  if (nl_ != nullptr) mnl_socket_close(nl_);
  nl_ = nullptr;
}

ScopedSockDiag::ScopedSockDiag(SockDiagSocket* s)
    : previous_(thread_sock_diag) {
  thread_sock_diag = s;
}

ScopedSockDiag::~ScopedSockDiag() { thread_sock_diag = previous_; }

absl::StatusOr<bool> HasMd5Keys(const sys::Sys& sys, BorrowedFd fd,
                                const SocketAddress& local,
                                const SocketAddress& peer,
                                const ErrorContext& ctx) {
  uint64_t cookie = 0;
  const sys::Result<socklen_t> c = sys.GetSockOpt(
      fd, SOL_SOCKET, SO_COOKIE,
      absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(&cookie), sizeof(cookie)));
  if (!c.ok()) return ctx.SysError("read the socket's cookie (SO_COOKIE)", c);
  // The thread's kept socket, or one for this question alone.
  SockDiagSocket own;
  SockDiagSocket& diag = thread_sock_diag != nullptr ? *thread_sock_diag : own;
  auto failed = [&](const char* call) {
    const int err = errno;
    diag.Close();  // a reply may be left queued on it
    return absl::ErrnoToStatus(
        err, absl::StrCat(ctx.prefix(), ": look for TCP-MD5 keys: ", call));
  };
  const char* open_call = "";
  struct mnl_socket* nl = diag.Get(&open_call);
  if (nl == nullptr) return failed(open_call);
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  const uint32_t seq = diag.NextSeq();
  nlh->nlmsg_seq = seq;
  auto* req = static_cast<struct inet_diag_req_v2*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(struct inet_diag_req_v2)));
  req->sdiag_family = static_cast<__u8>(local.family());
  req->sdiag_protocol = IPPROTO_TCP;
  req->idiag_states = ~0u;
  // The keys come with INET_DIAG_INFO's reply, to a caller with
  // CAP_NET_ADMIN (inet_sk_diag_fill calls tcp_diag_get_aux only then).
  req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
  req->id.idiag_sport = htons(local.port());
  req->id.idiag_dport = peer.empty() ? 0 : htons(peer.port());
  PutAddress(local, req->id.idiag_src);
  PutAddress(peer, req->id.idiag_dst);
  req->id.idiag_if = 0;
  req->id.idiag_cookie[0] = static_cast<__u32>(cookie);
  req->id.idiag_cookie[1] = static_cast<__u32>(cookie >> 32);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    return failed("sendto(SOCK_DIAG)");
  }
  Reply reply;
  const unsigned int portid = mnl_socket_get_portid(nl);
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed("recvfrom(SOCK_DIAG)");
    }
    const int r =
        mnl_cb_run(buf, static_cast<size_t>(n), seq, portid, OnMessage, &reply);
    if (r == MNL_CB_STOP) break;
    if (r < 0) {
      // No socket with this address and cookie in the lookup tables: a
      // closed connection (or one that just closed). Nothing signed leaves
      // it again. (The kernel's error reply was the whole answer: the
      // socket is clean for the next question.)
      if (errno == ENOENT || errno == ESTALE) return false;
      return failed("sock_diag reply");
    }
    if (reply.found) break;  // a request, not a dump: one message
  }
  return reply.md5;
}

}  // namespace soccr::internal
