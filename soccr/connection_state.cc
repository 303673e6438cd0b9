#include "soccr/connection_state.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace soccr {

std::string ConnectionState::Endpoints() const {
  return absl::StrCat(local.ToString(), "->", peer.ToString());
}

std::string ConnectionState::ToString() const {
  std::string s = absl::StrCat(TcpStateName(state), " ", Endpoints(), " inq ",
                               inq_len, "@", inq_seq, " outq ", outq_len, "@",
                               outq_seq, " (", unsent_len, " unsent)");
  absl::StrAppend(&s, " mss ", options.mss_clamp);
  if (options.window_scaling) {
    absl::StrAppend(&s, " wscale ", options.snd_wscale, "/",
                    options.rcv_wscale);
  }
  if (options.sack) absl::StrAppend(&s, " sack");
  if (options.timestamps) absl::StrAppend(&s, " ts ", timestamp);
  if (window.has_value()) {
    absl::StrAppend(&s, " window snd_wl1=", window->snd_wl1,
                    " snd_wnd=", window->snd_wnd,
                    " max_window=", window->max_window,
                    " rcv_wnd=", window->rcv_wnd, " rcv_wup=", window->rcv_wup);
  }
  if (state == TcpState::kListen) {
    absl::StrAppend(&s, " backlog ", listen_backlog);
  }
  if (pending_error != 0) {
    absl::StrAppend(&s, " pending error ", pending_error);
  }
  if (buffers.has_value()) {
    absl::StrAppend(&s, " sndbuf ", buffers->sndbuf,
                    buffers->sndbuf_locked ? " (locked)" : "", " rcvbuf ",
                    buffers->rcvbuf, buffers->rcvbuf_locked ? " (locked)" : "");
  }
  if (!socket_options.empty()) {
    absl::StrAppend(&s, " [",
                    absl::StrJoin(socket_options, " ",
                                  [](std::string* out, const SocketOption& o) {
                                    out->append(SocketOptionToString(o));
                                  }),
                    "]");
  }
  return s;
}

bool operator==(const ConnectionState& a, const ConnectionState& b) {
  return FieldsEqual(a, b);
}

// Each struct has exactly the members its field list lists (a structured
// binding of the list's length must decompose it): a member added to a
// struct and not to its list stops the build here.
static_assert(EveryMemberIsListed<TcpOptions>());
static_assert(EveryMemberIsListed<TcpWindow>());
static_assert(EveryMemberIsListed<SocketBuffers>());
static_assert(EveryMemberIsListed<ConnectionState>());

}  // namespace soccr
