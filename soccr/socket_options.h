// soccr/socket_options.h: the socket options soccr saves and restores,
// declared as data.
//
// One table lists every option: its level and name, the shape of its value,
// when a restore must set it, and its value on a fresh socket (a checkpoint
// records only values that differ from it, where it is a constant). Options
// not in the table are never read from an image and never set.

#ifndef SOCCR_SOCKET_OPTIONS_H_
#define SOCCR_SOCKET_OPTIONS_H_

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace soccr {

// The shape of an option's value, in the kernel's native layout.
enum class SockOptKind : uint8_t {
  kInt,      // int (4 bytes)
  kLinger,   // struct linger (8 bytes)
  kTimeval,  // struct timeval (16 bytes)
  kString,   // up to `max_size` bytes, e.g. an interface or algorithm name
};

// When a restore sets the option.
enum class SockOptPhase : uint8_t {
  kBeforeBind,   // in repair mode, before bind() (address reuse, v6only, ...)
  kInRepair,     // in repair mode, after the queues are written
  kAfterResume,  // once repair mode is off and unsent data is queued
};

// One row of the table.
struct SockOptSpec {
  int level;
  int name;
  absl::string_view label;  // "TCP_NODELAY"
  SockOptKind kind;
  SockOptPhase phase;
  // The families whose sockets have the option: AF_INET, AF_INET6, or 0 for
  // both.
  int family;
  // Value of an int option on a fresh socket, if it is a constant (not
  // derived from a sysctl); a checkpoint omits options at this value. For
  // other kinds, an all-zero (or empty) value is the default.
  std::optional<int> int_default;
  // Largest value accepted, in bytes.
  size_t max_size;
  // kInt: the values the kernel's setter accepts (it refuses others with
  // EINVAL), and that setter, for error messages and the rule's name.
  int min_int = INT_MIN;
  int max_int = INT_MAX;
  absl::string_view value_check = {};
  // kInt: one more value the setter accepts outside that range (IP_TTL's
  // -1, "the default").
  std::optional<int> also_int = std::nullopt;
};

// A saved option: level, name and the raw value bytes.
struct SocketOption {
  int level = 0;
  int name = 0;
  std::string value;

  friend bool operator==(const SocketOption& a, const SocketOption& b) {
    return a.level == b.level && a.name == b.name && a.value == b.value;
  }
  friend bool operator!=(const SocketOption& a, const SocketOption& b) {
    return !(a == b);
  }
};

// Every option soccr knows, in the order a restore applies them.
absl::Span<const SockOptSpec> SocketOptionTable();

// The table row for (level, name), or nullptr.
const SockOptSpec* FindSocketOption(int level, int name);

// Whether `spec` applies to a socket of `family`.
bool SocketOptionApplies(const SockOptSpec& spec, int family);

// Whether `value` is a fresh socket's value for `spec`.
bool IsDefaultSocketOptionValue(const SockOptSpec& spec,
                                absl::string_view value);

// "TCP_NODELAY=1", "SO_LINGER={on,5}", "TCP_CONGESTION=cubic"; unknown
// options as "option(6, 1)".
std::string SocketOptionToString(const SocketOption& option);

// Checks `option` against the table: known, applicable to `family`, and of
// the right size. InvalidArgument naming the option otherwise.
[[nodiscard]] absl::Status ValidateSocketOption(const SocketOption& option,
                                                int family);

// Checks the value of a valid `option` the way the kernel's setter does
// (ranges of int options, a timeval's microseconds). InvalidArgument naming
// the option, the value and the range otherwise.
[[nodiscard]] absl::Status CheckSocketOptionValue(const SocketOption& option);

}  // namespace soccr

#endif  // SOCCR_SOCKET_OPTIONS_H_
