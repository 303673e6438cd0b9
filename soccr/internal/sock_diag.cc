#include "soccr/internal/sock_diag.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"
#include "soccr/status_macros.h"

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

int OnAttribute(const struct nlattr* attr, void* data) {
  SockDiagAnswer* reply = static_cast<SockDiagAnswer*>(data);
  const uint16_t len = mnl_attr_get_payload_len(attr);
  switch (mnl_attr_get_type(attr)) {
    case INET_DIAG_MD5SIG:
      if (len > 0) reply->md5 = true;
      break;
    case INET_DIAG_INFO: {
      // tcp_get_info()'s answer, as getsockopt(TCP_INFO) gives it: a
      // kernel's struct may be shorter or longer than ours (fields are only
      // ever added at the end), and what it lacks reads as 0, as there.
      struct tcp_info info = {};
      memcpy(&info, mnl_attr_get_payload(attr),
             std::min<size_t>(len, sizeof(info)));
      reply->info = info;
      // Linux's struct tcp_info (linux/tcp.h) has tcpi_notsent_bytes at
      // byte 144 (Linux 4.6 on); the fields only ever grow at the end.
      constexpr size_t kNotsentOffset = 144;
      if (len >= kNotsentOffset + sizeof(uint32_t)) {
        uint32_t notsent = 0;
        memcpy(&notsent,
               static_cast<const char*>(mnl_attr_get_payload(attr)) +
                   kNotsentOffset,
               sizeof(notsent));
        reply->notsent = notsent;
      }
      break;
    }
    case INET_DIAG_TOS:
      if (len >= sizeof(uint8_t)) reply->tos = mnl_attr_get_u8(attr);
      break;
    case INET_DIAG_TCLASS:
      if (len >= sizeof(uint8_t)) reply->tclass = mnl_attr_get_u8(attr);
      break;
    case INET_DIAG_MARK:
      if (len >= sizeof(uint32_t)) {
        reply->mark = static_cast<int>(mnl_attr_get_u32(attr));
      }
      break;
    case INET_DIAG_CONG: {
      // A NUL-terminated name (nla_put_string); what getsockopt() gives is
      // the name without the NUL, which the option table keeps.
      const char* name = static_cast<const char*>(mnl_attr_get_payload(attr));
      reply->congestion = std::string(name, strnlen(name, len));
      break;
    }
    case INET_DIAG_SOCKOPT: {
      // struct inet_diag_sockopt: bitfields, laid out as the kernel's own
      // header declares them.
      struct inet_diag_sockopt o = {};
      if (len < sizeof(o)) break;
      memcpy(&o, mnl_attr_get_payload(attr), sizeof(o));
      reply->freebind = static_cast<int>(o.freebind);
      reply->transparent = static_cast<int>(o.transparent);
      break;
    }
    case INET_DIAG_SKMEMINFO: {
      // An array of u32 indexed by SK_MEMINFO_* (linux/sock_diag.h), which
      // grew at its end over the years: one too short for the two sizes is
      // left for getsockopt() to answer.
      uint32_t mem[SK_MEMINFO_VARS] = {};
      if (len < (SK_MEMINFO_SNDBUF + 1) * sizeof(uint32_t)) break;
      memcpy(mem, mnl_attr_get_payload(attr),
             std::min<size_t>(len, sizeof(mem)));
      reply->rcvbuf = mem[SK_MEMINFO_RCVBUF];
      reply->sndbuf = mem[SK_MEMINFO_SNDBUF];
      break;
    }
    default:
      break;
  }
  return MNL_CB_OK;
}

// What OnMessage fills in, and for which socket.
struct Reading {
  SockDiagAnswer* reply;
  // The SO_COOKIE asked about: the kernel's reply names the socket it
  // describes by it (inet_diag_msg_common_fill), the only check that the
  // answer is about this socket and not another's, whatever the sequence
  // number says.
  uint64_t cookie;
  // The reply was about another socket.
  bool other_socket = false;
};

