// Writing images: the layout is computed once as a list of pieces (metadata
// the writer encodes, queue bytes borrowed from the states), which then go
// to a descriptor with writev or into one string.

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "soccr/image/format.h"
#include "soccr/image/image.h"
#include "soccr/internal/status_code.h"
#include "soccr/restore_plan.h"
#include "soccr/status_macros.h"

namespace soccr {
namespace {

namespace fmt = image_format;

// A new field in ConnectionState or one of its parts must get a place in
// the image format (docs/image-format.md, a new section and minor version)
// and here; these trip when a field list changes (connection_state.cc
// checks each against its struct) so that it is not forgotten, and
// image_test's EveryFieldSurvivesTheImage checks that it round trips.
static_assert(kConnectionStateFieldCount == 17,
              "ConnectionState changed: serialize the new field in the "
              "image format (soccr/image/writer.cc, reader.cc, "
              "docs/image-format.md), then update this count");
static_assert(FieldCount<TcpOptions>() == 6 && FieldCount<TcpWindow>() == 5 &&
                  FieldCount<SocketBuffers>() == 4,
              "TcpOptions, TcpWindow or SocketBuffers changed: serialize the "
              "new field in the image format, then update these counts");

constexpr uint8_t kZeros[fmt::kAlignment] = {};

// A run of bytes of the image, in file order: `size` bytes at `data`, or,
// while the layout is built, at `offset` in its metadata (whose buffer
// moves as it grows) when `data` is null.
struct Piece {
  const uint8_t* data;
  size_t offset;
  size_t size;
};

// A section of the record being encoded: its payload is either `size`
// bytes at `offset` in the scratch buffer or a queue.
struct Section {
  uint32_t tag;
  size_t offset;
  size_t size;
  const QueueBytes* queue;
};

void EncodeAddress(fmt::ByteWriter& w, const SocketAddress& a) {
  switch (a.family()) {
    case AF_INET: {
      w.U8(fmt::kFamilyV4);
      w.U8(0);
      w.U16(a.port());
      w.U32(0);  // flow info
      w.U32(0);  // scope id
      w.U32(0);  // reserved
      w.Bytes(absl::string_view(reinterpret_cast<const char*>(&a.v4().sin_addr),
                                4));
      w.Zeros(12);
      return;
    }
    case AF_INET6: {
      w.U8(fmt::kFamilyV6);
      w.U8(0);
      w.U16(a.port());
      w.U32(ntohl(a.v6().sin6_flowinfo));
      w.U32(a.v6().sin6_scope_id);
      w.U32(0);
      w.Bytes(absl::string_view(
          reinterpret_cast<const char*>(&a.v6().sin6_addr), 16));
      return;
    }
    default:  // an empty address (a restore judges whether it may be)
      w.Zeros(fmt::kAddressLength);
      return;
  }
}

// Encodes the sections of `s` into `scratch` (cleared first) and lists
// them in `sections` (cleared first): both are reused from one record to
// the next, so a record allocates nothing once they have grown.
void EncodeSections(const ConnectionState& s, std::string& scratch,
                    std::vector<Section>& sections) {
  scratch.clear();
  sections.clear();
  fmt::ByteWriter w(&scratch);
  // Each section's payload is what the writer appended since begin().
  size_t begun = 0;
  auto begin = [&] { begun = scratch.size(); };
  auto end = [&](uint32_t tag) {
    sections.push_back({tag, begun, scratch.size() - begun, nullptr});
  };
  begin();
  w.U8(static_cast<uint8_t>(s.state));
  w.U8((s.options.sack ? fmt::kOptSack : 0) |
       (s.options.timestamps ? fmt::kOptTimestamps : 0) |
       (s.options.window_scaling ? fmt::kOptWindowScaling : 0));
  w.U8(s.options.snd_wscale);
  w.U8(s.options.rcv_wscale);
  w.U32(s.options.mss_clamp);
  w.U32(s.inq_seq);
  w.U32(s.inq_len);
  w.U32(s.outq_seq);
  w.U32(s.outq_len);
  w.U32(s.unsent_len);
  w.U32(s.timestamp);
  end(fmt::kTagTcp);
  begin();
  EncodeAddress(w, s.local);
  EncodeAddress(w, s.peer);
  end(fmt::kTagAddresses);
  if (s.window.has_value()) {
    begin();
    w.U32(s.window->snd_wl1);
    w.U32(s.window->snd_wnd);
    w.U32(s.window->max_window);
    w.U32(s.window->rcv_wnd);
    w.U32(s.window->rcv_wup);
    end(fmt::kTagWindow);
  }
  if (s.buffers.has_value()) {
    begin();
    w.U32(s.buffers->sndbuf);
    w.U32(s.buffers->rcvbuf);
    w.U32((s.buffers->sndbuf_locked ? fmt::kSndbufLocked : 0) |
          (s.buffers->rcvbuf_locked ? fmt::kRcvbufLocked : 0));
    end(fmt::kTagBuffers);
  }
  if (!s.socket_options.empty()) {
    begin();
    w.U32(static_cast<uint32_t>(s.socket_options.size()));
    for (const SocketOption& o : s.socket_options) {
      w.U32(static_cast<uint32_t>(o.level));
      w.U32(static_cast<uint32_t>(o.name));
      w.U32(static_cast<uint32_t>(o.value.size()));
      w.Bytes(o.value);
    }
    end(fmt::kTagSockOpts);
  }
  if (s.listen_backlog != 0) {
    begin();
    w.U32(s.listen_backlog);
    end(fmt::kTagListen);
  }
  if (s.pending_error != 0) {
    begin();
    w.U32(s.pending_error);
    end(fmt::kTagError);
  }
  if (!s.recv_queue.empty()) {
    sections.push_back(
        {fmt::kTagRecvQueue, 0, s.recv_queue.size(), &s.recv_queue});
  }
  if (!s.send_queue.empty()) {
    sections.push_back(
        {fmt::kTagSendQueue, 0, s.send_queue.size(), &s.send_queue});
  }
}

// The whole image as pieces. Holds the encoded metadata of the whole image
// in one buffer, which the pieces point into, and refers to the states'
// queues (which must outlive it).
class Layout {
 public:
  absl::Status Build(absl::Span<const ConnectionState> states,
                     const ImageWriteOptions& options);

