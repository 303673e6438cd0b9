// soccr/testing/netns.h: the test fixture for socket tests.
//
// Every soccr test that touches a socket runs in a network namespace it
// created itself, with only `lo` up. Nothing needs root on the host, nothing
// reaches the host's network, and Bazel's sandbox (where TCP_REPAIR is
// otherwise refused) is no obstacle: inside its own user namespace the test
// holds CAP_NET_ADMIN over its own network namespace.
//
//   class MyTest : public soccr::testing::NetnsTest {};
//   TEST_F(MyTest, Works) { /* a fresh namespace, lo up */ }
//
// Tests whose binaries use threads must enter the user namespace while the
// process is still single-threaded: link `:netns_test_main` (it does so
// before any test runs), or call EnterPrivateNetns() first thing in main().

#ifndef SOCCR_TESTING_NETNS_H_
#define SOCCR_TESTING_NETNS_H_

#include "gtest/gtest.h"
#include "soccr/loopback/private_netns.h"  // IWYU pragma: export

namespace soccr::testing {

// Fixture: each test starts in a fresh private network namespace.
class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override;
};

}  // namespace soccr::testing

#endif  // SOCCR_TESTING_NETNS_H_
