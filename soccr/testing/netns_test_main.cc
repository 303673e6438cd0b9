// A gtest main that enters a private user namespace before anything can
// start a thread. Tests then get a fresh network namespace per test from
// soccr::testing::NetnsTest.

#include <stdio.h>

#include "gtest/gtest.h"
#include "soccr/testing/netns.h"

int main(int argc, char** argv) {
  if (absl::Status s = soccr::loopback::EnterPrivateNetns(); !s.ok()) {
    fprintf(stderr, "cannot enter a private network namespace: %s\n",
            s.ToString().c_str());
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
