#include "soccr/netlock/nft_socket.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"

namespace soccr::netlock {
namespace {

// What we ask for as a send buffer. The kernel caps SO_SNDBUF at
// net.core.wmem_max (and doubles it); a process without CAP_NET_ADMIN in
// the initial user namespace cannot go past that (SO_SNDBUFFORCE).
constexpr int kWantedSndbuf = 16 << 20;

// netlink_sendmsg() refuses a message longer than sk_sndbuf - 32.
constexpr size_t kSendmsgSlack = 32;

uint32_t InitialSeq() {
  struct timespec ts = {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint32_t>(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

}  // namespace

absl::Status NetlinkError(int err, absl::string_view what) {
  std::string hint;
  switch (err) {
    case EPERM:
      hint =
          " (needs CAP_NET_ADMIN over this network namespace: run as root, "
          "or in a user namespace that owns it)";
      break;
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
      hint = " (this kernel has no nf_tables)";
      break;
    case EMSGSIZE:
      hint = " (a batch larger than the netlink socket's send buffer)";
      break;
    default:
      break;
  }
  return absl::Status(internal::StatusCodeForErrno(err),
                      absl::StrCat(what, ": ", ::strerror(err), hint));
}

std::string NftMessage(uint16_t type, uint16_t family, uint16_t flags,
                       const std::function<void(nlmsghdr*)>& build,
                       size_t room) {
  std::string buf(MNL_NLMSG_HDRLEN + sizeof(nfgenmsg) + room, '\0');
  nlmsghdr* nlh =
      nftnl_nlmsg_build_hdr(&buf[0], type, family, flags | NLM_F_ACK, 0);
  build(nlh);
  buf.resize(NLMSG_ALIGN(nlh->nlmsg_len));
  return buf;
}

size_t NftBatchOverhead() {
  char buf[2 * MNL_NLMSG_HDRLEN + 64];
  const nlmsghdr* begin = nftnl_batch_begin(buf, 0);
  return 2 * NLMSG_ALIGN(begin->nlmsg_len);
}

NftBatch::NftBatch() {
  first_seq_ = InitialSeq();
  next_seq_ = first_seq_;
  char marker[MNL_NLMSG_HDRLEN + 64];
  const nlmsghdr* begin = nftnl_batch_begin(marker, next_seq_++);
  buf_.assign(marker, NLMSG_ALIGN(begin->nlmsg_len));
}

void NftBatch::Append(absl::string_view message, std::string what) {
  const size_t at = buf_.size();
  buf_.append(message.data(), message.size());
  auto* nlh = reinterpret_cast<nlmsghdr*>(&buf_[at]);
  nlh->nlmsg_seq = next_seq_++;
  nlh->nlmsg_flags |= NLM_F_ACK;
  descriptions_.push_back(std::move(what));
}

void NftBatch::Seal() {
  if (sealed_) return;
  char marker[MNL_NLMSG_HDRLEN + 64];
  const nlmsghdr* end = nftnl_batch_end(marker, next_seq_++);
  buf_.append(marker, NLMSG_ALIGN(end->nlmsg_len));
  sealed_ = true;
}

const std::string& NftBatch::description(uint32_t seq) const {
  static const std::string* const kBatch = new std::string("batch");
  const uint32_t i = seq - first_seq_ - 1;
  if (seq <= first_seq_ || i >= descriptions_.size()) return *kBatch;
  return descriptions_[i];
}

void NftSocket::Closer::operator()(mnl_socket* s) const { mnl_socket_close(s); }

NftSocket::~NftSocket() = default;

absl::StatusOr<NftSocket> NftSocket::Open() {
  mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (s == nullptr) {
    return NetlinkError(errno, "socket(AF_NETLINK, NETLINK_NETFILTER)");
  }
  NftSocket sock(s, 0);
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) != 0) {
    return NetlinkError(errno, "bind netlink socket");
  }
  const int fd = mnl_socket_get_fd(s);
  // Answers carry only the header of the message they answer: an error on
  // a message of 60 KiB of set elements must not echo them (the receive
  // buffer would overflow and the error be lost).
  const int one = 1;
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  int sndbuf = kWantedSndbuf;
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  socklen_t len = sizeof(sndbuf);
  if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) != 0) {
    return NetlinkError(errno, "getsockopt(SO_SNDBUF) on the netlink socket");
  }
  // Leave room for the kernel's own accounting as well as its slack.
  sock.max_batch_ = static_cast<size_t>(sndbuf) > 4096 + kSendmsgSlack
                        ? static_cast<size_t>(sndbuf) - 4096 - kSendmsgSlack
                        : static_cast<size_t>(sndbuf) / 2;
  return sock;
}

