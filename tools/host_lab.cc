#include "tools/host_lab.h"

// <net/if.h> before any Linux uapi header: it makes them leave out their
// own copies of its definitions.
#include <net/if.h>
// clang-format off
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
// clang-format on
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "soccr/internal/status_code.h"
#include "soccr/netaddr/rtnetlink.h"
#include "soccr/status_macros.h"

namespace soccr::tools {
namespace {

// One RTM_NEWLINK with its acknowledgement; `build` fills the message
// after the header. Errors name `what` and the kernel's errno.
template <typename Build>
absl::Status LinkRequest(uint16_t flags, absl::string_view what, Build build) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = rtnetlink::PutHeader(buf, RTM_NEWLINK, flags);
  auto* ifi = static_cast<ifinfomsg*>(
      mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  build(nlh, ifi);
  return rtnetlink::ToStatus(rtnetlink::Request(nlh),
                             absl::StrCat(what, " (RTM_NEWLINK)"));
}

absl::StatusOr<int> Index(absl::string_view dev) {
  const std::string name(dev);
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) {
    return internal::ErrnoStatus(errno, absl::StrCat("if_nametoindex ", name));
  }
  return static_cast<int>(index);
}

// Sets `dev` up, and with `master` > 0 makes it a port of that bridge.
absl::Status LinkUp(absl::string_view dev, int master = 0) {
  absl::StatusOr<int> index = Index(dev);
  if (!index.ok()) return index.status();
  return LinkRequest(
      0, absl::StrCat("set ", dev, " up"), [&](nlmsghdr* nlh, ifinfomsg* ifi) {
        ifi->ifi_index = *index;
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        if (master > 0) {
          mnl_attr_put_u32(nlh, IFLA_MASTER, static_cast<uint32_t>(master));
        }
      });
}

absl::StatusOr<OwnedFd> CurrentNetns() {
  OwnedFd fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return internal::ErrnoStatus(errno, "open /proc/thread-self/ns/net");
  }
  return fd;
}

// A new network namespace, without entering it.
absl::StatusOr<OwnedFd> NewNetns() {
  absl::StatusOr<OwnedFd> here = CurrentNetns();
  if (!here.ok()) return here.status();
  if (::unshare(CLONE_NEWNET) != 0) {
    return internal::ErrnoStatus(errno, "unshare(CLONE_NEWNET)");
  }
  absl::StatusOr<OwnedFd> made = CurrentNetns();
  // Back whatever happened: the caller's thread stays where it was.
  if (::setns(here->get(), CLONE_NEWNET) != 0) {
    return internal::ErrnoStatus(errno, "setns back to the lab's namespace");
  }
  return made;
}

}  // namespace

absl::Status CreateBridge(absl::string_view name) {
  const std::string n(name);
  SOCCR_RETURN_IF_ERROR(
      LinkRequest(NLM_F_CREATE | NLM_F_EXCL, absl::StrCat("create bridge ", n),
                  [&](nlmsghdr* nlh, ifinfomsg*) {
                    mnl_attr_put_strz(nlh, IFLA_IFNAME, n.c_str());
                    nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
                    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
                    mnl_attr_nest_end(nlh, info);
                  }));
  return LinkUp(n);
}

absl::Status EnterNetns(BorrowedFd netns) {
  if (::setns(netns.get(), CLONE_NEWNET) != 0) {
    return internal::ErrnoStatus(errno, "setns(CLONE_NEWNET)");
  }
  return absl::OkStatus();
}

absl::StatusOr<OwnedFd> AddHost(
    absl::string_view name, absl::string_view bridge,
    const std::vector<InterfaceAddress>& addresses) {
  absl::StatusOr<int> bridge_index = Index(bridge);
  if (!bridge_index.ok()) return bridge_index.status();
  absl::StatusOr<OwnedFd> netns = NewNetns();
  if (!netns.ok()) return netns.status();
  const std::string near = absl::StrCat(name, "-br");
  const int netns_fd = netns->get();
  // The veth pair, its far end created straight in the host's namespace.
  SOCCR_RETURN_IF_ERROR(LinkRequest(
      NLM_F_CREATE | NLM_F_EXCL,
      absl::StrCat("create veth ", near, " (eth0 of ", name, ")"),
      [&](nlmsghdr* nlh, ifinfomsg*) {
        mnl_attr_put_strz(nlh, IFLA_IFNAME, near.c_str());
        nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        // VETH_INFO_PEER holds an ifinfomsg, then the peer's attributes.
        void* peer_ifi = mnl_nlmsg_get_payload_tail(nlh);
        memset(peer_ifi, 0, MNL_ALIGN(sizeof(ifinfomsg)));
        nlh->nlmsg_len += MNL_ALIGN(sizeof(ifinfomsg));
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(netns_fd));
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
      }));
  SOCCR_RETURN_IF_ERROR(LinkUp(near, *bridge_index));

  absl::StatusOr<OwnedFd> lab = CurrentNetns();
  if (!lab.ok()) return lab.status();
  SOCCR_RETURN_IF_ERROR(EnterNetns(netns->borrow()));
  absl::Status s = LinkUp("lo");
  if (s.ok()) s = LinkUp("eth0");
  for (const InterfaceAddress& a : addresses) {
    if (s.ok()) s = AddAddress(a, "eth0");
  }
  if (absl::Status back = EnterNetns(lab->borrow()); !back.ok()) return back;
  if (!s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("host ", name, ": ", s.message()));
  }
  return netns;
}

}  // namespace soccr::tools
