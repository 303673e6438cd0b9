// Unix socket records: encoding and decoding of the UNIX, UNAM and UMSG
// sections (docs/image-format.md, "Unix socket records"), in the image
// container of soccr/image.

#include "soccr/unix/image.h"

#include <errno.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "soccr/image/format.h"
#include "soccr/image/read_error.h"
#include "soccr/image/record_layout.h"
#include "soccr/internal/status_code.h"
#include "soccr/status_macros.h"

namespace soccr {
namespace {

namespace fmt = image_format;
using image_internal::Bytes;
using image_internal::Corrupt;

constexpr uint32_t kTagUnix = fmt::Tag("UNIX");
constexpr uint32_t kTagNames = fmt::Tag("UNAM");
constexpr uint32_t kTagMessages = fmt::Tag("UMSG");
constexpr size_t kUnixSectionLength = 40;
constexpr size_t kNameHeaderLength = 4;     // kind, reserved, length
constexpr size_t kMessageHeaderLength = 8;  // length, flags
constexpr size_t kCredentialsLength = 12;   // pid, uid, gid

// UNIX flag bits.
constexpr uint8_t kShutdownReceive = 1;
constexpr uint8_t kShutdownSend = 2;
constexpr uint8_t kPassCredentials = 4;
constexpr uint8_t kPassSecurity = 8;
constexpr uint8_t kKnownFlags = 15;
// UMSG message flag bits.
constexpr uint32_t kHasCredentials = 1;

std::string Names(const UnixSocketState& s) {
  std::string out;
  fmt::ByteWriter w(&out);
  for (const UnixAddress* a : {&s.local, &s.peer}) {
    w.U8(static_cast<uint8_t>(a->kind));
    w.U8(0);
    w.U16(static_cast<uint16_t>(a->name.size()));
    w.Bytes(a->name);
  }
  return out;
}

std::string Messages(const UnixSocketState& s) {
  std::string out;
  fmt::ByteWriter w(&out);
  for (const UnixMessage& m : s.queue) {
    w.U32(static_cast<uint32_t>(m.data.size()));
    w.U32(m.credentials ? kHasCredentials : 0);
    if (m.credentials) {
      w.U32(static_cast<uint32_t>(m.credentials->pid));
      w.U32(m.credentials->uid);
      w.U32(m.credentials->gid);
    }
    w.Bytes(m.data);
  }
  return out;
}

std::string UnixSection(const UnixSocketState& s) {
  std::string out;
  fmt::ByteWriter w(&out);
  w.U8(static_cast<uint8_t>(s.type));
  w.U8(static_cast<uint8_t>(s.state));
  w.U8((s.shutdown_receive ? kShutdownReceive : 0) |
       (s.shutdown_send ? kShutdownSend : 0) |
       (s.pass_credentials ? kPassCredentials : 0) |
       (s.pass_security ? kPassSecurity : 0));
  w.U8(0);
  w.U32(static_cast<uint32_t>(s.send_buffer));
  w.U32(static_cast<uint32_t>(s.receive_buffer));
  w.U32(static_cast<uint32_t>(s.peek_offset));
  w.U32(s.backlog);
  w.U32(static_cast<uint32_t>(s.queue.size()));
  w.U64(s.inode);
  w.U64(s.peer_inode);
  return out;
}

std::string Record(const UnixSocketState& s) {
  struct Section {
    uint32_t tag;
    std::string payload;
  };
  std::vector<Section> sections;
  sections.push_back({kTagUnix, UnixSection(s)});
  sections.push_back({kTagNames, Names(s)});
  if (!s.queue.empty()) sections.push_back({kTagMessages, Messages(s)});
  std::string out;
  fmt::ByteWriter w(&out);
  w.Bytes(absl::string_view(fmt::kRecordMagic, 4));
  w.U32(static_cast<uint32_t>(sections.size()));
  uint64_t offset =
      fmt::kRecordHeaderLength + fmt::kSectionEntryLength * sections.size();
  for (const Section& sec : sections) {
    w.U32(sec.tag);
    w.U32(fmt::kSectionRequired);
    w.U64(offset);
    w.U64(sec.payload.size());
    offset = fmt::AlignUp(offset + sec.payload.size());
  }
  for (const Section& sec : sections) {
    w.Bytes(sec.payload);
    w.Pad();
  }
  return out;
}

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, what));
}