int OnMessage(const struct nlmsghdr* nlh, void* data) {
  Reading* reading = static_cast<Reading*>(data);
  SockDiagAnswer* reply = reading->reply;
  // A reply too short for its header is no answer about the queues.
  if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct inet_diag_msg)) {
    const auto* msg =
        static_cast<const struct inet_diag_msg*>(mnl_nlmsg_get_payload(nlh));
    const uint64_t cookie =
        static_cast<uint64_t>(msg->id.idiag_cookie[0]) |
        (static_cast<uint64_t>(msg->id.idiag_cookie[1]) << 32);
    if (cookie != reading->cookie) {
      reading->other_socket = true;
      return MNL_CB_STOP;
    }
    // A listener's are its backlog and the backlog's length instead.
    if (msg->idiag_state != TCP_LISTEN) {
      reply->rqueue = msg->idiag_rqueue;
      reply->wqueue = msg->idiag_wqueue;
    }
  }
  reply->found = true;
  mnl_attr_parse(nlh, sizeof(struct inet_diag_msg), OnAttribute, reply);
  return MNL_CB_OK;
}

thread_local SockDiagSocket* thread_sock_diag = nullptr;

}  // namespace

sys::Result<BorrowedFd> SockDiagSocket::Get(const sys::Sys& sys) {
  if (fd_) return {fd_.borrow(), 0, sys::Op::kSocket};
  // Unbound: the kernel binds it to a port id of its own on the first send
  // (netlink_autobind), and a send without an address goes to the kernel.
  // So no bind() and no getsockname() to learn the port id: replies are
  // matched by sequence number, on a socket only this object uses, and
  // each answer by the SO_COOKIE it names (OnMessage).
  sys::Result<OwnedFd> fd = sys.Socket(
      AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);
  if (!fd.ok()) return {BorrowedFd(), fd.err, fd.op};
  fd_ = std::move(fd.value);
  // Start where no earlier socket's replies could be mistaken for ours.
  seq_ = static_cast<uint32_t>(time(nullptr));
  return {fd_.borrow(), 0, sys::Op::kSocket};
}

void SockDiagSocket::Close() { fd_.reset(); }

ScopedSockDiag::ScopedSockDiag(SockDiagSocket* s)
    : previous_(thread_sock_diag) {
  thread_sock_diag = s;
}

ScopedSockDiag::~ScopedSockDiag() { thread_sock_diag = previous_; }

sys::Result<uint64_t> ReadCookie(const sys::Sys& sys, BorrowedFd fd) {
  uint64_t cookie = 0;
  const sys::Result<socklen_t> r = sys.GetSockOpt(
      fd, SOL_SOCKET, SO_COOKIE,
      absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(&cookie), sizeof(cookie)));
  return {cookie, r.err, r.op};
}

absl::StatusOr<bool> HasMd5Keys(const sys::Sys& sys, BorrowedFd fd,
                                const SocketAddress& local,
                                const SocketAddress& peer,
                                const ErrorContext& ctx) {
  SOCCR_ASSIGN_OR_RETURN(const SockDiagAnswer a,
                         AskSockDiag(sys, fd, local, peer, ctx));
  return a.md5;
}

