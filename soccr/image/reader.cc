// Reading images. Every length and offset is checked against the bytes
// really present before it is used, and nothing is allocated by a count
// read from the image before the bytes it claims are known to be there.

#include <arpa/inet.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "soccr/image/format.h"
#include "soccr/image/image.h"
#include "soccr/restore_plan.h"

namespace soccr {
namespace {

namespace fmt = image_format;

using Bytes = absl::Span<const uint8_t>;

absl::Status Corrupt(absl::string_view where, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(where, what));
}

std::string Hex(uint64_t v) { return absl::StrFormat("0x%016x", v); }

bool AllZero(Bytes b) {
  for (uint8_t c : b) {
    if (c != 0) return false;
  }
  return true;
}

// Decodes the fixed-size sections. `where` prefixes error messages.
class RecordDecoder {
 public:
  RecordDecoder(std::string where, const std::shared_ptr<const void>& owner)
      : where_(std::move(where)), owner_(owner) {}

  absl::Status Section(uint32_t tag, uint32_t flags, Bytes payload,
                       ConnectionState& s);
  absl::Status Finish() const;
  const std::string& where() const { return where_; }
  // The socket options skipped because this reader does not know them.
  std::vector<SocketOption>& skipped() { return skipped_; }

 private:
  absl::Status WantLength(uint32_t tag, Bytes payload, size_t want) const {
    if (payload.size() == want) return absl::OkStatus();
    return Corrupt(where_, absl::StrCat("section ", fmt::TagName(tag), " is ",
                                        payload.size(), " bytes, want ", want));
  }
  absl::Status Tcp(Bytes p, ConnectionState& s) const;
  absl::Status Address(Bytes p, absl::string_view which,
                       SocketAddress& out) const;
  absl::Status Buffers(Bytes p, ConnectionState& s) const;
  absl::Status SocketOptions(Bytes p, ConnectionState& s);
  QueueBytes Queue(Bytes p) const {
    return owner_ != nullptr ? QueueBytes::View(p, owner_)
                             : QueueBytes::Copy(p);
  }

  std::string where_;
  const std::shared_ptr<const void>& owner_;
  std::vector<uint32_t> seen_;
  std::vector<SocketOption> skipped_;
};

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

}  // namespace

