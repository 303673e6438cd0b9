// soccr/netaddr/rtnetlink.h: one rtnetlink request and its
// acknowledgement, through libmnl, in the current network namespace: what
// the address moves (netaddr.h) and the demo's simulated hosts
// (tools/host_lab.h) build their messages on.
//
//   char buf[MNL_SOCKET_BUFFER_SIZE];
//   nlmsghdr* nlh =
//       soccr::rtnetlink::PutHeader(buf, RTM_NEWLINK, NLM_F_CREATE);
//   mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg));
//   mnl_attr_put_strz(nlh, IFLA_IFNAME, "br0");
//   // ... IFLA_LINKINFO ...
//   soccr::rtnetlink::Outcome o = soccr::rtnetlink::Request(nlh);
//   return soccr::rtnetlink::ToStatus(o, "create bridge br0");

#ifndef SOCCR_NETADDR_RTNETLINK_H_
#define SOCCR_NETADDR_RTNETLINK_H_

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdint.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace soccr::rtnetlink {

// The header of a request of `type` at the start of `buf`, which holds
// MNL_SOCKET_BUFFER_SIZE bytes: flags NLM_F_REQUEST | NLM_F_ACK | `flags`,
// a sequence number set.
nlmsghdr* PutHeader(char* buf, uint16_t type, uint16_t flags);

// How a request went: `err` 0, or the errno of the call `step` that failed;
// `step` empty when the kernel refused the request (`err` is its answer).
struct Outcome {
  int err = 0;
  const char* step = "";
};

// Sends the request on a new NETLINK_ROUTE socket and waits for its
// acknowledgement.
[[nodiscard]] Outcome Request(nlmsghdr* nlh);

// OK, or the errno's status with "<what>: <step>" (or "<what>" alone for
// the kernel's refusal).
[[nodiscard]] absl::Status ToStatus(const Outcome& outcome,
                                    absl::string_view what);

}  // namespace soccr::rtnetlink

#endif  // SOCCR_NETADDR_RTNETLINK_H_
