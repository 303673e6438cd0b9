#include "soccr/repair_helper/protocol.h"

#include <string.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"

namespace soccr::repair_helper {

bool IsCommand(int8_t command) {
  return command == kCommandOn || command == kCommandOff ||
         command == kCommandOffNoWindowProbe;
}

ParsedRequest ParseRequest(absl::Span<const uint8_t> data,
                           absl::Span<const uint8_t> control, int msg_flags) {
  ParsedRequest out;
  // First collect every descriptor, so that a refusal still closes them.
  // The walk mirrors CMSG_FIRSTHDR/CMSG_NXTHDR but copies each header out
  // (the buffer may be unaligned here) and checks every length against what
  // is really there before using it.
  int rights_messages = 0;
  bool partial_fd = false;
  bool bad_header = false;
  bool foreign = false;
  bool bad_fd = false;
  size_t offset = 0;
  while (offset < control.size()) {
    if (control.size() - offset < sizeof(struct cmsghdr)) {
      bad_header = true;  // a header cut short
      break;
    }
    struct cmsghdr hdr;
    memcpy(&hdr, control.data() + offset, sizeof(hdr));
    const size_t left = control.size() - offset;
    if (hdr.cmsg_len < CMSG_LEN(0) || hdr.cmsg_len > left) {
      bad_header = true;  // would read before its payload or past the end
      break;
    }
    const size_t payload = hdr.cmsg_len - CMSG_LEN(0);
    if (hdr.cmsg_level == SOL_SOCKET && hdr.cmsg_type == SCM_RIGHTS) {
      ++rights_messages;
      if (payload % sizeof(int) != 0) partial_fd = true;
      const uint8_t* p = control.data() + offset + CMSG_LEN(0);
      for (size_t i = 0; i + sizeof(int) <= payload; i += sizeof(int)) {
        int fd;
        memcpy(&fd, p + i, sizeof(fd));
        if (fd < 0) {
          bad_fd = true;  // nothing to close
          continue;
        }
        out.fds.push_back(fd);
      }
    } else {
      foreign = true;  // SCM_CREDENTIALS and the like: not ours to accept
    }
    // The next header starts at the aligned end of this one.
    const size_t step = CMSG_ALIGN(hdr.cmsg_len);
    if (step >= left) break;
    offset += step;
  }

  // A repeated number would be closed twice (the second time perhaps
  // someone else's descriptor): keep one of each.
  {
    std::vector<int> sorted = out.fds;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      bad_fd = true;
      sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
      out.fds = std::move(sorted);
    }
  }

  auto refuse = [&](const std::string& why) {
    out.status = absl::InvalidArgumentError(why);
    return out;
  };
  if (data.size() != 1) {
    return refuse(absl::StrFormat("a request is one command byte, got %d bytes",
                                  data.size()));
  }
  out.command = static_cast<int8_t>(data[0]);
  if (!IsCommand(out.command)) {
    return refuse(absl::StrFormat(
        "unknown command byte %d (1: repair on, 0: off, -1: off without "
        "window probe)",
        out.command));
  }
  if ((msg_flags & MSG_CTRUNC) != 0) {
    return refuse(absl::StrFormat(
        "control data truncated (MSG_CTRUNC): more than %d descriptors or "
        "other control messages",
        kMaxFds));
  }
  if ((msg_flags & MSG_TRUNC) != 0) {
    return refuse("message truncated (MSG_TRUNC)");
  }
  if (bad_header) return refuse("malformed control message header");
  if (foreign) return refuse("control message other than SCM_RIGHTS");
  if (rights_messages == 0) {
    return refuse("no descriptors (a request carries 1 to 253 as SCM_RIGHTS)");
  }
  if (rights_messages > 1) return refuse("more than one SCM_RIGHTS message");
  if (partial_fd) return refuse("SCM_RIGHTS payload is not whole descriptors");
  if (bad_fd) return refuse("negative or repeated descriptor number");
  if (out.fds.empty()) {
    return refuse("no descriptors (a request carries 1 to 253 as SCM_RIGHTS)");
  }
  if (out.fds.size() > static_cast<size_t>(kMaxFds)) {
    return refuse(absl::StrFormat("%d descriptors, at most %d per request",
                                  out.fds.size(), kMaxFds));
  }
  return out;
}

}  // namespace soccr::repair_helper