absl::StatusOr<uint64_t> ImageReader::CheckPrefix(
    Bytes prefix, uint64_t file_size, const ImageReadOptions& options) {
  constexpr absl::string_view kWhere = "read image: ";
  const uint8_t* b = prefix.data();
  // What `prefix` holds of the file (all of it, once it is read whole).
  const uint64_t have = std::min<uint64_t>(prefix.size(), file_size);
  // The header first (or the whole file, if it is shorter).
  const uint64_t header_bytes =
      std::min<uint64_t>(fmt::kMinHeaderLength, file_size);
  if (have < header_bytes) return header_bytes;
  if (have < sizeof(fmt::kMagic) ||
      memcmp(b, fmt::kMagic, sizeof(fmt::kMagic)) != 0) {
    return Corrupt(kWhere,
                   absl::StrCat("not a soccr image: it does not start with "
                                "the magic bytes 89 53 4f 43 43 52 0d 0a (",
                                file_size, " bytes in all)"));
  }
  if (file_size < fmt::kMinHeaderLength) {
    return Corrupt(kWhere, absl::StrCat("truncated: ", file_size,
                                        " bytes, the header alone needs ",
                                        fmt::kMinHeaderLength));
  }
  const uint16_t major = fmt::Load16(b + fmt::kOffVersionMajor);
  const uint16_t minor = fmt::Load16(b + fmt::kOffVersionMinor);
  // Before anything else: a later major version may lay out the rest (and
  // the checksum) differently.
  if (major != fmt::kMajorVersion) {
    return absl::UnimplementedError(
        absl::StrCat(kWhere, "image format version ", major, ".", minor,
                     " is not supported: this reader reads versions ",
                     fmt::kMajorVersion, ".x"));
  }
  const uint32_t header_length = fmt::Load32(b + fmt::kOffHeaderLength);
  if (header_length < fmt::kMinHeaderLength ||
      header_length % fmt::kAlignment != 0) {
    return Corrupt(kWhere, absl::StrCat("header length ", header_length,
                                        " is not a multiple of 8 of at least ",
                                        fmt::kMinHeaderLength));
  }
  const uint32_t count = fmt::Load32(b + fmt::kOffConnectionCount);
  const uint64_t index_end =
      uint64_t{header_length} + uint64_t{fmt::kIndexEntryLength} * count;
  if (index_end > file_size) {
    return Corrupt(kWhere,
                   absl::StrCat("truncated: the header and the index "
                                "of ",
                                count, " connections end at byte ", index_end,
                                ", the file has ", file_size));
  }
  const uint64_t file_length = fmt::Load64(b + fmt::kOffFileLength);
  auto check_length = [&]() -> absl::Status {
    if (file_length > file_size) {
      return Corrupt(kWhere,
                     absl::StrCat("truncated: the image is ", file_length,
                                  " bytes, only ", file_size, " are there"));
    }
    if (file_length < file_size) {
      return Corrupt(kWhere,
                     absl::StrCat(file_size - file_length,
                                  " bytes follow the end of the image (",
                                  file_length, " bytes)"));
    }
    return absl::OkStatus();
  };
  if (have < index_end) {
    // Not all there yet: what the header says of the image's length
    // already settles a file that is no image of its size (the checksum
    // follows once the index is read).
    if (absl::Status st = check_length(); !st.ok()) return st;
    return index_end;
  }
  if (options.verify_checksums) {
    fmt::Hasher hash;
    hash.Update(b, fmt::kOffChecksum);
    constexpr uint8_t kZeroChecksum[8] = {};
    hash.Update(kZeroChecksum, sizeof(kZeroChecksum));
    hash.Update(b + fmt::kOffChecksum + 8, index_end - fmt::kOffChecksum - 8);
    const uint64_t stored = fmt::Load64(b + fmt::kOffChecksum);
    if (hash.Digest() != stored) {
      return Corrupt(
          kWhere, absl::StrCat("header checksum mismatch: stored ", Hex(stored),
                               ", computed ", Hex(hash.Digest())));
    }
  }
  const uint32_t flags = fmt::Load32(b + fmt::kOffFlags);
  if ((flags & fmt::kRequiredFlagsMask) != 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "%simage flags 0x%04x are not known to this reader (format %d.%d)",
        kWhere, flags & fmt::kRequiredFlagsMask, fmt::kMajorVersion,
        fmt::kMinorVersion));
  }
  if (absl::Status st = check_length(); !st.ok()) return st;
  // The records tile the rest of the file, in index order.
  auto entry = [&](uint32_t i) {
    return b + header_length + fmt::kIndexEntryLength * i;
  };
  for (uint32_t i = 1; i < count; ++i) {
    const uint64_t before = fmt::Load64(entry(i - 1));
    const uint64_t offset = fmt::Load64(entry(i));
    if (offset < before) {
      return Corrupt(kWhere, absl::StrCat("records out of order: connection ",
                                          i, " (offset ", offset,
                                          ") is listed after connection ",
                                          i - 1, " (offset ", before, ")"));
    }
  }
  uint64_t expected = index_end;
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* e = entry(i);
    const uint64_t offset = fmt::Load64(e);
    const uint64_t length = fmt::Load64(e + 8);
    const std::string where =
        absl::StrCat(kWhere, "connection ", i, " of ", count, ": ");
    if (offset < expected) {
      return Corrupt(where, absl::StrCat("record at offset ", offset,
                                         " overlaps what comes before it, "
                                         "which ends at ",
                                         expected));
    }
    if (offset > expected) {
      return Corrupt(where,
                     absl::StrCat("record at offset ", offset, " leaves bytes ",
                                  expected, "..", offset, " unaccounted for"));
    }
    if (length > file_length - offset) {
      return Corrupt(
          where, absl::StrCat("record of ", length, " bytes at offset ", offset,
                              " extends past the end of the image "
                              "(",
                              file_length, " bytes)"));
    }
    if (length < fmt::kRecordHeaderLength || length % fmt::kAlignment != 0) {
      return Corrupt(where, absl::StrCat("record length ", length,
                                         " is not a multiple of 8 of at "
                                         "least ",
                                         fmt::kRecordHeaderLength));
    }
    expected = offset + length;
  }
  if (expected != file_length) {
    return Corrupt(kWhere, absl::StrCat("the records end at byte ", expected,
                                        ", the image at ", file_length));
  }
  return uint64_t{0};
}

absl::StatusOr<ImageReader> ImageReader::Open(Bytes bytes,
                                              std::shared_ptr<const void> owner,
                                              const ImageReadOptions& options) {
  // All the bytes are here, so the check needs no more.
  absl::StatusOr<uint64_t> more = CheckPrefix(bytes, bytes.size(), options);
  if (!more.ok()) return more.status();
  ImageReader r;
  const uint8_t* b = bytes.data();
  r.major_ = fmt::Load16(b + fmt::kOffVersionMajor);
  r.minor_ = fmt::Load16(b + fmt::kOffVersionMinor);
  r.bytes_ = bytes;
  r.owner_ = std::move(owner);
  r.options_ = options;
  r.count_ = fmt::Load32(b + fmt::kOffConnectionCount);
  r.index_offset_ = fmt::Load32(b + fmt::kOffHeaderLength);
  return r;
}

absl::StatusOr<ImageReader> ImageReader::Open(const MappedFile& file,
                                              const ImageReadOptions& options) {
  return Open(file.bytes(), file.owner(), options);
}

absl::StatusOr<ConnectionState> ImageReader::Read(size_t index) const {
  absl::StatusOr<ImageRecord> record = ReadRecord(index);
  if (!record.ok()) return record.status();
  return std::move(record->state);
}

