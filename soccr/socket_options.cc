#include "soccr/socket_options.h"

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace soccr {
namespace {

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif
#ifndef TCP_CA_NAME_MAX
#define TCP_CA_NAME_MAX 16
#endif

using K = SockOptKind;
using P = SockOptPhase;

constexpr size_t kIntSize = sizeof(int);

// The table. Kernel facts behind the choices:
// - Address reuse, v6only, the device, the mark and freebind/transparent
//   decide whether bind() and the route lookup in connect() succeed, so they
//   come first.
// - TCP_NOTSENT_LOWAT would hold back the unsent data a resume queues, so it
//   is set after.
// - Keepalive timing, congestion control and TTL default to sysctls of the
//   namespace; getsockopt reports the effective value, so they are always
//   saved and a restore pins them (as CRIU does).
// - Where the kernel's setter refuses some int values, the row gives the
//   range and the setter; the other options take any value (SO_MARK and
//   SO_PRIORITY any value with CAP_NET_ADMIN, which a restore has).
const SockOptSpec kTable[] = {
    {SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", K::kInt, P::kBeforeBind, 0, 0,
     kIntSize},
    {SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", K::kInt, P::kBeforeBind, 0, 0,
     kIntSize},
    {SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE", K::kString, P::kBeforeBind,
     0, std::nullopt, IFNAMSIZ},
    {SOL_SOCKET, SO_MARK, "SO_MARK", K::kInt, P::kBeforeBind, 0, 0, kIntSize},
    {SOL_IP, IP_FREEBIND, "IP_FREEBIND", K::kInt, P::kBeforeBind, AF_INET, 0,
     kIntSize},
    {SOL_IP, IP_TRANSPARENT, "IP_TRANSPARENT", K::kInt, P::kBeforeBind, AF_INET,
     0, kIntSize},
    {SOL_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", K::kInt, P::kBeforeBind, AF_INET6,
     std::nullopt, kIntSize},
    {SOL_IPV6, IPV6_FREEBIND, "IPV6_FREEBIND", K::kInt, P::kBeforeBind,
     AF_INET6, 0, kIntSize},
    {SOL_IPV6, IPV6_TRANSPARENT, "IPV6_TRANSPARENT", K::kInt, P::kBeforeBind,
     AF_INET6, 0, kIntSize},
    {SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", K::kInt, P::kInRepair, 0, 0,
     kIntSize},
    {SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY", K::kInt, P::kInRepair, 0, 0,
     kIntSize},
    {SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE", K::kInt, P::kInRepair, 0, 0,
     kIntSize},
    // Off (-1) unless the application peeks at offsets (TCP's since Linux
    // 6.9; EOPNOTSUPP before, where it cannot have been set).
    {SOL_SOCKET, SO_PEEK_OFF, "SO_PEEK_OFF", K::kInt, P::kInRepair, 0, -1,
     kIntSize},
    {SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT", K::kInt, P::kInRepair, 0, 1,
     kIntSize},
    {SOL_SOCKET, SO_LINGER, "SO_LINGER", K::kLinger, P::kInRepair, 0,
     std::nullopt, sizeof(struct linger)},
    {SOL_SOCKET, SO_SNDTIMEO, "SO_SNDTIMEO", K::kTimeval, P::kInRepair, 0,
     std::nullopt, sizeof(struct timeval)},
    {SOL_SOCKET, SO_RCVTIMEO, "SO_RCVTIMEO", K::kTimeval, P::kInRepair, 0,
     std::nullopt, sizeof(struct timeval)},
    {SOL_TCP, TCP_NODELAY, "TCP_NODELAY", K::kInt, P::kInRepair, 0, 0,
     kIntSize},
    {SOL_TCP, TCP_CORK, "TCP_CORK", K::kInt, P::kInRepair, 0, 0, kIntSize},
    // MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT.
    {SOL_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", K::kInt, P::kInRepair, 0,
     std::nullopt, kIntSize, 1, 32767, "tcp_sock_set_keepidle_locked"},
    {SOL_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", K::kInt, P::kInRepair, 0,
     std::nullopt, kIntSize, 1, 32767, "tcp_sock_set_keepintvl"},
    {SOL_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", K::kInt, P::kInRepair, 0,
     std::nullopt, kIntSize, 1, 127, "tcp_sock_set_keepcnt"},
    {SOL_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", K::kInt, P::kInRepair, 0, 0,
     kIntSize, 0, INT_MAX, "tcp_sock_set_user_timeout"},
    {SOL_TCP, TCP_THIN_LINEAR_TIMEOUTS, "TCP_THIN_LINEAR_TIMEOUTS", K::kInt,
     P::kInRepair, 0, 0, kIntSize, 0, 1, "do_tcp_setsockopt"},
    {SOL_TCP, TCP_CONGESTION, "TCP_CONGESTION", K::kString, P::kInRepair, 0,
     std::nullopt, TCP_CA_NAME_MAX},
    {SOL_IP, IP_TOS, "IP_TOS", K::kInt, P::kInRepair, AF_INET, 0, kIntSize},
    // 1..255, or -1 for the default (do_ip_setsockopt).
    {SOL_IP, IP_TTL, "IP_TTL", K::kInt, P::kInRepair, AF_INET, std::nullopt,
     kIntSize, 1, 255, "do_ip_setsockopt", -1},
    {SOL_IPV6, IPV6_TCLASS, "IPV6_TCLASS", K::kInt, P::kInRepair, AF_INET6, 0,
     kIntSize, -1, 255, "do_ipv6_setsockopt"},
    {SOL_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", K::kInt, P::kInRepair,
     AF_INET6, std::nullopt, kIntSize, -1, 255, "do_ipv6_setsockopt"},
    {SOL_TCP, TCP_NOTSENT_LOWAT, "TCP_NOTSENT_LOWAT", K::kInt, P::kAfterResume,
     0, 0, kIntSize},
};

}  // namespace

absl::Span<const SockOptSpec> SocketOptionTable() { return kTable; }

const SockOptSpec* FindSocketOption(int level, int name) {
  for (const SockOptSpec& spec : kTable) {
    if (spec.level == level && spec.name == name) return &spec;
  }
  return nullptr;
}

bool SocketOptionApplies(const SockOptSpec& spec, int family) {
  return spec.family == 0 || spec.family == family;
}

bool IsDefaultSocketOptionValue(const SockOptSpec& spec,
                                absl::string_view value) {
  if (spec.kind == SockOptKind::kInt) {
    if (!spec.int_default.has_value() || value.size() != sizeof(int)) {
      return false;
    }
    int v = 0;
    memcpy(&v, value.data(), sizeof(v));
    return v == *spec.int_default;
  }
  return std::all_of(value.begin(), value.end(), [](char c) { return c == 0; });
}

std::string SocketOptionToString(const SocketOption& option) {
  const SockOptSpec* spec = FindSocketOption(option.level, option.name);
  if (spec == nullptr) {
    return absl::StrCat("option(", option.level, ", ", option.name, ")");
  }
  const absl::string_view v = option.value;
  switch (spec->kind) {
    case SockOptKind::kInt: {
      int i = 0;
      if (v.size() != sizeof(i)) break;
      memcpy(&i, v.data(), sizeof(i));
      return absl::StrCat(spec->label, "=", i);
    }
    case SockOptKind::kLinger: {
      struct linger l = {};
      if (v.size() != sizeof(l)) break;
      memcpy(&l, v.data(), sizeof(l));
      return absl::StrCat(spec->label, "={", l.l_onoff ? "on" : "off", ",",
                          l.l_linger, "}");
    }
    case SockOptKind::kTimeval: {
      struct timeval t = {};
      if (v.size() != sizeof(t)) break;
      memcpy(&t, v.data(), sizeof(t));
      return absl::StrCat(spec->label, "=", t.tv_sec, ".",
                          absl::Dec(t.tv_usec, absl::kZeroPad6), "s");
    }
    case SockOptKind::kString:
      return absl::StrCat(spec->label, "=",
                          v.substr(0, std::min(v.find('\0'), v.size())));
  }
  return absl::StrCat(spec->label, "=(", v.size(), " bytes)");
}

absl::Status ValidateSocketOption(const SocketOption& option, int family) {
  const SockOptSpec* spec = FindSocketOption(option.level, option.name);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket option (level ", option.level, ", name ",
                     option.name, ") is not one soccr restores"));
  }
  if (!SocketOptionApplies(*spec, family)) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket option ", spec->label,
                     " does not apply to a socket of family ", family));
  }
  const size_t size = option.value.size();
  const bool fixed = spec->kind != SockOptKind::kString;
  if ((fixed && size != spec->max_size) || (!fixed && size > spec->max_size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket option ", spec->label, " has ", size,
                     " bytes, want ", fixed ? "" : "at most ", spec->max_size));
  }
  return absl::OkStatus();
}

}  // namespace soccr

