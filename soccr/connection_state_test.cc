// ConnectionState's field list: every member is visited, and operator==
// compares each one.

#include "soccr/connection_state.h"

#include <stdint.h>
#include <sys/socket.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace soccr {
namespace {

// A value of each field type other than its default. A field of a new type
// fails to compile here until it gets one.
void Perturb(TcpState& v) { v = TcpState::kEstablished; }
void Perturb(SocketAddress& v) { v = SocketAddress::Loopback4(4242); }
void Perturb(uint32_t& v) { v = 7; }
void Perturb(QueueBytes& v) { v = QueueBytes::Copy(std::string("abc")); }
void Perturb(TcpOptions& v) { v.sack = true; }
void Perturb(std::optional<TcpWindow>& v) { v = TcpWindow{}; }
void Perturb(std::optional<SocketBuffers>& v) { v = SocketBuffers{}; }
void Perturb(std::vector<SocketOption>& v) {
  v.push_back(SocketOption{SOL_SOCKET, SO_KEEPALIVE, std::string(4, '\1')});
}

TEST(ConnectionStateTest, EveryVisitedFieldCountsForEquality) {
  const ConnectionState base;
  std::vector<std::string> names;
  VisitFields(base,
              [&](const char* name, const auto&) { names.push_back(name); });
  ASSERT_EQ(names.size(), kConnectionStateFieldCount);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(),
            names.size())
      << "a field is listed twice";

  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    ConnectionState changed;
    size_t at = 0;
    VisitFields(changed, [&](const char*, auto& value) {
      if (at++ == i) Perturb(value);
    });
    EXPECT_FALSE(changed == base);
    EXPECT_TRUE(changed != base);
    const ConnectionState copy = changed;
    EXPECT_TRUE(copy == changed);
  }
}

TEST(ConnectionStateTest, VisitFieldsHandsOutTheMembers) {
  ConnectionState s;
  s.inq_seq = 1000;
  s.pending_error = 104;
  std::vector<const void*> addresses;
  VisitFields(
      s, [&](const char*, const auto& value) { addresses.push_back(&value); });
  ASSERT_EQ(addresses.size(), kConnectionStateFieldCount);
  EXPECT_EQ(addresses.front(), &s.state);
  EXPECT_EQ(addresses[3], &s.inq_seq);
  EXPECT_EQ(addresses.back(), &s.pending_error);
}

}  // namespace
}  // namespace soccr
