#include "soccr/image/section_decoder.h"

#include <arpa/inet.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace soccr::image_internal {

namespace fmt = image_format;

absl::Status RecordDecoder::Tcp(Bytes p, ConnectionState& s) const {
  if (absl::Status st = WantLength(fmt::kTagTcp, p, fmt::kTcpSectionLength);
      !st.ok()) {
    return st;
  }
  s.state = static_cast<TcpState>(p[0]);
  const uint8_t bits = p[1];
  constexpr uint8_t kKnown =
      fmt::kOptSack | fmt::kOptTimestamps | fmt::kOptWindowScaling;
  if ((bits & ~kKnown) != 0) {
    return Corrupt(where_, absl::StrFormat("section TCPS: unknown TCP option "
                                           "bits 0x%02x",
                                           bits & ~kKnown));
  }
  s.options.sack = (bits & fmt::kOptSack) != 0;
  s.options.timestamps = (bits & fmt::kOptTimestamps) != 0;
  s.options.window_scaling = (bits & fmt::kOptWindowScaling) != 0;
  s.options.snd_wscale = p[2];
  s.options.rcv_wscale = p[3];
  s.options.mss_clamp = fmt::Load32(&p[4]);
  s.inq_seq = fmt::Load32(&p[8]);
  s.inq_len = fmt::Load32(&p[12]);
  s.outq_seq = fmt::Load32(&p[16]);
  s.outq_len = fmt::Load32(&p[20]);
  s.unsent_len = fmt::Load32(&p[24]);
  s.timestamp = fmt::Load32(&p[28]);
  return absl::OkStatus();
}

absl::Status RecordDecoder::Address(Bytes p, absl::string_view which,
                                    SocketAddress& out) const {
  auto bad = [&](absl::string_view what) {
    return Corrupt(where_,
                   absl::StrCat("section ADDR: ", which, " address: ", what));
  };
  const uint8_t family = p[0];
  const uint16_t port = fmt::Load16(&p[2]);
  const uint32_t flowinfo = fmt::Load32(&p[4]);
  const uint32_t scope_id = fmt::Load32(&p[8]);
  if (p[1] != 0 || fmt::Load32(&p[12]) != 0) {
    return bad("reserved bytes are not zero");
  }
  switch (family) {
    case fmt::kFamilyNone:
      if (!AllZero(p)) return bad("no family, but other bytes are set");
      out = SocketAddress();
      return absl::OkStatus();
    case fmt::kFamilyV4: {
      if (flowinfo != 0 || scope_id != 0 || !AllZero(p.subspan(20, 12))) {
        return bad("IPv4 with IPv6-only bytes set");
      }
      uint32_t addr = 0;
      memcpy(&addr, &p[16], 4);
      out = SocketAddress::V4(ntohl(addr), port);
      return absl::OkStatus();
    }
    case fmt::kFamilyV6:
      out =
          SocketAddress::V6(p.subspan(16, 16), port, htonl(flowinfo), scope_id);
      return absl::OkStatus();
    default:
      return bad(absl::StrCat("family code ", family, " is not 0, 4 or 6"));
  }
}

absl::Status RecordDecoder::Buffers(Bytes p, ConnectionState& s) const {
  if (absl::Status st =
          WantLength(fmt::kTagBuffers, p, fmt::kBuffersSectionLength);
      !st.ok()) {
    return st;
  }
  const uint32_t locks = fmt::Load32(&p[8]);
  if ((locks & ~(fmt::kSndbufLocked | fmt::kRcvbufLocked)) != 0) {
    return Corrupt(
        where_, absl::StrFormat("section BUFS: unknown lock bits 0x%x", locks));
  }
  s.buffers = SocketBuffers{fmt::Load32(&p[0]), fmt::Load32(&p[4]),
                            (locks & fmt::kSndbufLocked) != 0,
                            (locks & fmt::kRcvbufLocked) != 0};
  return absl::OkStatus();
}