absl::Status ValidateName(const UnixAddress& a, absl::string_view which,
                          absl::string_view where) {
  switch (a.kind) {
    case UnixAddress::Kind::kUnnamed:
      if (!a.name.empty()) {
        return Invalid(where, absl::StrCat(which,
                                           ": an unnamed address has "
                                           "a name"));
      }
      return absl::OkStatus();
    case UnixAddress::Kind::kPath:
      // The kernel reads a path up to its NUL and refuses longer ones
      // (EINVAL): a path with a NUL or beyond 107 bytes names no socket.
      if (a.name.empty() || a.name.size() > kMaxUnixPathLength ||
          a.name.find('\0') != std::string::npos) {
        return Invalid(where,
                       absl::StrCat(which, ": path of ", a.name.size(),
                                    " bytes is empty, longer than ",
                                    kMaxUnixPathLength, " or holds a NUL"));
      }
      return absl::OkStatus();
    case UnixAddress::Kind::kAbstract:
      if (a.name.size() > kMaxUnixAbstractLength) {
        return Invalid(
            where,
            absl::StrCat(which, ": abstract name of ", a.name.size(),
                         " bytes is longer than ", kMaxUnixAbstractLength));
      }
      return absl::OkStatus();
  }
  return Invalid(where, absl::StrCat(which, ": unknown address kind ",
                                     static_cast<int>(a.kind)));
}

absl::Status Validate(const UnixSocketState& s, absl::string_view where) {
  if (s.type != UnixType::kStream && s.type != UnixType::kDgram &&
      s.type != UnixType::kSeqpacket) {
    return Invalid(
        where, absl::StrCat("unknown socket type ", static_cast<int>(s.type)));
  }
  if (s.state != UnixSocketState::State::kUnconnected &&
      s.state != UnixSocketState::State::kListening &&
      s.state != UnixSocketState::State::kConnected) {
    return Invalid(where,
                   absl::StrCat("unknown state ", static_cast<int>(s.state)));
  }
  SOCCR_RETURN_IF_ERROR(ValidateName(s.local, "local address", where));
  SOCCR_RETURN_IF_ERROR(ValidateName(s.peer, "peer address", where));
  if (s.peek_offset < -1) {
    return Invalid(where, absl::StrCat("peek offset ", s.peek_offset,
                                       " (SO_PEEK_OFF is -1 or more)"));
  }
  if (s.send_buffer < 0 || s.receive_buffer < 0) {
    return Invalid(where, "negative buffer size");
  }
  const bool listening = s.state == UnixSocketState::State::kListening;
  // A listener has no receive queue of data (only connections), and only
  // a listener has a backlog; a dgram socket never listens (EOPNOTSUPP).
  if (listening && (!s.queue.empty() || s.type == UnixType::kDgram)) {
    return Invalid(where, "a listener with queued messages, or a dgram one");
  }
  if (!listening && s.backlog != 0) {
    return Invalid(where, "a backlog on a socket that does not listen");
  }
  for (size_t i = 0; i < s.queue.size(); ++i) {
    // A stream carries bytes, never an empty message.
    if (s.type == UnixType::kStream && s.queue[i].data.empty()) {
      return Invalid(where, absl::StrCat("message ", i,
                                         " of a stream socket's queue is "
                                         "empty"));
    }
    // Each message's length is a u32 in the image.
    if (s.queue[i].data.size() > UINT32_MAX) {
      return Invalid(where, absl::StrCat("message ", i, " exceeds 4 GiB"));
    }
  }
  return absl::OkStatus();
}

// Decodes one record's sections into `s`.
class Decoder {
 public:
  explicit Decoder(std::string where) : where_(std::move(where)) {}

  absl::Status Section(uint32_t tag, uint32_t flags, Bytes p) {
    if ((flags & ~fmt::kKnownSectionFlags) != 0) {
      return absl::UnimplementedError(absl::StrCat(
          where_, "section ", fmt::TagName(tag), " has unknown flags ",
          flags & ~fmt::kKnownSectionFlags));
    }
    const bool known =
        tag == kTagUnix || tag == kTagNames || tag == kTagMessages;
    if (!known) {
      if ((flags & fmt::kSectionRequired) == 0) return absl::OkStatus();
      return absl::UnimplementedError(absl::StrCat(
          where_, "required section ", fmt::TagName(tag),
          " is not one this reader of unix socket records knows (format 1.",
          kUnixImageMinorVersion, ")"));
    }
    for (uint32_t t : seen_) {
      if (t == tag) {
        return Corrupt(where_, absl::StrCat("section ", fmt::TagName(tag),
                                            " appears twice"));
      }
    }
    seen_.push_back(tag);
    if (tag == kTagUnix) return Unix(p);
    if (tag == kTagNames) return Names(p);
    return Messages(p);
  }

  absl::StatusOr<UnixSocketState> Finish() {
    if (!has(kTagUnix) || !has(kTagNames)) {
      return Corrupt(where_,
                     "a unix socket record needs sections UNIX and "
                     "UNAM");
    }
    // UMSG must come after UNIX (it needs the count); the writer's order.
    if (message_count_ != 0 && !has(kTagMessages)) {
      return Corrupt(where_, absl::StrCat("UNIX counts ", message_count_,
                                          " messages but there is no UMSG"));
    }
    SOCCR_RETURN_IF_ERROR(Validate(s_, where_));
    return std::move(s_);
  }

