#include "soccr/testing/perturbations.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/socket.h>

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "soccr/field_list.h"

namespace soccr::testing {
namespace {

// One way to change a T: what it is called (appended to the field's path)
// and the change itself.
template <typename T>
struct Change {
  std::string suffix;
  std::function<void(T&)> apply;
};

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

uint32_t Other(uint32_t v) { return v == 0 ? 1 : v - 1; }

template <typename T>
std::vector<Change<T>> ChangesOf(const T& value);

// The changes of one field of a struct, as changes of the struct.
template <typename S, typename Fld>
void AddFieldChanges(const S& s, const Fld& field,
                     std::vector<Change<S>>& out) {
  for (Change<typename Fld::Type>& c : ChangesOf(s.*field.member)) {
    out.push_back({absl::StrCat(".", field.name, c.suffix),
                   [member = field.member, apply = std::move(c.apply)](S& v) {
                     apply(v.*member);
                   }});
  }
}

template <typename T>
std::vector<Change<T>> ChangesOf(const T& value) {
  std::vector<Change<T>> out;
  if constexpr (HasFieldList<T>::value) {
    std::apply(
        [&](const auto&... field) {
          (AddFieldChanges(value, field, out), ...);
        },
        FieldListOf(value));
  } else if constexpr (IsOptional<T>::value) {
    if (value.has_value()) {
      out.push_back({" (absent)", [](T& v) { v.reset(); }});
      for (auto& c : ChangesOf(*value)) {
        out.push_back({std::move(c.suffix),
                       [apply = std::move(c.apply)](T& v) { apply(*v); }});
      }
    } else {
      out.push_back({" (present)", [](T& v) { v.emplace(); }});
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    out.push_back({"", [](T& v) { v = !v; }});
  } else if constexpr (std::is_same_v<T, uint8_t> ||
                       std::is_same_v<T, uint32_t>) {
    out.push_back({"", [](T& v) { v = static_cast<T>(Other(v)); }});
  } else if constexpr (std::is_same_v<T, TcpState>) {
    // A state that takes the same other fields where one exists.
    out.push_back({"", [](T& v) {
                     switch (v) {
                       case TcpState::kEstablished:
                         v = TcpState::kCloseWait;
                         break;
                       case TcpState::kListen:
                         v = TcpState::kClose;
                         break;
                       case TcpState::kClose:
                         v = TcpState::kListen;
                         break;
                       default:
                         v = TcpState::kEstablished;
                     }
                   }});
  } else if constexpr (std::is_same_v<T, SocketAddress>) {
    out.push_back(
        {"", [](T& v) {
           SocketAddress a = v;
           const uint16_t port = static_cast<uint16_t>(Other(v.port()));
           if (v.family() == AF_INET) {
             v = SocketAddress::V4(ntohl(a.v4().sin_addr.s_addr), port);
           } else if (v.family() == AF_INET6) {
             v = SocketAddress::V6(
                 absl::Span<const uint8_t>(a.v6().sin6_addr.s6_addr, 16), port,
                 a.v6().sin6_flowinfo, a.v6().sin6_scope_id);
           } else {
             v = SocketAddress::Loopback4(port);
           }
         }});
  } else if constexpr (std::is_same_v<T, QueueBytes>) {
    out.push_back({"", [](T& v) {
                     std::string bytes(v.view());
                     if (bytes.empty()) {
                       bytes = "x";
                     } else {
                       bytes[0] = static_cast<char>(bytes[0] ^ 0xff);
                     }
                     v = QueueBytes::Copy(bytes);
                   }});
  } else if constexpr (std::is_same_v<T, std::vector<SocketOption>>) {
    if (value.empty()) {
      out.push_back({" (one option)", [](T& v) {
                       const int one = 1;
                       v.push_back(
                           {SOL_SOCKET, SO_KEEPALIVE,
                            std::string(reinterpret_cast<const char*>(&one),
                                        sizeof(one))});
                     }});
    } else {
      out.push_back({"[0].value", [](T& v) {
                       std::string& bytes = v[0].value;
                       if (bytes.empty()) {
                         bytes = "x";
                       } else {
                         bytes[0] = static_cast<char>(bytes[0] ^ 1);
                       }
                     }});
      out.push_back({" (one fewer)", [](T& v) { v.pop_back(); }});
    }
  } else {
    static_assert(sizeof(T) == 0,
                  "a field of a new type: say how to change it here");
  }
  return out;
}

SocketOption IntOption(int level, int name, int value) {
  return {level, name,
          std::string(reinterpret_cast<const char*>(&value), sizeof(value))};
}

}  // namespace

std::vector<Perturbation> PerturbEachField(const ConnectionState& base) {
  std::vector<Perturbation> out;
  std::apply(
      [&](const auto&... field) {
        (
            [&] {
              for (auto& c : ChangesOf(base.*field.member)) {
                Perturbation p{absl::StrCat(field.name, c.suffix), field.name,
                               base};
                c.apply(p.state.*field.member);
                out.push_back(std::move(p));
              }
            }(),
            ...);
      },
      kConnectionStateFields);
  // pending_error takes few values: the generic "one less" would make the
  // state one a restore refuses.
  for (Perturbation& p : out) {
    if (p.field == "pending_error") {
      p.state.pending_error =
          base.pending_error == ECONNRESET ? EPIPE : ECONNRESET;
    }
  }
  return out;
}

std::vector<NamedState> PerturbationBases() {
  std::vector<NamedState> bases;

  // Numbers chosen with room around them, so that one less stays valid:
  // window.max_window > snd_wnd, rcv_wup < inq_seq, snd_wl1 well below
  // inq_seq + rcv_wnd, unsent_len > 0, the window scales below 14.
  ConnectionState full;
  full.state = TcpState::kEstablished;
  full.local = SocketAddress::V4(0x7f000001, 40000);
  full.peer = SocketAddress::V4(0x7f000002, 443);
  full.recv_queue = QueueBytes::Copy(std::string("received"));
  full.inq_len = static_cast<uint32_t>(full.recv_queue.size());
  full.inq_seq = 100000;
  full.send_queue = QueueBytes::Copy(std::string("sent, and not yet"));
  full.outq_len = static_cast<uint32_t>(full.send_queue.size());
  full.unsent_len = 5;
  full.outq_seq = 7000000;
  full.options = {true, true, true, 7, 9, 1400};
  full.timestamp = 123456;
  full.window = TcpWindow{99000, 60000, 70000, 64000, 99990};
  full.buffers = SocketBuffers{200000, 131072, true, true};
  full.socket_options = {IntOption(SOL_SOCKET, SO_KEEPALIVE, 1),
                         IntOption(SOL_TCP, TCP_NODELAY, 1),
                         IntOption(SOL_TCP, TCP_KEEPIDLE, 600)};
  bases.push_back({"established", full});

  // Window scaling off (its scales 0), unlocked buffers, no socket
  // options, IPv6.
  ConnectionState plain = full;
  const uint8_t local6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                              0,    0,    0,    0,    0, 0, 0, 1};
  const uint8_t peer6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                             0,    0,    0,    0,    0, 0, 0, 2};
  plain.local = SocketAddress::V6(local6, 40000, htonl(0x12345), 0);
  plain.peer = SocketAddress::V6(peer6, 443, htonl(0x12345), 0);
  plain.options = {false, false, false, 0, 0, 1400};
  plain.buffers = SocketBuffers{200000, 131072, false, false};
  plain.socket_options.clear();
  bases.push_back({"established without window scaling", plain});

  ConnectionState listener;
  listener.state = TcpState::kListen;
  listener.local = SocketAddress::V4(0x7f000001, 8080);
  listener.listen_backlog = 16;
  listener.buffers = SocketBuffers{16384, 131072, false, false};
  listener.socket_options = {IntOption(SOL_SOCKET, SO_REUSEADDR, 1)};
  bases.push_back({"listener", listener});

  ConnectionState reset = full;
  reset.state = TcpState::kClose;
  reset.send_queue = QueueBytes();
  reset.outq_len = 0;
  reset.unsent_len = 0;
  reset.pending_error = ECONNRESET;
  bases.push_back({"closed by a reset", reset});
  return bases;
}

}  // namespace soccr::testing
