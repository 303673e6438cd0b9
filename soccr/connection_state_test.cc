// VisitFields on a ConnectionState: it hands out the members themselves,
// under their names. That operator== tells each one-field change from its
// base is tested with the perturbations themselves, in
// soccr/testing/perturbations_test.cc. ToString(), generated from the field
// lists, shows every field: each one-field change shows in it.

#include "soccr/connection_state.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "soccr/testing/perturbations.h"

namespace soccr {
namespace {

using ::soccr::testing::NamedState;
using ::soccr::testing::Perturbation;
using ::soccr::testing::PerturbationBases;
using ::soccr::testing::PerturbEachField;

TEST(ConnectionStateTest, VisitFieldsHandsOutTheMembers) {
  ConnectionState s = PerturbationBases().front().state;
  std::vector<const void*> addresses;
  VisitFields(
      s, [&](const char*, const auto& value) { addresses.push_back(&value); });
  ASSERT_EQ(addresses.size(), kConnectionStateFieldCount);
  EXPECT_EQ(addresses.front(), &s.state);
  EXPECT_EQ(addresses[3], &s.inq_seq);
  EXPECT_EQ(addresses.back(), &s.pending_error);
}

// Writing through VisitFields, under the name of the member a perturbation
// changed, the perturbed value into a copy of the base gives the perturbed
// state: the references are to the members, and each name to its own.
TEST(ConnectionStateTest, VisitFieldsWritesTheNamedMember) {
  for (const NamedState& base : PerturbationBases()) {
    SCOPED_TRACE(base.name);
    for (const Perturbation& p : PerturbEachField(base.state)) {
      SCOPED_TRACE(p.field);
      std::vector<const void*> perturbed;
      VisitFields(p.state, [&](const char*, const auto& value) {
        perturbed.push_back(&value);
      });
      ConnectionState s = base.state;
      size_t at = 0;
      VisitFields(s, [&](const char* name, auto& value) {
        using T = std::decay_t<decltype(value)>;
        if (name == p.member) value = *static_cast<const T*>(perturbed[at]);
        ++at;
      });
      EXPECT_TRUE(s == p.state);
    }
  }
}

// The form the header documents, on the header's example.
TEST(ConnectionStateTest, ToStringShowsEachFieldByName) {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = SocketAddress::Loopback4(80);
  s.peer = SocketAddress::Loopback4(4242);
  s.inq_seq = 1000;
  s.inq_len = 2;
  s.recv_queue = QueueBytes::Copy("hi");
  s.outq_seq = 5000;
  s.options.sack = true;
  s.options.mss_clamp = 1460;
  s.buffers = SocketBuffers{4096, 8192, true, false};
  const int one = 1;
  SocketOption nodelay{IPPROTO_TCP, TCP_NODELAY, std::string(sizeof(one), 0)};
  memcpy(nodelay.value.data(), &one, sizeof(one));
  s.socket_options.push_back(nodelay);
  EXPECT_EQ(s.ToString(),
            "state=ESTABLISHED local=127.0.0.1:80 peer=127.0.0.1:4242 "
            "inq_seq=1000 inq_len=2 recv_queue=<2 bytes> outq_seq=5000 "
            "outq_len=0 unsent_len=0 send_queue=<0 bytes> options={sack=1 "
            "timestamps=0 window_scaling=0 snd_wscale=0 rcv_wscale=0 "
            "mss_clamp=1460} timestamp=0 window=none buffers={sndbuf=4096 "
            "rcvbuf=8192 sndbuf_locked=1 rcvbuf_locked=0} "
            "socket_options=[TCP_NODELAY=1] listen_backlog=0 pending_error=0");

  s.window = TcpWindow{1, 2, 3, 4, 5};
  s.socket_options.clear();
  s.local = SocketAddress();
  const std::string text = s.ToString();
  EXPECT_NE(text.find(" window={snd_wl1=1 snd_wnd=2 max_window=3 rcv_wnd=4 "
                      "rcv_wup=5} "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(" socket_options=[] "), std::string::npos) << text;
  EXPECT_NE(text.find(" local=(none) "), std::string::npos) << text;
}

// The sizes of the QueueBytes members of `s`, by name.
std::map<std::string, size_t> QueueSizes(const ConnectionState& s) {
  std::map<std::string, size_t> sizes;
  VisitFields(s, [&](const char* name, const auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, QueueBytes>) {
      sizes[name] = value.size();
    }
  });
  return sizes;
}

// Every one-field change of every base shows in ToString(), but for a
// queue's bytes changed with its size kept: a queue shows by its size only.
// Each member shows a change in some base (a queue's in one where it grows
// from empty), so a member ToString() left out fails here.
TEST(ConnectionStateTest, ToStringShowsEveryFieldsChange) {
  std::set<std::string> shown;
  for (const NamedState& base : PerturbationBases()) {
    SCOPED_TRACE(base.name);
    const std::string base_text = base.state.ToString();
    EXPECT_EQ(base_text.find('\n'), std::string::npos) << base_text;
    const std::map<std::string, size_t> base_sizes = QueueSizes(base.state);
    for (const Perturbation& p : PerturbEachField(base.state)) {
      SCOPED_TRACE(p.field);
      const std::string text = p.state.ToString();
      EXPECT_EQ(text.find('\n'), std::string::npos) << text;
      const auto queue = base_sizes.find(p.member);
      if (queue != base_sizes.end() &&
          QueueSizes(p.state).at(p.member) == queue->second) {
        // The queue's bytes are not in the text.
        EXPECT_EQ(text, base_text);
        continue;
      }
      EXPECT_NE(text, base_text);
      if (text != base_text) shown.insert(p.member);
    }
  }
  std::set<std::string> all;
  const ConnectionState any;
  VisitFields(any, [&](const char* name, const auto&) { all.insert(name); });
  EXPECT_EQ(shown, all);
}

// Each member of the field list is in the text by its name, in list
// order.
TEST(ConnectionStateTest, ToStringNamesTheFieldsInListOrder) {
  const ConnectionState s = PerturbationBases().front().state;
  const std::string text = " " + s.ToString();
  size_t at = 0;
  VisitFields(s, [&](const char* name, const auto&) {
    const size_t next = text.find(std::string(" ") + name + "=", at);
    EXPECT_NE(next, std::string::npos) << name << " in " << text;
    at = next;
  });
}

}  // namespace
}  // namespace soccr