namespace soccr {

absl::Status CheckSocketOptionValue(const SocketOption& option) {
  const SockOptSpec* spec = FindSocketOption(option.level, option.name);
  if (spec == nullptr) return absl::OkStatus();
  if (spec->kind == SockOptKind::kInt && option.value.size() == sizeof(int)) {
    int v = 0;
    memcpy(&v, option.value.data(), sizeof(v));
    if ((v < spec->min_int || v > spec->max_int) && v != spec->also_int) {
      return absl::InvalidArgumentError(absl::StrCat(
          "socket option ", spec->label, "=", v, " is outside [", spec->min_int,
          ", ", spec->max_int, "], which ", spec->value_check, " accepts"));
    }
  }
  // sock_set_timeout() refuses microseconds outside [0, 1000000) (EDOM).
  if (spec->kind == SockOptKind::kTimeval &&
      option.value.size() == sizeof(struct timeval)) {
    struct timeval t = {};
    memcpy(&t, option.value.data(), sizeof(t));
    if (t.tv_usec < 0 || t.tv_usec >= 1000000) {
      return absl::InvalidArgumentError(absl::StrCat(
          "socket option ", spec->label, " has tv_usec ", t.tv_usec,
          ", outside [0, 1000000), which "
          "sock_set_timeout accepts"));
    }
  }
  return absl::OkStatus();
}

}  // namespace soccr
