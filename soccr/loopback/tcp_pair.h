// soccr/loopback/tcp_pair.h: connected TCP pairs over loopback and
// byte-exact I/O on them, for tests, demos, probes and benchmarks. Call from
// inside a private network namespace (EnterPrivateNetns, or NetnsTest in a
// test).

#ifndef SOCCR_LOOPBACK_TCP_PAIR_H_
#define SOCCR_LOOPBACK_TCP_PAIR_H_

#include <stddef.h>
#include <stdint.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "soccr/address.h"
#include "soccr/fd.h"

namespace soccr::loopback {

enum class Family { kV4, kV6, kMapped };

// "v4", "v6", "mapped": for test names.
std::string FamilyName(Family family);

// A connection over loopback: `client` connected, `server` accepted.
struct TcpPair {
  OwnedFd client;
  OwnedFd server;
};

// Connects a new pair over loopback on `port` (0: any free port).
// kMapped: an IPv6 client and server talking over ::ffff:127.0.0.1.
// `server_rcvbuf` > 0 sets the server's SO_RCVBUF before the handshake, so
// the window it offers stays small from the start.
[[nodiscard]] absl::StatusOr<TcpPair> ConnectedPair(Family family,
                                                    uint16_t port = 0,
                                                    int server_rcvbuf = 0);

// `n` bytes of a deterministic pattern; `seed` picks the pattern and the
// offset into it, so consecutive chunks of one stream can be generated.
std::string Pattern(size_t n, uint64_t seed, uint64_t offset = 0);

// Writes all of `data`, waiting (poll) for room, up to `timeout`.
[[nodiscard]] absl::Status WriteAll(BorrowedFd fd, absl::string_view data,
                                    absl::Duration timeout = absl::Seconds(30));
// Writes what fits without blocking; returns the number of bytes written.
[[nodiscard]] absl::StatusOr<size_t> WriteSome(BorrowedFd fd,
                                               absl::string_view data);
// Reads exactly `n` bytes, waiting up to `timeout`.
[[nodiscard]] absl::StatusOr<std::string> ReadExactly(
    BorrowedFd fd, size_t n, absl::Duration timeout = absl::Seconds(30));
// Reads what is there without blocking (up to `max`).
[[nodiscard]] absl::StatusOr<std::string> ReadAvailable(BorrowedFd fd,
                                                        size_t max);
// Waits for end-of-file (recv returns 0), up to `timeout`.
[[nodiscard]] absl::Status ExpectEof(
    BorrowedFd fd, absl::Duration timeout = absl::Seconds(10));

// SIOCINQ, SIOCOUTQ, SIOCOUTQNSD.
int InqLen(BorrowedFd fd);
int OutqLen(BorrowedFd fd);
int UnsentLen(BorrowedFd fd);

// Waits until `fd` has nothing in flight (everything it sent is acked).
[[nodiscard]] absl::Status WaitNothingInFlight(
    BorrowedFd fd, absl::Duration timeout = absl::Seconds(10));
// Waits until `fd`'s receive queue holds at least `n` bytes.
[[nodiscard]] absl::Status WaitInq(BorrowedFd fd, size_t n,
                                   absl::Duration timeout = absl::Seconds(10));

// Makes `fd` drop every packet that arrives for it (a classic BPF socket
// filter), so that what its peer sends stays unacknowledged; and undoes it.
[[nodiscard]] absl::Status DropIncoming(BorrowedFd fd);
[[nodiscard]] absl::Status AcceptIncoming(BorrowedFd fd);
// Makes `fd` drop only the segments that carry a FIN: data and ACKs still
// pass, so the peer's FIN stays unacknowledged while everything else flows.
// AcceptIncoming() undoes it.
[[nodiscard]] absl::Status DropIncomingFin(BorrowedFd fd);

// The kernel's TCP state of `fd` (TCP_INFO), as its number (0 on error).
int TcpStateNumber(BorrowedFd fd);
// Waits until `fd` is in TCP state `state`, up to `timeout`.
[[nodiscard]] absl::Status WaitTcpState(
    BorrowedFd fd, int state, absl::Duration timeout = absl::Seconds(10));

// The number of open descriptors of this process.
int CountOpenFds();

}  // namespace soccr::loopback

#endif  // SOCCR_LOOPBACK_TCP_PAIR_H_
