// A gtest main for tests that run without CAP_NET_ADMIN, with a repair
// helper that has it (see unprivileged.h).

#include <stdio.h>

#include "gtest/gtest.h"
#include "soccr/repair_helper/testing/unprivileged.h"

int main(int argc, char** argv) {
  const absl::Status s =
      soccr::repair_helper::testing::EnterUnprivilegedWithHelper();
  if (!s.ok()) {
    fprintf(stderr, "cannot set up the unprivileged test: %s\n",
            s.ToString().c_str());
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  const std::string log = soccr::repair_helper::testing::HelperLog();
  const int helper = soccr::repair_helper::testing::StopHelper();
  if (!log.empty()) fprintf(stderr, "the helper's log:\n%s", log.c_str());
  if (helper != 0) {
    fprintf(stderr, "the helper exited with %d\n", helper);
    return 1;
  }
  return result;
}
