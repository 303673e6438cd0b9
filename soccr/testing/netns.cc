#include "soccr/testing/netns.h"

namespace soccr::testing {

void NetnsTest::SetUp() {
  const absl::Status s = loopback::EnterPrivateNetns();
  ASSERT_TRUE(s.ok()) << s;
}

}  // namespace soccr::testing