 private:
  bool has(uint32_t tag) const {
    for (uint32_t t : seen_) {
      if (t == tag) return true;
    }
    return false;
  }

  absl::Status Unix(Bytes p) {
    if (p.size() != kUnixSectionLength) {
      return Corrupt(where_, absl::StrCat("section UNIX is ", p.size(),
                                          " bytes, want ", kUnixSectionLength));
    }
    const uint8_t type = p[0];
    if (type != 1 && type != 2 && type != 5) {
      return Corrupt(where_, absl::StrCat("UNIX: socket type ", type,
                                          " (1 stream, 2 dgram, 5 "
                                          "seqpacket)"));
    }
    if (p[1] > 2) {
      return Corrupt(where_, absl::StrCat("UNIX: state ", p[1]));
    }
    if ((p[2] & ~kKnownFlags) != 0 || p[3] != 0) {
      return Corrupt(where_, "UNIX: unknown flag bits or reserved byte set");
    }
    s_.type = static_cast<UnixType>(type);
    s_.state = static_cast<UnixSocketState::State>(p[1]);
    s_.shutdown_receive = (p[2] & kShutdownReceive) != 0;
    s_.shutdown_send = (p[2] & kShutdownSend) != 0;
    s_.pass_credentials = (p[2] & kPassCredentials) != 0;
    s_.pass_security = (p[2] & kPassSecurity) != 0;
    s_.send_buffer = static_cast<int32_t>(fmt::Load32(&p[4]));
    s_.receive_buffer = static_cast<int32_t>(fmt::Load32(&p[8]));
    s_.peek_offset = static_cast<int32_t>(fmt::Load32(&p[12]));
    s_.backlog = fmt::Load32(&p[16]);
    message_count_ = fmt::Load32(&p[20]);
    s_.inode = fmt::Load64(&p[24]);
    s_.peer_inode = fmt::Load64(&p[32]);
    return absl::OkStatus();
  }

  absl::Status Names(Bytes p) {
    size_t at = 0;
    for (UnixAddress* a : {&s_.local, &s_.peer}) {
      if (p.size() - at < kNameHeaderLength) {
        return Corrupt(where_, "UNAM: truncated name header");
      }
      const uint8_t kind = p[at];
      const uint16_t len = fmt::Load16(&p[at + 2]);
      if (kind > 2 || p[at + 1] != 0) {
        return Corrupt(where_, absl::StrCat("UNAM: name kind ", kind,
                                            " or reserved byte set"));
      }
      at += kNameHeaderLength;
      if (len > p.size() - at) {
        return Corrupt(where_, absl::StrCat("UNAM: name of ", len,
                                            " bytes extends past the "
                                            "section (",
                                            p.size(), " bytes)"));
      }
      a->kind = static_cast<UnixAddress::Kind>(kind);
      a->name.assign(reinterpret_cast<const char*>(p.data() + at), len);
      at += len;
    }
    if (at != p.size()) {
      return Corrupt(where_, absl::StrCat("UNAM: ", p.size() - at,
                                          " bytes follow the names"));
    }
    return absl::OkStatus();
  }

  absl::Status Messages(Bytes p) {
    if (!has(kTagUnix)) {
      return Corrupt(where_, "UMSG comes before UNIX");
    }
    // Each message takes at least its 8-byte header: a count beyond what
    // the section could hold is refused before anything is allocated.
    if (message_count_ > p.size() / kMessageHeaderLength) {
      return Corrupt(
          where_, absl::StrCat("UMSG: ", message_count_,
                               " messages cannot fit in ", p.size(), " bytes"));
    }
    s_.queue.reserve(message_count_);
    size_t at = 0;
    for (uint32_t i = 0; i < message_count_; ++i) {
      if (p.size() - at < kMessageHeaderLength) {
        return Corrupt(where_,
                       absl::StrCat("UMSG: message ", i, " header truncated"));
      }
      const uint32_t len = fmt::Load32(&p[at]);
      const uint32_t flags = fmt::Load32(&p[at + 4]);
      at += kMessageHeaderLength;
      if ((flags & ~kHasCredentials) != 0) {
        return Corrupt(where_, absl::StrCat("UMSG: message ", i,
                                            " has unknown flags ", flags));
      }
      UnixMessage m;
      if (flags & kHasCredentials) {
        if (p.size() - at < kCredentialsLength) {
          return Corrupt(where_, absl::StrCat("UMSG: message ", i,
                                              " credentials truncated"));
        }
        m.credentials =
            UnixCredentials{static_cast<int32_t>(fmt::Load32(&p[at])),
                            fmt::Load32(&p[at + 4]), fmt::Load32(&p[at + 8])};
        at += kCredentialsLength;
      }
      if (len > p.size() - at) {
        return Corrupt(where_, absl::StrCat("UMSG: message ", i, " of ", len,
                                            " bytes extends past the section "
                                            "(",
                                            p.size() - at, " bytes left)"));
      }
      m.data.assign(reinterpret_cast<const char*>(p.data() + at), len);
      at += len;
      s_.queue.push_back(std::move(m));
    }
    if (at != p.size()) {
      return Corrupt(where_, absl::StrCat("UMSG: ", p.size() - at,
                                          " bytes follow the last message"));
    }
    return absl::OkStatus();
  }

