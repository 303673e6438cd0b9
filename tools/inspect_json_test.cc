// `soccr inspect --json` shows every field of a connection: a state that
// differs from another in any one field (soccr/testing/perturbations.h,
// found from the field lists) gives another JSON object. Its exact text for
// the golden images is pinned by inspect_test.sh.

#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "soccr/field_list.h"
#include "soccr/testing/perturbations.h"
#include "tools/inspect.h"
#include "tools/json.h"

namespace soccr::tools {
namespace {

std::string Json(const ConnectionState& s) {
  JsonWriter j;
  JsonConnection(j, 0, s, {});
  return std::move(j).Take();
}

TEST(InspectJsonTest, EveryFieldShows) {
  for (const testing::NamedState& base : testing::PerturbationBases()) {
    SCOPED_TRACE(base.name);
    const std::string base_json = Json(base.state);
    for (const testing::Perturbation& p :
         testing::PerturbEachField(base.state)) {
      SCOPED_TRACE(p.field);
      EXPECT_NE(Json(p.state), base_json);
    }
  }
}

// The parts are written from their field lists: each field's name is a
// key, in list order.
TEST(InspectJsonTest, PartsAreWrittenFieldByField) {
  const ConnectionState full = testing::PerturbationBases().front().state;
  const std::string json = Json(full);
  size_t at = json.find("\"options\"");
  ASSERT_NE(at, std::string::npos);
  VisitFields(full.options, [&](const char* name, const auto&) {
    const size_t next = json.find(std::string("\"") + name + "\"", at);
    EXPECT_NE(next, std::string::npos) << name;
    at = next;
  });
  at = json.find("\"window\"");
  ASSERT_NE(at, std::string::npos);
  VisitFields(*full.window, [&](const char* name, const auto&) {
    const size_t next = json.find(std::string("\"") + name + "\"", at);
    EXPECT_NE(next, std::string::npos) << name;
    at = next;
  });
  at = json.find("\"buffers\"");
  ASSERT_NE(at, std::string::npos);
  VisitFields(*full.buffers, [&](const char* name, const auto&) {
    const size_t next = json.find(std::string("\"") + name + "\"", at);
    EXPECT_NE(next, std::string::npos) << name;
    at = next;
  });
}

}  // namespace
}  // namespace soccr::tools
