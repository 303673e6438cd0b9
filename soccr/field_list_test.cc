// VisitFields, FieldsEqual and FieldCount on a small struct of the kind the
// header's comment shows.

#include "soccr/field_list.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace soccr {
namespace {

struct Sample {
  int x = 0;
  std::string name;
  std::optional<int> maybe;
};

inline constexpr auto kSampleFields =
    std::make_tuple(Field{"x", &Sample::x}, Field{"name", &Sample::name},
                    Field{"maybe", &Sample::maybe});
constexpr const auto& FieldListOf(const Sample&) { return kSampleFields; }
static_assert(EveryMemberIsListed<Sample>());
static_assert(FieldCount<Sample>() == 3);

TEST(FieldListTest, VisitsEveryFieldInOrderByReference) {
  Sample s;
  std::vector<std::string> names;
  std::vector<const void*> addresses;
  VisitFields(s, [&](const char* name, const auto& value) {
    names.push_back(name);
    addresses.push_back(&value);
  });
  EXPECT_EQ(names, (std::vector<std::string>{"x", "name", "maybe"}));
  EXPECT_EQ(addresses, (std::vector<const void*>{&s.x, &s.name, &s.maybe}));
}

TEST(FieldListTest, VisitsMutably) {
  Sample s;
  VisitFields(s, [](const char*, auto& value) { value = {}; });
  int n = 0;
  VisitFields(s, [&](const char*, auto& value) {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, int>) {
      value = 7;
    }
    ++n;
  });
  EXPECT_EQ(n, 3);
  EXPECT_EQ(s.x, 7);
}

TEST(FieldListTest, FieldsEqualComparesEachField) {
  const Sample base;
  EXPECT_TRUE(FieldsEqual(base, base));
  Sample a = base;
  a.x = 1;
  EXPECT_FALSE(FieldsEqual(a, base));
  Sample b = base;
  b.name = "b";
  EXPECT_FALSE(FieldsEqual(b, base));
  Sample c = base;
  c.maybe = 0;  // engaged, even with the default's value
  EXPECT_FALSE(FieldsEqual(c, base));
}

}  // namespace
}  // namespace soccr