  std::string where_;
  std::vector<uint32_t> seen_;
  uint32_t message_count_ = 0;
  UnixSocketState s_;
};

std::string Where(const ImageReader& image, size_t index) {
  return absl::StrCat("read image: connection ", index, " of ", image.size(),
                      ": ");
}

}  // namespace

absl::Status ValidateUnixSocketState(const UnixSocketState& s) {
  return Validate(s, "unix socket state: ");
}

absl::StatusOr<std::string> SerializeUnixImage(
    absl::Span<const UnixSocketState> sockets) {
  std::vector<std::string> records;
  for (size_t i = 0; i < sockets.size(); ++i) {
    SOCCR_RETURN_IF_ERROR(Validate(
        sockets[i], absl::StrCat("write image: unix socket ", i, ": ")));
    records.push_back(Record(sockets[i]));
  }
  std::string out;
  fmt::ByteWriter w(&out);
  w.Bytes(absl::string_view(fmt::kMagic, 8));
  w.U16(fmt::kMajorVersion);
  w.U16(kUnixImageMinorVersion);
  w.U32(0);  // flags
  w.U32(fmt::kHeaderLength);
  w.U32(static_cast<uint32_t>(records.size()));
  uint64_t offset =
      fmt::kHeaderLength + fmt::kIndexEntryLength * records.size();
  uint64_t file_length = offset;
  for (const std::string& r : records) file_length += r.size();
  w.U64(file_length);
  w.U64(0);  // header checksum, below
  for (const std::string& r : records) {
    w.U64(offset);
    w.U64(r.size());
    w.U64(XXH3_64bits(r.data(), r.size()));
    offset += r.size();
  }
  const uint64_t checksum = XXH3_64bits(out.data(), out.size());
  fmt::Store64(reinterpret_cast<uint8_t*>(&out[fmt::kOffChecksum]), checksum);
  for (const std::string& r : records) out += r;
  return out;
}

absl::Status WriteUnixImage(BorrowedFd fd,
                            absl::Span<const UnixSocketState> sockets) {
  SOCCR_ASSIGN_OR_RETURN(const std::string bytes, SerializeUnixImage(sockets));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return internal::ErrnoStatus(
          errno, absl::StrCat("write image: write after ", done, " of ",
                              bytes.size(), " bytes"));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> IsUnixRecord(const ImageReader& image, size_t index) {
  SOCCR_ASSIGN_OR_RETURN(const Bytes rec, image.RecordBytes(index));
  bool unix_record = false;
  SOCCR_RETURN_IF_ERROR(image_internal::ForEachSection(
      rec, Where(image, index), [&](uint32_t tag, uint32_t, Bytes) {
        if (tag == kTagUnix) unix_record = true;
        return absl::OkStatus();
      }));
  return unix_record;
}

absl::StatusOr<UnixSocketState> ReadUnixSocket(const ImageReader& image,
                                               size_t index) {
  SOCCR_ASSIGN_OR_RETURN(const bool unix_record, IsUnixRecord(image, index));
  const std::string where = Where(image, index);
  if (!unix_record) {
    return absl::InvalidArgumentError(
        absl::StrCat(where,
                     "not a unix socket record (no UNIX section): a "
                     "TCP connection, read it with ImageReader::Read"));
  }
  SOCCR_ASSIGN_OR_RETURN(const Bytes rec, image.RecordBytes(index));
  Decoder decoder(where);
  SOCCR_RETURN_IF_ERROR(image_internal::ForEachSection(
      rec, where, [&](uint32_t tag, uint32_t flags, Bytes payload) {
        return decoder.Section(tag, flags, payload);
      }));
  return decoder.Finish();
}

absl::StatusOr<std::vector<UnixSocketState>> ParseUnixImage(
    absl::Span<const uint8_t> bytes, const ImageReadOptions& options) {
  SOCCR_ASSIGN_OR_RETURN(const ImageReader reader,
                         ImageReader::Open(bytes, nullptr, options));
  std::vector<UnixSocketState> out;
  for (size_t i = 0; i < reader.size(); ++i) {
    SOCCR_ASSIGN_OR_RETURN(UnixSocketState s, ReadUnixSocket(reader, i));
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace soccr