  const std::vector<Piece>& pieces() const { return pieces_; }
  uint64_t size() const { return size_; }
  // Whether no record has a queue: the metadata is then the whole image.
  bool meta_only() const { return !queues_; }
  std::string TakeMeta() && { return std::move(meta_); }

 private:
  // Appends a record's pieces; returns its length and checksum.
  std::pair<uint64_t, uint64_t> AddRecord(const ConnectionState& s);
  void Add(const void* data, size_t size) {
    if (size > 0)
      pieces_.push_back({static_cast<const uint8_t*>(data), 0, size});
  }

  // The header, the index and every record's header, section table and
  // encoded sections, in file order (each a multiple of the alignment).
  std::string meta_;
  // One record's encoded sections at a time (EncodeSections).
  std::string scratch_;
  std::vector<Section> sections_;
  std::vector<Piece> pieces_;
  uint64_t size_ = 0;
  bool queues_ = false;
};

std::pair<uint64_t, uint64_t> Layout::AddRecord(const ConnectionState& s) {
  EncodeSections(s, scratch_, sections_);
  const size_t meta_start = meta_.size();
  fmt::ByteWriter w(&meta_);
  w.Bytes(absl::string_view(fmt::kRecordMagic, 4));
  w.U32(static_cast<uint32_t>(sections_.size()));
  uint64_t offset = fmt::AlignUp(fmt::kRecordHeaderLength +
                                 fmt::kSectionEntryLength * sections_.size());
  for (const Section& sec : sections_) {
    w.U32(sec.tag);
    w.U32(fmt::kSectionRequired);  // every section of 1.0 is required
    w.U64(offset);
    w.U64(sec.size);
    offset = fmt::AlignUp(offset + sec.size);
  }
  const uint64_t length = offset;
  w.Pad();
  // The encoded sections come first, so the metadata is one piece.
  size_t first_queue = sections_.size();
  for (size_t i = 0; i < sections_.size(); ++i) {
    if (sections_[i].queue != nullptr) {
      first_queue = i;
      break;
    }
    w.Bytes(absl::string_view(scratch_).substr(sections_[i].offset,
                                               sections_[i].size));
    w.Pad();
  }
  const size_t meta_size = meta_.size() - meta_start;
  const uint8_t* meta = reinterpret_cast<const uint8_t*>(meta_.data());
  pieces_.push_back({nullptr, meta_start, meta_size});
  if (first_queue == sections_.size()) {  // the whole record, in one call
    return {length, XXH3_64bits(meta + meta_start, meta_size)};
  }
  queues_ = true;
  const size_t first_piece = pieces_.size();
  for (size_t i = first_queue; i < sections_.size(); ++i) {
    const QueueBytes& q = *sections_[i].queue;
    Add(q.data(), q.size());
    Add(kZeros, fmt::AlignUp(q.size()) - q.size());
  }
  fmt::Hasher hash;
  hash.Update(meta + meta_start, meta_size);
  for (size_t i = first_piece; i < pieces_.size(); ++i) {
    hash.Update(pieces_[i].data, pieces_[i].size);
  }
  return {length, hash.Digest()};
}

absl::Status Layout::Build(absl::Span<const ConnectionState> states,
                           const ImageWriteOptions& options) {
  for (size_t i = 0; options.check_restorable && i < states.size(); ++i) {
    absl::StatusOr<RestorePlan> plan = PlanRestore(states[i]);
    if (!plan.ok()) {
      return PrefixRejection(absl::StrCat("write image: connection ", i, " of ",
                                          states.size(), ": "),
                             plan.status());
    }
  }
  // What the format's 32-bit lengths cannot hold is refused whether the
  // states are checked or not: the image says exactly what they do.
  for (size_t i = 0; i < states.size(); ++i) {
    const std::vector<SocketOption>& opts = states[i].socket_options;
    bool fits = opts.size() <= UINT32_MAX;
    for (const SocketOption& o : opts)
      fits = fits && o.value.size() <= UINT32_MAX;
    if (!fits) {
      return absl::InvalidArgumentError(absl::StrCat(
          "write image: connection ", i, " of ", states.size(),
          ": a socket option (or their number) exceeds what the image holds"));
    }
  }
  if (states.size() > UINT32_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("write image: ", states.size(),
                     " connections; an image holds at most ", UINT32_MAX));
  }
  // The header and the index first (the index filled in as the records
  // are laid out), then each record's metadata.
  const size_t index_length = fmt::kIndexEntryLength * states.size();
  meta_.reserve(fmt::kHeaderLength + index_length + 256 * states.size());
  pieces_.reserve(1 + states.size());
  fmt::ByteWriter w(&meta_);
  w.Bytes(absl::string_view(fmt::kMagic, 8));
  w.U16(fmt::kMajorVersion);
  w.U16(fmt::kMinorVersion);
  w.U32(0);  // flags
  w.U32(fmt::kHeaderLength);
  w.U32(static_cast<uint32_t>(states.size()));
  w.U64(0);  // file length, below
  w.U64(0);  // checksum, below
  w.Zeros(index_length);
  pieces_.push_back({nullptr, 0, meta_.size()});
  uint64_t offset = meta_.size();
  for (size_t i = 0; i < states.size(); ++i) {
    const auto [length, checksum] = AddRecord(states[i]);
    uint8_t* entry = reinterpret_cast<uint8_t*>(meta_.data()) +
                     fmt::kHeaderLength + fmt::kIndexEntryLength * i;
    fmt::Store64(entry, offset);
    fmt::Store64(entry + 8, length);
    fmt::Store64(entry + 16, checksum);
    offset += length;
  }
  size_ = offset;
  uint8_t* h = reinterpret_cast<uint8_t*>(meta_.data());
  fmt::Store64(h + fmt::kOffFileLength, size_);
  fmt::Store64(h + fmt::kOffChecksum,
               XXH3_64bits(h, fmt::kHeaderLength + index_length));
  // The metadata has stopped moving: the pieces may point into it.
  for (Piece& p : pieces_) {
    if (p.data == nullptr) p.data = h + p.offset;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteImage(BorrowedFd fd, absl::Span<const ConnectionState> states,
                        const sys::Sys& sys) {
  return WriteImage(fd, states, ImageWriteOptions(), sys);
}

absl::Status WriteImage(BorrowedFd fd, absl::Span<const ConnectionState> states,
                        const ImageWriteOptions& options, const sys::Sys& sys) {
  Layout layout;
  SOCCR_RETURN_IF_ERROR(layout.Build(states, options));
  std::vector<struct iovec> iov;
  iov.reserve(layout.pieces().size());
  for (const Piece& p : layout.pieces()) {
    iov.push_back({const_cast<uint8_t*>(p.data), p.size});
  }
  // A socket whose peer has gone must give EPIPE, not kill the process
  // with SIGPIPE: sendmsg can say so, writev cannot.
  const sys::Result<struct stat> st = sys.Fstat(fd);
  const bool socket = st.ok() && S_ISSOCK(st.value.st_mode);
  uint64_t written = 0;
  size_t next = 0;
  while (next < iov.size()) {
    const auto chunk = absl::MakeConstSpan(iov).subspan(next, IOV_MAX);
    const sys::Result<size_t> n =
        socket ? sys.SendMsg(fd, chunk, 0) : sys.Writev(fd, chunk);
    if (!n.ok()) {
      if (n.err == EINTR) continue;
      if (n.err == EAGAIN || n.err == EWOULDBLOCK) {
        const sys::Result<short> ready = sys.Poll(fd, POLLOUT, -1);
        if (ready.ok() || ready.err == EINTR) continue;
      }
      return internal::ErrnoStatus(
          n.op, n.err,
          absl::StrCat("write image to fd ", fd.get(), ": ", sys::OpName(n.op),
                       " after ", written, " of ", layout.size(), " bytes"));
    }
    written += n.value;
    // Skip what was written: whole pieces, then part of one.
    size_t left = n.value;
    while (next < iov.size() && left >= iov[next].iov_len) {
      left -= iov[next].iov_len;
      ++next;
    }
    if (left > 0) {
      iov[next].iov_base = static_cast<uint8_t*>(iov[next].iov_base) + left;
      iov[next].iov_len -= left;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SerializeImage(
    absl::Span<const ConnectionState> states,
    const ImageWriteOptions& options) {
  Layout layout;
  SOCCR_RETURN_IF_ERROR(layout.Build(states, options));
  // Idle connections: the metadata is the whole image, in order.
  if (layout.meta_only()) return std::move(layout).TakeMeta();
  std::string out;
  out.reserve(layout.size());
  for (const Piece& p : layout.pieces()) {
    out.append(reinterpret_cast<const char*>(p.data), p.size);
  }
  return out;
}

}  // namespace soccr
