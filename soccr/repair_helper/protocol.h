// soccr/repair_helper/protocol.h: the repair helper's wire protocol.
//
// An unprivileged process cannot switch TCP_REPAIR (the kernel wants
// CAP_NET_ADMIN in the socket's network namespace for that one option; every
// other repair operation only needs the socket to be in repair mode). A
// small privileged helper, `soccr-repair`, does it on sockets it is handed.
// The protocol is the one passt-repair(1) documents, so either side works
// with the other's counterpart:
//
//   request: one signed byte, the TCP_REPAIR value (1 on, 0 off, -1 off
//            without window probe), carrying 1 to 253 (SCM_MAX_FD)
//            descriptors as SCM_RIGHTS on a unix stream socket;
//   reply:   the same byte once every socket is switched; on any failure
//            the helper closes the connection instead (no reply byte).
//
// The helper's side of a request:
//
//   ParsedRequest req = ParseRequest(data, control, msg_flags);
//   // req.fds: every descriptor the message carried, to close in any case.
//   if (!req.status.ok()) { /* refuse: close them all, drop the peer */ }
//
// This file is pure parsing (no kernel calls), so it can be fuzzed on any
// bytes; server.h applies it to real descriptors.

#ifndef SOCCR_REPAIR_HELPER_PROTOCOL_H_
#define SOCCR_REPAIR_HELPER_PROTOCOL_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace soccr::repair_helper {

// SCM_MAX_FD, the kernel's limit on descriptors in one SCM_RIGHTS message,
// and the protocol's limit per request.
inline constexpr int kMaxFds = 253;

// The command bytes: TCP_REPAIR_ON, TCP_REPAIR_OFF, TCP_REPAIR_OFF_NO_WP.
inline constexpr int8_t kCommandOn = 1;
inline constexpr int8_t kCommandOff = 0;
inline constexpr int8_t kCommandOffNoWindowProbe = -1;

// Room for one SCM_RIGHTS header with kMaxFds descriptors: the control
// buffer a receiver passes to recvmsg(). A sender of more sees MSG_CTRUNC.
inline constexpr size_t kControlBufferSize = CMSG_SPACE(sizeof(int) * kMaxFds);

// Whether `command` is one of the three command bytes.
bool IsCommand(int8_t command);

// The outcome of parsing one received message.
struct ParsedRequest {
  // Ok, or InvalidArgument saying why the request is refused.
  absl::Status status;
  int8_t command = 0;
  // Every distinct non-negative descriptor number found in SCM_RIGHTS
  // control messages (in the order received; sorted if a number repeated),
  // whether or not the request is valid: the
  // receiver owns them all and must close them either way.
  std::vector<int> fds;
};

// Parses what recvmsg() returned: `data` the bytes read (the command byte;
// a request has exactly one), `control` the first msg_controllen bytes of
// the control buffer (any alignment), `msg_flags` the flags it reported.
// Refused: no data byte or more than one, an unknown command, MSG_CTRUNC or
// MSG_TRUNC (the sender sent more than a request may hold), a control
// message header that is truncated or overruns the buffer, any control
// message other than SCM_RIGHTS, more than one SCM_RIGHTS, a payload that
// is not whole descriptors, none or more than kMaxFds descriptors, a
// negative or repeated descriptor number (the kernel never delivers one).
ParsedRequest ParseRequest(absl::Span<const uint8_t> data,
                           absl::Span<const uint8_t> control, int msg_flags);

}  // namespace soccr::repair_helper

#endif  // SOCCR_REPAIR_HELPER_PROTOCOL_H_
