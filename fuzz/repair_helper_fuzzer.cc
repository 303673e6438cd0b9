// The repair helper's request parser (soccr/repair_helper/protocol.h), fed
// what a hostile client could make recvmsg() return: any command bytes, any
// control data, any flags.
//
// Input: byte 0 holds the flags (bit 0 MSG_CTRUNC, bit 1 MSG_TRUNC) and the
// number of data bytes (bits 2-3); those bytes follow; the rest is the
// control buffer, as msg_control with msg_controllen its length.
//
// Properties: the descriptors reported (which the helper closes) are
// distinct, non-negative and really in the buffer; an accepted request has
// a valid command and 1..253 descriptors, none of it with MSG_CTRUNC, and
// reads back the same when laid out again the way the kernel does.

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "soccr/repair_helper/protocol.h"

namespace {

using soccr::repair_helper::ParsedRequest;
using soccr::repair_helper::ParseRequest;

bool InBuffer(int fd, const uint8_t* p, size_t n) {
  for (size_t i = 0; i + sizeof(int) <= n; ++i) {
    int v;
    memcpy(&v, p + i, sizeof(v));
    if (v == fd) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int flags =
      ((data[0] & 1) ? MSG_CTRUNC : 0) | ((data[0] & 2) ? MSG_TRUNC : 0);
  const size_t data_len = std::min<size_t>((data[0] >> 2) & 3, size - 1);
  const absl::Span<const uint8_t> bytes(data + 1, data_len);
  const absl::Span<const uint8_t> control(data + 1 + data_len,
                                          size - 1 - data_len);
  const ParsedRequest r = ParseRequest(bytes, control, flags);

  std::set<int> seen;
  for (int fd : r.fds) {
    SOCCR_FUZZ_CHECK(fd >= 0) << fd;
    SOCCR_FUZZ_CHECK(seen.insert(fd).second) << "repeated " << fd;
    SOCCR_FUZZ_CHECK(InBuffer(fd, control.data(), control.size())) << fd;
  }
  if (!r.status.ok()) return 0;
  SOCCR_FUZZ_CHECK(soccr::repair_helper::IsCommand(r.command)) << r.command;
  SOCCR_FUZZ_CHECK(data_len == 1 && static_cast<int8_t>(bytes[0]) == r.command);
  SOCCR_FUZZ_CHECK((flags & (MSG_CTRUNC | MSG_TRUNC)) == 0);
  SOCCR_FUZZ_CHECK(!r.fds.empty() &&
                   r.fds.size() <=
                       static_cast<size_t>(soccr::repair_helper::kMaxFds))
      << r.fds.size();

  // Laid out again as the kernel delivers it: the same request.
  std::vector<uint8_t> again(CMSG_SPACE(sizeof(int) * r.fds.size()), 0);
  struct cmsghdr hdr = {};
  hdr.cmsg_len = CMSG_LEN(sizeof(int) * r.fds.size());
  hdr.cmsg_level = SOL_SOCKET;
  hdr.cmsg_type = SCM_RIGHTS;
  memcpy(again.data(), &hdr, sizeof(hdr));
  memcpy(again.data() + CMSG_LEN(0), r.fds.data(), sizeof(int) * r.fds.size());
  const ParsedRequest r2 = ParseRequest(bytes, again, 0);
  SOCCR_FUZZ_CHECK(r2.status.ok()) << r2.status.ToString();
  SOCCR_FUZZ_CHECK(r2.command == r.command && r2.fds == r.fds);
  return 0;
}
