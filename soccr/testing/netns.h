// soccr/testing/netns.h: private user + network namespaces for socket tests.
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

#include <stdint.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace soccr::testing {

// Moves the calling thread into a fresh network namespace with `lo` up. The
// first call also creates a user namespace (mapping the caller's uid and gid
// to root in it), which needs the process to be single-threaded; later calls
// only create a new network namespace.
[[nodiscard]] absl::Status EnterPrivateNetns();

// Writes a sysctl of the current network namespace, e.g.
// SetSysctl("net/ipv4/tcp_wmem", "4096 16384 4194304").
[[nodiscard]] absl::Status SetSysctl(absl::string_view name,
                                     absl::string_view value);

// Sets the MTU of `lo` in the current network namespace (65536 by default).
[[nodiscard]] absl::Status SetLoopbackMtu(int mtu);

// Raises tcp_rmem/tcp_wmem so that new sockets start with buffers of
// `initial_bytes` and may autotune up to `max_bytes`. A private namespace has
// no CAP_NET_ADMIN in the initial user namespace, so SO_*BUFFORCE is refused;
// this is how a test holds tens of MiB in one queue.
[[nodiscard]] absl::Status RaiseTcpBuffers(int64_t initial_bytes,
                                           int64_t max_bytes);

// Fixture: each test starts in a fresh private network namespace.
class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override;
};

}  // namespace soccr::testing

#endif  // SOCCR_TESTING_NETNS_H_