absl::Status NftSocket::Commit(const NftBatch& batch, absl::string_view what) {
  const absl::string_view bytes = batch.bytes();
  if (mnl_socket_sendto(sock_.get(), bytes.data(), bytes.size()) < 0) {
    return NetlinkError(errno, absl::StrCat(what, ": sendmsg of a ",
                                            bytes.size(), "-byte batch"));
  }
  // Every answer is queued already (see the file comment): read until the
  // queue is empty, and report the first error.
  const int fd = mnl_socket_get_fd(sock_.get());
  std::string buf(MNL_SOCKET_BUFFER_SIZE * 4, '\0');
  absl::Status first_error;
  size_t acks = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, &buf[0], buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (first_error.ok()) {
        first_error = NetlinkError(errno, absl::StrCat(what, ": recv"));
      }
      break;
    }
    int remaining = static_cast<int>(n);
    for (const nlmsghdr* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
         mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
      if (nlh->nlmsg_type != NLMSG_ERROR) continue;
      ++acks;
      const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (e->error != 0 && first_error.ok()) {
        first_error = NetlinkError(
            -e->error,
            absl::StrCat(what, ": ", batch.description(nlh->nlmsg_seq)));
      }
    }
  }
  if (!first_error.ok()) return first_error;
  if (acks < batch.messages()) {
    return absl::InternalError(absl::StrCat(what, ": the kernel answered ",
                                            acks, " of ", batch.messages(),
                                            " messages"));
  }
  return absl::OkStatus();
}

absl::Status NftSocket::Request(
    uint16_t type, uint16_t family, uint16_t flags,
    const std::function<void(nlmsghdr*)>& build,
    const std::function<void(const nlmsghdr*)>& on_message,
    absl::string_view what) {
  std::string buf(MNL_SOCKET_BUFFER_SIZE, '\0');
  const uint32_t seq = InitialSeq() + (++seq_ << 20);
  // A dump ends with NLMSG_DONE; a single answer with the ACK asked for.
  const uint16_t ack = (flags & NLM_F_DUMP) != 0 ? 0 : NLM_F_ACK;
  nlmsghdr* nlh =
      nftnl_nlmsg_build_hdr(&buf[0], type, family, flags | ack, seq);
  build(nlh);
  if (mnl_socket_sendto(sock_.get(), nlh, nlh->nlmsg_len) < 0) {
    return NetlinkError(errno, absl::StrCat(what, ": sendmsg"));
  }
  const uint32_t portid = mnl_socket_get_portid(sock_.get());
  struct Ctx {
    const std::function<void(const nlmsghdr*)>* on_message;
  } ctx{&on_message};
  auto cb = [](const nlmsghdr* m, void* data) -> int {
    (*static_cast<Ctx*>(data)->on_message)(m);
    return MNL_CB_OK;
  };
  std::string rbuf(MNL_SOCKET_BUFFER_SIZE * 4, '\0');
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(sock_.get(), &rbuf[0], rbuf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return NetlinkError(errno, absl::StrCat(what, ": recv"));
    }
    const int r = mnl_cb_run(rbuf.data(), n, seq, portid, cb, &ctx);
    if (r < 0) return NetlinkError(errno, what);
    if (r == MNL_CB_STOP) return absl::OkStatus();
  }
}

}  // namespace soccr::netlock
