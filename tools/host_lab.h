// tools/host_lab.h: simulated hosts for `soccr demo --hosts`: network
// namespaces whose eth0 is the far end of a veth pair, the near ends on one
// bridge in the current network namespace.
//
//   absl::Status s = soccr::tools::CreateBridge("br0");
//   absl::StatusOr<soccr::OwnedFd> src = soccr::tools::AddHost(
//       "src", "br0", {*soccr::InterfaceAddress::Parse("192.0.2.1/24")});
//   if (src.ok()) s = soccr::tools::EnterNetns(src->borrow());
//
// Everything goes through rtnetlink (libmnl) and setns(2), never through
// `ip`, so a fresh machine without iproute2 can run it. Call it inside a
// user and network namespace of the process's own (EnterPrivateNetns):
// creating namespaces and links needs CAP_SYS_ADMIN and CAP_NET_ADMIN over
// them, and nothing on the host is touched. A host lives as long as a
// descriptor of its namespace or a process in it.

#ifndef SOCCR_TOOLS_HOST_LAB_H_
#define SOCCR_TOOLS_HOST_LAB_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "soccr/fd.h"
#include "soccr/netaddr/netaddr.h"

namespace soccr::tools {

// A bridge named `name` in the current network namespace, up.
[[nodiscard]] absl::Status CreateBridge(absl::string_view name);

// A new network namespace with lo up and eth0 up with `addresses` (the
// first one becomes the primary address of its subnet: the source address
// of the host's own connections), eth0 being the far end of a veth pair
// whose near end, "NAME-br", is up on `bridge`. Returns the namespace.
// The calling thread stays in its namespace.
[[nodiscard]] absl::StatusOr<OwnedFd> AddHost(
    absl::string_view name, absl::string_view bridge,
    const std::vector<InterfaceAddress>& addresses);

// Moves the calling thread into the network namespace `netns`.
[[nodiscard]] absl::Status EnterNetns(BorrowedFd netns);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_HOST_LAB_H_
