#include "soccr/unix/unix_socket.h"

#include <sys/socket.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace soccr {

int SockType(UnixType type) {
  switch (type) {
    case UnixType::kStream:
      return SOCK_STREAM;
    case UnixType::kDgram:
      return SOCK_DGRAM;
    case UnixType::kSeqpacket:
      return SOCK_SEQPACKET;
  }
  return -1;
}

absl::string_view UnixTypeName(UnixType type) {
  switch (type) {
    case UnixType::kStream:
      return "stream";
    case UnixType::kDgram:
      return "dgram";
    case UnixType::kSeqpacket:
      return "seqpacket";
  }
  return "unknown";
}

std::string UnixAddress::ToString() const {
  switch (kind) {
    case Kind::kUnnamed:
      return "(unnamed)";
    case Kind::kPath:
      return absl::CHexEscape(name);
    case Kind::kAbstract:
      return absl::StrCat("@", absl::CHexEscape(name));
  }
  return "(invalid)";
}

uint64_t UnixSocketState::QueuedBytes() const {
  uint64_t n = 0;
  for (const UnixMessage& m : queue) n += m.data.size();
  return n;
}

std::string UnixSocketState::Describe() const {
  std::string s =
      absl::StrCat("unix ", UnixTypeName(type), " ", local.ToString());
  if (state == State::kListening) {
    absl::StrAppend(&s, " (listening)");
  } else if (state == State::kConnected) {
    absl::StrAppend(&s, " -> ", peer.ToString());
  }
  return s;
}

}  // namespace soccr
