// soccr/migrate/protocol.h: the messages `soccr send` and `soccr receive`
// exchange (docs/migration.md has the whole protocol).
//
//   Message m;
//   m.type = MessageType::kGo;
//   absl::Status s = WriteMessage(sock.borrow(), m, deadline);
//   absl::StatusOr<Message> reply = ReadMessage(sock.borrow(), deadline);
//
// A message is an 8-byte header -- its type as four ASCII bytes and its
// payload's length (little-endian u32) -- and the payload, whose layout
// and exact length each type fixes:
//
//   HELO  version u16 (1), flags u16, count u32, session u64,
//         image_bytes u64, then count original descriptor numbers (u32
//         each). Flags 0: the image (image-format.md) of all count
//         connections, image_bytes long, follows the message. Flags 1
//         (kHelloStreamed): image_bytes is 0, count connection keys follow
//         the descriptors (48 bytes each, see below), and the images come
//         later, in IMGS messages, once the receiver is READY
//   REDY  count u32: the receiver has locked the HELO's keys; send
//   IMGS  count u32, reserved u32 (0), image_bytes u64: an image of the
//         next count connections, image_bytes long, follows the message
//   RSTD  count u32: every connection restored, paused
//   FAIL  status code u32 (1..16), then at most 1024 bytes of message
//   GOGO  (empty) the source has committed: go ahead
//   ABRT  (empty) the source rolls back
//   DONE  count u32, reserved u32 (0), then the destination's phases in
//         nanoseconds, u64 each: lock, restore, takeover, resume, unlock
//
// A connection key: family u16 (AF_INET 2 or AF_INET6 10), reserved u16
// (0), local port u16, peer port u16, local scope id u32, peer scope id
// u32 (0 for AF_INET), local address, peer address (16 bytes each, network
// order; AF_INET's 4 bytes first, then 12 zeros). Ports are little-endian
// like every other integer here.
//
// The peer is untrusted: a header with an unknown type or a length its
// type does not allow is refused before any payload is read, a payload is
// read (ReadStreamBytes) only as it arrives, and every field is checked.

#ifndef SOCCR_MIGRATE_PROTOCOL_H_
#define SOCCR_MIGRATE_PROTOCOL_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "soccr/address.h"
#include "soccr/fd.h"

namespace soccr::migrate {

inline constexpr uint16_t kProtocolVersion = 1;
inline constexpr size_t kHeaderLength = 8;
// The most connections one move carries.
inline constexpr uint32_t kMaxConnections = 1 << 20;
inline constexpr size_t kMaxFailureText = 1024;
// HELO's flag: keys now, images later in IMGS messages.
inline constexpr uint16_t kHelloStreamed = 1;
inline constexpr size_t kKeyLength = 48;

enum class MessageType : uint32_t {
  kHello,
  kRestored,
  kFailed,
  kGo,
  kAbort,
  kDone,
  kReady,
  kImages,
};

// "HELO", "RSTD", ...
const char* MessageTypeName(MessageType type);

// The destination's side of the timing report.
struct DestinationTimes {
  absl::Duration lock, restore, takeover, resume, unlock;
};

// One connection of a streamed HELO, as the source sees it.
struct Key {
  SocketAddress local;
  SocketAddress peer;
};

struct Message {
  MessageType type = MessageType::kAbort;
  uint32_t count = 0;         // HELO, REDY, IMGS, RSTD, DONE
  uint16_t flags = 0;         // HELO
  uint64_t session = 0;       // HELO
  uint64_t image_bytes = 0;   // HELO, IMGS
  std::vector<uint32_t> fds;  // HELO: the source's descriptor numbers
  std::vector<Key> keys;      // HELO with kHelloStreamed
  absl::StatusCode code = absl::StatusCode::kUnknown;  // FAIL
  std::string text;                                    // FAIL
  DestinationTimes times;                              // DONE
};

// The message as bytes. FAIL texts longer than kMaxFailureText are cut.
std::string EncodeMessage(const Message& m);

// Checks a header: the type and the payload length it allows. Returns the
// type and the length.
[[nodiscard]] absl::StatusOr<std::pair<MessageType, uint32_t>> DecodeHeader(
    absl::Span<const uint8_t> header);

// Decodes the payload of a message of `type` whose header was checked.
[[nodiscard]] absl::StatusOr<Message> DecodePayload(
    MessageType type, absl::Span<const uint8_t> payload);

// Reads one message, waiting until `deadline`. DataLoss for a malformed
// message or a stream that ends inside one; Unavailable when the stream
// ends before a message begins (the other side has gone);
// DeadlineExceeded.
[[nodiscard]] absl::StatusOr<Message> ReadMessage(BorrowedFd fd,
                                                  absl::Time deadline);

// Writes bytes (a message, an image) in full, waiting for room until
// `deadline`. Never raises SIGPIPE on a socket: Unavailable when the other
// side has gone.
[[nodiscard]] absl::Status WriteAllBytes(BorrowedFd fd, absl::string_view bytes,
                                         absl::Time deadline);
[[nodiscard]] absl::Status WriteMessage(BorrowedFd fd, const Message& m,
                                        absl::Time deadline);

}  // namespace soccr::migrate

#endif  // SOCCR_MIGRATE_PROTOCOL_H_
