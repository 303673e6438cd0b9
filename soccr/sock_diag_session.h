// soccr/sock_diag_session.h: a netlink socket kept across checkpoints.
//
//   soccr::SockDiagSession diag;
//   soccr::CheckpointOptions options;
//   options.sock_diag = &diag;
//   for (const soccr::PausedSocket& paused : sockets) {
//     absl::StatusOr<soccr::ConnectionState> state =
//         soccr::Checkpoint(paused, options);
//     // ... the first checkpoint opened the netlink socket, the rest reuse it
//   }
//
// Every checkpoint of a connection asks sock_diag (NETLINK_SOCK_DIAG) about
// it: TCP-MD5 keys are visible nowhere else, and the same answer carries
// tcp_info and the queue lengths. Without a session each checkpoint opens a
// netlink socket for its one question and closes it again, which costs more
// than the question: on the machine of bench/README.md, socket() and
// close() of a netlink socket take 5-6 µs, the question on an open one
// 3.3 µs, an idle checkpoint's other kernel calls 3.6 µs. A caller that
// checkpoints connections one after another (a server handing them over
// one at a time, a tool walking a process's sockets) keeps one session and
// pays for the netlink socket once. The batch calls (soccr/batch.h) keep
// one per thread by themselves.
//
// The session owns its netlink socket; nothing else can reach it. It is
// opened by the first checkpoint that uses the session, in the calling
// thread's network namespace (a socket of another namespace is asked about
// there all the same, as without a session), and closed with the session,
// or after a question that failed (a reply may be left on it).
//
// One checkpoint at a time uses it: a checkpoint on another thread that
// finds it in use asks on a netlink socket of its own, as without a
// session. After fork() the child's copy opens a socket of its own on first
// use (the inherited one is shared with the parent, and their replies
// would cross); the parent's is unaffected.

#ifndef SOCCR_SOCK_DIAG_SESSION_H_
#define SOCCR_SOCK_DIAG_SESSION_H_

#include <memory>

namespace soccr {

namespace internal {
class SockDiagSessionScope;
}  // namespace internal

class SockDiagSession {
 public:
  SockDiagSession();
  SockDiagSession(SockDiagSession&& other) noexcept;
  SockDiagSession& operator=(SockDiagSession&& other) noexcept;
  SockDiagSession(const SockDiagSession&) = delete;
  SockDiagSession& operator=(const SockDiagSession&) = delete;
  ~SockDiagSession();

  // Whether the session holds an open netlink socket (a checkpoint opened
  // it, and none has failed since). A moved-from session holds none, and
  // checkpoints given it open their own.
  [[nodiscard]] bool is_open() const;

 private:
  friend class internal::SockDiagSessionScope;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace soccr

#endif  // SOCCR_SOCK_DIAG_SESSION_H_