namespace {

// One question on `diag`'s netlink socket: the answer from the tables of
// the namespace it was made in.
absl::StatusOr<SockDiagAnswer> AskOn(const sys::Sys& sys, SockDiagSocket& diag,
                                     const SocketAddress& local,
                                     const SocketAddress& peer, uint64_t cookie,
                                     bool with_options,
                                     const ErrorContext& ctx) {
  auto failed = [&](int err, absl::string_view call) {
    diag.Close();  // a reply may be left queued on it
    return ErrnoStatus(
        err, absl::StrCat(ctx.prefix(),
                          ": ask sock_diag about the connection: ", call));
  };
  const sys::Result<BorrowedFd> nl = diag.Get(sys);
  if (!nl.ok()) return failed(nl.err, "socket(NETLINK_SOCK_DIAG)");
  // Room for the reply: inet_diag_msg, tcp_info and the other attributes
  // of INET_DIAG_INFO take under 1 KiB; each TCP-MD5 key adds 100 bytes.
  alignas(struct nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
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
  // The option values (SockDiagAnswer) come with the extensions asked for
  // beside it when `with_options`; the mark comes unasked.
  req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
  if (with_options) {
    req->idiag_ext |= static_cast<__u8>(
        (1 << (INET_DIAG_TOS - 1)) | (1 << (INET_DIAG_TCLASS - 1)) |
        (1 << (INET_DIAG_CONG - 1)) | (1 << (INET_DIAG_SKMEMINFO - 1)));
  }
  req->id.idiag_sport = htons(local.port());
  req->id.idiag_dport = peer.empty() ? 0 : htons(peer.port());
  PutAddress(local, req->id.idiag_src);
  PutAddress(peer, req->id.idiag_dst);
  req->id.idiag_if = 0;
  req->id.idiag_cookie[0] = static_cast<__u32>(cookie);
  req->id.idiag_cookie[1] = static_cast<__u32>(cookie >> 32);
  // The kernel answers a request (not a dump) inside the send: the reply,
  // or the error, is queued on the socket when send() returns
  // (netlink_unicast_kernel runs sock_diag's handler in the caller's
  // context), so the receive need not wait.
  sys::Result<size_t> sent;
  do {
    sent = sys.Send(nl.value,
                    absl::Span<const uint8_t>(
                        reinterpret_cast<const uint8_t*>(buf), nlh->nlmsg_len));
  } while (!sent.ok() && sent.err == EINTR);
  if (!sent.ok()) return failed(sent.err, "send(SOCK_DIAG)");
  SockDiagAnswer reply;
  for (;;) {
    const sys::Result<size_t> n = sys.Recv(
        nl.value,
        absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(buf), sizeof(buf)));
    if (!n.ok()) {
      if (n.err == EINTR) continue;
      return failed(n.err, "recv(SOCK_DIAG)");
    }
    // A reply longer than the buffer arrives cut short (recv() drops the
    // rest of a datagram): refuse to judge from part of it.
    const auto* first = reinterpret_cast<const struct nlmsghdr*>(buf);
    if (n.value >= sizeof(*first) && first->nlmsg_len > n.value) {
      return failed(ENOSPC, "recv(SOCK_DIAG): reply larger than the buffer");
    }
    Reading reading{&reply, cookie};
    const int r =
        mnl_cb_run(buf, n.value, seq, /*portid=*/0, OnMessage, &reading);
    if (reading.other_socket) {
      return failed(EBADMSG,
                    "sock_diag reply: it describes another socket (its "
                    "SO_COOKIE differs)");
    }
    if (r == MNL_CB_STOP) break;
    if (r < 0) {
      // No socket with this address and cookie in the lookup tables: a
      // closed connection (or one that just closed). Nothing signed leaves
      // it again. (The kernel's error reply was the whole answer: the
      // socket is clean for the next question.)
      if (errno == ENOENT || errno == ESTALE) return SockDiagAnswer();
      return failed(errno, "sock_diag reply");
    }
    if (reply.found) break;  // a request, not a dump: one message
  }
  return reply;
}

// The network namespace of `fd` when it is not that of `diag`'s netlink
// socket (the caller's, when it was made), or nullopt: the same one, or
// no way to tell on this kernel (before 4.9 it has no SIOCGSKNS: ENOTTY;
// ENOSYS from a Sys without it), where the answer stands as it was. A
// call that fails otherwise is an error if `required`, and leaves the
// answer as it was if not.
absl::StatusOr<std::optional<OwnedFd>> ForeignNetns(const sys::Sys& sys,
                                                    BorrowedFd fd,
                                                    SockDiagSocket& diag,
                                                    bool required,
                                                    const ErrorContext& ctx) {
  auto give_up =
      [&](const auto& failed) -> absl::StatusOr<std::optional<OwnedFd>> {
    if (!required || failed.err == ENOTTY || failed.err == ENOSYS) {
      return std::nullopt;
    }
    return ctx.SysError("find the socket's network namespace", failed);
  };
  sys::Result<OwnedFd> theirs = sys.GetSocketNetns(fd);
  if (!theirs.ok()) return give_up(theirs);
  const sys::Result<BorrowedFd> nl = diag.Get(sys);
  if (!nl.ok()) return give_up(nl);
  const sys::Result<OwnedFd> ours = sys.GetSocketNetns(nl.value);
  if (!ours.ok()) return give_up(ours);
  const sys::Result<struct stat> a = sys.Fstat(theirs.value.borrow());
  if (!a.ok()) return give_up(a);
  const sys::Result<struct stat> b = sys.Fstat(ours.value.borrow());
  if (!b.ok()) return give_up(b);
  // A namespace is one nsfs inode.
  if (a.value.st_dev == b.value.st_dev && a.value.st_ino == b.value.st_ino) {
    return std::nullopt;
  }
  return std::optional<OwnedFd>(std::move(theirs.value));
}

// Opens `out`'s netlink socket inside the network namespace `ns`: a thread
// of its own enters it, so that no thread of the caller's ever changes
// namespace (a netlink socket stays in the namespace it was made in). The
// call that failed, if one did.
sys::Result<void> OpenIn(const sys::Sys& sys, BorrowedFd ns,
                         SockDiagSocket& out) {
  struct Job {
    const sys::Sys& sys;
    BorrowedFd ns;
    SockDiagSocket& out;
    sys::Result<void> result;
  } job{sys, ns, out, {}};
  pthread_t thread;
  const int created = ::pthread_create(
      &thread, nullptr,
      [](void* arg) -> void* {
        Job& j = *static_cast<Job*>(arg);
        j.result = j.sys.EnterNetns(j.ns);
        if (!j.result.ok()) return nullptr;
        const sys::Result<BorrowedFd> opened = j.out.Get(j.sys);
        j.result = {opened.err, opened.op};
        return nullptr;
      },
      &job);
  // The thread's own failure, pthread_create's errno, is told as the
  // entry's: nothing was entered.
  if (created != 0) return {created, sys::Op::kEnterNetns};
  ::pthread_join(thread, nullptr);
  return job.result;
}

}  // namespace