absl::Status RecordDecoder::SocketOptions(Bytes p, ConnectionState& s) {
  if (p.size() < 4) {
    return Corrupt(where_, absl::StrCat("section SOPT is ", p.size(),
                                        " bytes, too short for its count"));
  }
  const uint32_t count = fmt::Load32(&p[0]);
  // Each option takes at least its 12-byte header: a count beyond that is a
  // lie, caught before anything is reserved for it.
  if (count > (p.size() - 4) / fmt::kSockOptHeaderLength) {
    return Corrupt(where_, absl::StrCat("section SOPT claims ", count,
                                        " options in ", p.size(), " bytes"));
  }
  s.socket_options.reserve(count);
  size_t pos = 4;
  for (uint32_t i = 0; i < count; ++i) {
    if (p.size() - pos < fmt::kSockOptHeaderLength) {
      return Corrupt(where_,
                     absl::StrCat("section SOPT: option ", i, " is cut off"));
    }
    SocketOption o;
    o.level = static_cast<int32_t>(fmt::Load32(&p[pos]));
    o.name = static_cast<int32_t>(fmt::Load32(&p[pos + 4]));
    const uint32_t len = fmt::Load32(&p[pos + 8]);
    pos += fmt::kSockOptHeaderLength;
    if (len > p.size() - pos) {
      return Corrupt(where_, absl::StrCat("section SOPT: option ", i, " of ",
                                          len, " bytes runs past the section"));
    }
    // p.data() + pos, not &p[pos]: an empty last value sits at the end.
    o.value.assign(reinterpret_cast<const char*>(p.data() + pos), len);
    pos += len;
    // An option this reader does not know is optional by nature (a later
    // writer's table may have rows this one lacks): skipped, and reported.
    if (FindSocketOption(o.level, o.name) == nullptr) {
      skipped_.push_back(std::move(o));
      continue;
    }
    s.socket_options.push_back(std::move(o));
  }
  if (pos != p.size()) {
    return Corrupt(where_, absl::StrCat("section SOPT: ", p.size() - pos,
                                        " bytes after the last option"));
  }
  return absl::OkStatus();
}

absl::Status RecordDecoder::Section(uint32_t tag, uint32_t flags, Bytes p,
                                    ConnectionState& s) {
  const bool known = tag == fmt::kTagTcp || tag == fmt::kTagAddresses ||
                     tag == fmt::kTagWindow || tag == fmt::kTagBuffers ||
                     tag == fmt::kTagSockOpts || tag == fmt::kTagListen ||
                     tag == fmt::kTagError || tag == fmt::kTagRecvQueue ||
                     tag == fmt::kTagSendQueue;
  if (!known) {
    if ((flags & fmt::kSectionRequired) == 0) return absl::OkStatus();
    return absl::UnimplementedError(
        absl::StrCat(where_, "required section ", fmt::TagName(tag),
                     " is not one this reader knows (it reads format 1.",
                     fmt::kMinorVersion, "); a newer soccr wrote it"));
  }
  for (uint32_t t : seen_) {
    if (t == tag) {
      return Corrupt(where_, absl::StrCat("section ", fmt::TagName(tag),
                                          " appears twice"));
    }
  }
  seen_.push_back(tag);
  switch (tag) {
    case fmt::kTagTcp:
      return Tcp(p, s);
    case fmt::kTagAddresses:
      if (absl::Status st = WantLength(tag, p, fmt::kAddressesSectionLength);
          !st.ok()) {
        return st;
      }
      if (absl::Status st = Address(p.subspan(0, 32), "local", s.local);
          !st.ok()) {
        return st;
      }
      return Address(p.subspan(32, 32), "peer", s.peer);
    case fmt::kTagWindow:
      if (absl::Status st = WantLength(tag, p, fmt::kWindowSectionLength);
          !st.ok()) {
        return st;
      }
      s.window =
          TcpWindow{fmt::Load32(&p[0]), fmt::Load32(&p[4]), fmt::Load32(&p[8]),
                    fmt::Load32(&p[12]), fmt::Load32(&p[16])};
      return absl::OkStatus();
    case fmt::kTagBuffers:
      return Buffers(p, s);
    case fmt::kTagSockOpts:
      return SocketOptions(p, s);
    case fmt::kTagListen:
      if (absl::Status st = WantLength(tag, p, fmt::kListenSectionLength);
          !st.ok()) {
        return st;
      }
      s.listen_backlog = fmt::Load32(&p[0]);
      return absl::OkStatus();
    case fmt::kTagError:
      if (absl::Status st = WantLength(tag, p, fmt::kErrorSectionLength);
          !st.ok()) {
        return st;
      }
      s.pending_error = fmt::Load32(&p[0]);
      return absl::OkStatus();
    case fmt::kTagRecvQueue:
      s.recv_queue = Queue(p);
      return absl::OkStatus();
    case fmt::kTagSendQueue:
      s.send_queue = Queue(p);
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status RecordDecoder::Finish() const {
  for (uint32_t tag : {fmt::kTagTcp, fmt::kTagAddresses}) {
    bool found = false;
    for (uint32_t t : seen_) found = found || t == tag;
    if (!found) {
      return Corrupt(where_, absl::StrCat("the required section ",
                                          fmt::TagName(tag), " is missing"));
    }
  }
  return absl::OkStatus();
}

}  // namespace soccr::image_internal
