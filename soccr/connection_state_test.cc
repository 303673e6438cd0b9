// VisitFields on a ConnectionState: it hands out the members themselves,
// under their names. That operator== tells each one-field change from its
// base is tested with the perturbations themselves, in
// soccr/testing/perturbations_test.cc.

#include "soccr/connection_state.h"

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

}  // namespace
}  // namespace soccr