absl::StatusOr<SockDiagAnswer> AskSockDiag(const sys::Sys& sys, BorrowedFd fd,
                                           const SocketAddress& local,
                                           const SocketAddress& peer,
                                           const ErrorContext& ctx,
                                           std::optional<uint64_t> known,
                                           bool required, bool with_options) {
  uint64_t cookie = known.value_or(0);
  if (!known.has_value()) {
    const sys::Result<uint64_t> c = ReadCookie(sys, fd);
    if (!c.ok()) return ctx.SysError("read the socket's cookie (SO_COOKIE)", c);
    cookie = c.value;
  }
  // The thread's kept socket, or one for this question alone.
  SockDiagSocket own;
  SockDiagSocket& diag = thread_sock_diag != nullptr ? *thread_sock_diag : own;
  SOCCR_ASSIGN_OR_RETURN(
      SockDiagAnswer answer,
      AskOn(sys, diag, local, peer, cookie, with_options, ctx));
  if (answer.found) return answer;
  // Not in the tables of the caller's namespace: perhaps in another's.
  SOCCR_ASSIGN_OR_RETURN(std::optional<OwnedFd> theirs,
                         ForeignNetns(sys, fd, diag, required, ctx));
  if (!theirs.has_value()) return answer;
  SockDiagSocket there;
  if (const sys::Result<void> opened = OpenIn(sys, theirs->borrow(), there);
      !opened.ok()) {
    if (!required) return answer;
    return ctx.SysError(
        "ask sock_diag about the connection: the socket is in another "
        "network namespace, and sock_diag answers for it only from inside "
        "that one (entering it needs CAP_SYS_ADMIN over it)",
        opened);
  }
  return AskOn(sys, there, local, peer, cookie, with_options, ctx);
}

}  // namespace soccr::internal
