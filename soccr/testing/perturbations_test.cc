// The perturbations differ from their base in the one member they name,
// and ConnectionState's operator== (with those of its parts) tells each
// from the base.

#include "soccr/testing/perturbations.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "soccr/field_list.h"

namespace soccr::testing {
namespace {

// Names of the members of `a` whose value differs in `b` (each compared
// with its own operator==).
std::vector<std::string> DifferingMembers(const ConnectionState& a,
                                          const ConnectionState& b) {
  std::vector<std::string> names;
  std::apply(
      [&](const auto&... field) {
        ((a.*field.member == b.*field.member ? void()
                                             : names.push_back(field.name)),
         ...);
      },
      kConnectionStateFields);
  return names;
}

TEST(PerturbationsTest, EachDiffersInItsMemberOnlyAndOperatorEqualsSeesIt) {
  for (const NamedState& base : PerturbationBases()) {
    SCOPED_TRACE(base.name);
    for (const Perturbation& p : PerturbEachField(base.state)) {
      SCOPED_TRACE(p.field);
      EXPECT_FALSE(p.state == base.state);
      EXPECT_TRUE(p.state != base.state);
      EXPECT_EQ(DifferingMembers(base.state, p.state),
                std::vector<std::string>{p.member});
      const ConnectionState copy = p.state;
      EXPECT_TRUE(copy == p.state);
    }
  }
}

// The sub-structs' own operator== (generated from their field lists) sees
// a change in each of their fields.
TEST(PerturbationsTest, PartsCompareEveryField) {
  const ConnectionState base = PerturbationBases().front().state;
  int options = 0, window = 0, buffers = 0;
  for (const Perturbation& p : PerturbEachField(base)) {
    SCOPED_TRACE(p.field);
    if (p.field.rfind("options.", 0) == 0) {
      ++options;
      EXPECT_FALSE(p.state.options == base.options);
      EXPECT_TRUE(p.state.options != base.options);
    } else if (p.field.rfind("window.", 0) == 0) {
      ++window;
      EXPECT_FALSE(*p.state.window == *base.window);
      EXPECT_TRUE(*p.state.window != *base.window);
    } else if (p.field.rfind("buffers.", 0) == 0) {
      ++buffers;
      EXPECT_FALSE(*p.state.buffers == *base.buffers);
      EXPECT_TRUE(*p.state.buffers != *base.buffers);
    }
  }
  EXPECT_EQ(options, static_cast<int>(FieldCount<TcpOptions>()));
  EXPECT_EQ(window, static_cast<int>(FieldCount<TcpWindow>()));
  EXPECT_EQ(buffers, static_cast<int>(FieldCount<SocketBuffers>()));
}

// Every member is perturbed, in every base, and the recursion reaches
// into the optionals when they are present.
TEST(PerturbationsTest, CoversEveryMember) {
  std::vector<std::string> all;
  const ConnectionState any;
  VisitFields(any, [&](const char* name, const auto&) { all.push_back(name); });
  for (const NamedState& base : PerturbationBases()) {
    SCOPED_TRACE(base.name);
    std::set<std::string> members, fields;
    for (const Perturbation& p : PerturbEachField(base.state)) {
      members.insert(p.member);
      EXPECT_TRUE(fields.insert(p.field).second) << p.field << " twice";
    }
    EXPECT_EQ(members, std::set<std::string>(all.begin(), all.end()));
  }
  const ConnectionState full = PerturbationBases().front().state;
  ASSERT_TRUE(full.window.has_value() && full.buffers.has_value());
  std::set<std::string> fields;
  for (const Perturbation& p : PerturbEachField(full)) fields.insert(p.field);
  for (const char* f :
       {"state", "local", "options.sack", "options.mss_clamp",
        "window (absent)", "window.snd_wl1", "window.rcv_wup",
        "buffers (absent)", "buffers.rcvbuf_locked", "socket_options[0].value",
        "socket_options (one fewer)", "pending_error"}) {
    EXPECT_EQ(fields.count(f), 1u) << f;
  }
}

}  // namespace
}  // namespace soccr::testing