absl::StatusOr<ImageRecord> ImageReader::ReadRecord(size_t index) const {
  if (index >= count_) {
    return absl::OutOfRangeError(
        absl::StrCat("read image: connection ", index,
                     " does not exist: the image holds ", count_));
  }
  const uint8_t* e =
      bytes_.data() + index_offset_ + fmt::kIndexEntryLength * index;
  const uint64_t offset = fmt::Load64(e);
  const uint64_t length = fmt::Load64(e + 8);
  const uint64_t checksum = fmt::Load64(e + 16);
  const Bytes rec = bytes_.subspan(offset, length);
  RecordDecoder decoder(
      absl::StrCat("read image: connection ", index, " of ", count_,
                   " (record at offset ", offset, "): "),
      owner_);
  const std::string& where = decoder.where();
  if (options_.verify_checksums) {
    const uint64_t computed = XXH3_64bits(rec.data(), rec.size());
    if (computed != checksum) {
      return Corrupt(where,
                     absl::StrCat("checksum mismatch: stored ", Hex(checksum),
                                  ", computed ", Hex(computed)));
    }
  }
  if (memcmp(rec.data(), fmt::kRecordMagic, sizeof(fmt::kRecordMagic)) != 0) {
    return Corrupt(where, "the record does not start with \"CONN\"");
  }
  const uint32_t sections = fmt::Load32(&rec[4]);
  const uint64_t table_end =
      fmt::kRecordHeaderLength + uint64_t{fmt::kSectionEntryLength} * sections;
  if (table_end > rec.size()) {
    return Corrupt(where, absl::StrCat("the table of ", sections,
                                       " sections does not fit in the ",
                                       rec.size(), "-byte record"));
  }
  auto entry = [&](uint32_t i) {
    return &rec[fmt::kRecordHeaderLength + fmt::kSectionEntryLength * i];
  };
  for (uint32_t i = 1; i < sections; ++i) {
    const uint64_t before = fmt::Load64(entry(i - 1) + 8);
    const uint64_t off = fmt::Load64(entry(i) + 8);
    if (off < before) {
      return Corrupt(
          where, absl::StrCat("sections out of order: ",
                              fmt::TagName(fmt::Load32(entry(i))), " (offset ",
                              off, ") is listed after ",
                              fmt::TagName(fmt::Load32(entry(i - 1))),
                              " (offset ", before, ")"));
    }
  }
  ConnectionState s;
  uint64_t expected = table_end;  // a multiple of 8
  for (uint32_t i = 0; i < sections; ++i) {
    const uint8_t* t = entry(i);
    const uint32_t tag = fmt::Load32(t);
    const uint32_t flags = fmt::Load32(t + 4);
    const uint64_t off = fmt::Load64(t + 8);
    const uint64_t len = fmt::Load64(t + 16);
    const std::string name = fmt::TagName(tag);
    if ((flags & ~fmt::kKnownSectionFlags) != 0) {
      return absl::UnimplementedError(absl::StrFormat(
          "%ssection %s has flags 0x%x this reader does not know", where, name,
          flags & ~fmt::kKnownSectionFlags));
    }
    if (off < expected) {
      return Corrupt(where, absl::StrCat("section ", name, " at offset ", off,
                                         " overlaps what comes before it, "
                                         "which ends at ",
                                         expected));
    }
    if (off > expected) {
      return Corrupt(where, absl::StrCat("section ", name, " at offset ", off,
                                         " leaves bytes ", expected, "..", off,
                                         " unaccounted for"));
    }
    if (len > rec.size() - off) {
      return Corrupt(where, absl::StrCat("section ", name, " of ", len,
                                         " bytes at offset ", off,
                                         " extends past the end of the "
                                         "record (",
                                         rec.size(), " bytes)"));
    }
    const uint64_t end = fmt::AlignUp(off + len);  // <= rec.size()
    if (!AllZero(rec.subspan(off + len, end - off - len))) {
      return Corrupt(where, absl::StrCat("the padding after section ", name,
                                         " is not zero"));
    }
    if (absl::Status st = decoder.Section(tag, flags, rec.subspan(off, len), s);
        !st.ok()) {
      return st;
    }
    expected = end;
  }
  if (expected != rec.size()) {
    return Corrupt(where,
                   absl::StrCat("the sections end at ", expected,
                                " but the record is ", rec.size(), " bytes"));
  }
  if (absl::Status st = decoder.Finish(); !st.ok()) return st;
  // Well formed; whether the state makes sense is PlanRestore's call.
  absl::StatusOr<RestorePlan> plan = PlanRestore(s);
  if (!plan.ok()) return PrefixRejection(where, plan.status());
  return ImageRecord{std::move(s), std::move(decoder.skipped())};
}

absl::StatusOr<std::vector<ConnectionState>> ImageReader::ReadAll() const {
  std::vector<ConnectionState> states;
  for (size_t i = 0; i < count_; ++i) {
    absl::StatusOr<ConnectionState> s = Read(i);
    if (!s.ok()) return s.status();
    states.push_back(*std::move(s));
  }
  return states;
}

absl::StatusOr<std::vector<ConnectionState>> ParseImage(
    Bytes bytes, const ImageReadOptions& options) {
  absl::StatusOr<ImageReader> reader =
      ImageReader::Open(bytes, nullptr, options);
  if (!reader.ok()) return reader.status();
  return reader->ReadAll();
}

}  // namespace soccr
