// soccr/internal/sock_diag.h: what the kernel tells about a TCP socket only
// through sock_diag (NETLINK_SOCK_DIAG, libmnl).
//
//   absl::StatusOr<bool> md5 = internal::HasMd5Keys(sys, fd, local, peer, ctx);
//
// TCP-MD5 keys cannot be read back with getsockopt(); sock_diag reports
// them (INET_DIAG_MD5SIG) to a caller with CAP_NET_ADMIN over the socket's
// network namespace, which checkpointing a connection needs anyway.

#ifndef SOCCR_INTERNAL_SOCK_DIAG_H_
#define SOCCR_INTERNAL_SOCK_DIAG_H_

#include <netinet/tcp.h>
#include <stdint.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "soccr/address.h"
#include "soccr/fd.h"
#include "soccr/internal/error_context.h"
#include "soccr/sys/sys.h"

namespace soccr::internal {

// Whether the socket `fd` (bound to `local`, connected to `peer`, which may
// be empty for a listener) has TCP-MD5 keys. Asks sock_diag for exactly this
// socket (its SO_COOKIE; the netlink socket, send and recv all through
// `sys`, so that CountingSys counts them). False when sock_diag finds no
// such socket (a closed connection is in no lookup table: it sends nothing
// signed again). Errors name the netlink call and errno. A socket of
// another network namespace is looked for there (AskSockDiag).
//
// Where the calling thread has a SockDiagSocket in scope (ScopedSockDiag:
// the batch calls give each of their threads one), it asks through that,
// send and recv only; otherwise it opens and closes a netlink socket of
// its own each time.
[[nodiscard]] absl::StatusOr<bool> HasMd5Keys(const sys::Sys& sys,
                                              BorrowedFd fd,
                                              const SocketAddress& local,
                                              const SocketAddress& peer,
                                              const ErrorContext& ctx);

// What sock_diag says of one TCP socket.
struct SockDiagAnswer {
  // False when no socket with these addresses and this cookie is in the
  // lookup tables (a closed connection); then nothing else is known.
  bool found = false;
  // TCP-MD5 keys (INET_DIAG_MD5SIG, shown to CAP_NET_ADMIN only).
  bool md5 = false;
  // The socket's tcp_info (INET_DIAG_INFO), exactly what
  // getsockopt(TCP_INFO) reads: tcp_diag_get_info calls the same
  // tcp_get_info().
  std::optional<struct tcp_info> info;
  // tcp_info's tcpi_notsent_bytes (write_seq - snd_nxt, as SIOCOUTQNSD),
  // past the end of the libc's struct tcp_info; nullopt when the kernel's
  // struct ends before it.
  std::optional<uint32_t> notsent;
  // inet_diag_msg's queue lengths, for a socket not listening:
  // rcv_nxt - copied_seq (the peer's FIN while unread and an urgent byte
  // count in it, unlike SIOCINQ) and write_seq - snd_una (as SIOCOUTQ).
  std::optional<uint32_t> rqueue, wqueue;

  // Socket option values the same answer carries (each absent when the
  // kernel left its attribute out), the same fields getsockopt() reads, so
  // that the checkpoint's option table need not read them again:
  // - INET_DIAG_TOS: inet->tos, as getsockopt(IP_TOS);
  // - INET_DIAG_TCLASS (IPv6 sockets): the traffic class, as IPV6_TCLASS;
  // (INET_DIAG_SKV6ONLY comes for listeners and closed sockets only, which
  // are not asked about.)
  // - INET_DIAG_MARK (to CAP_NET_ADMIN only): sk_mark, as SO_MARK;
  // - INET_DIAG_CONG: the congestion control's name, as TCP_CONGESTION;
  // - INET_DIAG_SKMEMINFO: sk_sndbuf and sk_rcvbuf, as SO_SNDBUF and
  //   SO_RCVBUF;
  // - INET_DIAG_SOCKOPT (Linux 5.10 on, sent unasked): the inet socket's
  //   freebind and transparent bits, which IP_FREEBIND and IPV6_FREEBIND,
  //   IP_TRANSPARENT and IPV6_TRANSPARENT all read (one bit each, whatever
  //   the family).
  std::optional<int> tos, tclass, mark, freebind, transparent;
  std::optional<std::string> congestion;
  std::optional<uint32_t> sndbuf, rcvbuf;
};

// getsockopt(SO_COOKIE): the number that names the socket for its life.
sys::Result<uint64_t> ReadCookie(const sys::Sys& sys, BorrowedFd fd);

// HasMd5Keys's question, with all of the answer: the same calls. `cookie`:
// the socket's SO_COOKIE read earlier (it names the socket for its whole
// life), so as not to read it again; nullopt reads it.
//
// sock_diag answers from the tables of the network namespace its netlink
// socket was made in, the caller's. A socket of another namespace (a
// descriptor passed from a process there) is not in them: when the first
// answer is "not found", the socket's namespace (SIOCGSKNS) is compared
// with the netlink socket's, and if they differ the question is asked
// again on a netlink socket made there, by a short-lived thread that
// enters it (setns, CAP_SYS_ADMIN over it). When that is refused the
// answer is an error if `required` (the TCP-MD5 check cannot be made),
// and "not found" otherwise.
//
// `with_options`: also ask for the socket option values SockDiagAnswer
// lists (INET_DIAG_TOS, _TCLASS, _CONG, _SKMEMINFO), for a checkpoint
// that saves socket options; one that does not (the C API's) leaves the
// kernel that work.
[[nodiscard]] absl::StatusOr<SockDiagAnswer> AskSockDiag(
    const sys::Sys& sys, BorrowedFd fd, const SocketAddress& local,
    const SocketAddress& peer, const ErrorContext& ctx,
    std::optional<uint64_t> cookie = std::nullopt, bool required = true,
    bool with_options = false);

// A sock_diag netlink socket kept for many questions, opened on the first
// and closed with the object. One thread at a time. Nonblocking: the
// kernel queues its reply inside the send (AskOn), so a receive that finds
// nothing is an error, never a wait.
class SockDiagSocket {
 public:
  SockDiagSocket() = default;
  SockDiagSocket(const SockDiagSocket&) = delete;
  SockDiagSocket& operator=(const SockDiagSocket&) = delete;
  ~SockDiagSocket() { Close(); }

  // The open socket, opened through `sys` if needed (socket() alone: no
  // bind), or the failed call's errno.
  sys::Result<BorrowedFd> Get(const sys::Sys& sys);
  // After a failed question: a reply may still be queued, so the next one
  // starts on a new socket.
  void Close();
  [[nodiscard]] bool is_open() const { return static_cast<bool>(fd_); }
  uint32_t NextSeq() { return ++seq_; }

 private:
  OwnedFd fd_;
  uint32_t seq_ = 0;
};

// Makes `s` the calling thread's SockDiagSocket while it lives.
class ScopedSockDiag {
 public:
  explicit ScopedSockDiag(SockDiagSocket* s);
  ScopedSockDiag(const ScopedSockDiag&) = delete;
  ScopedSockDiag& operator=(const ScopedSockDiag&) = delete;
  ~ScopedSockDiag();

 private:
  SockDiagSocket* previous_;
};

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_SOCK_DIAG_H_
