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
#include <deque>
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

// A new field in ConnectionState must get a place in the image format
// (docs/image-format.md, a new section and minor version) and here; this
// trips when the field list changes (connection_state.cc checks it against
// the struct) so that it is not forgotten.
static_assert(kConnectionStateFieldCount == 17,
              "ConnectionState changed: serialize the new field in the "
              "image format (soccr/image/writer.cc, reader.cc, "
              "docs/image-format.md), then update this count");

constexpr uint8_t kZeros[fmt::kAlignment] = {};

// A run of bytes of the image, in file order.
struct Piece {
  const uint8_t* data;
  size_t size;
};

// A section of a record: its payload is either encoded here or a queue.
struct Section {
  uint32_t tag;
  std::string encoded;
  QueueBytes queue;
  size_t size() const { return queue.empty() ? encoded.size() : queue.size(); }
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

std::vector<Section> EncodeSections(const ConnectionState& s) {
  std::vector<Section> sections;
  {
    Section tcp{fmt::kTagTcp, {}, {}};
    fmt::ByteWriter w(&tcp.encoded);
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
    sections.push_back(std::move(tcp));
  }
  {
    Section addr{fmt::kTagAddresses, {}, {}};
    fmt::ByteWriter w(&addr.encoded);
    EncodeAddress(w, s.local);
    EncodeAddress(w, s.peer);
    sections.push_back(std::move(addr));
  }
  if (s.window.has_value()) {
    Section win{fmt::kTagWindow, {}, {}};
    fmt::ByteWriter w(&win.encoded);
    w.U32(s.window->snd_wl1);
    w.U32(s.window->snd_wnd);
    w.U32(s.window->max_window);
    w.U32(s.window->rcv_wnd);
    w.U32(s.window->rcv_wup);
    sections.push_back(std::move(win));
  }
  if (s.buffers.has_value()) {
    Section bufs{fmt::kTagBuffers, {}, {}};
    fmt::ByteWriter w(&bufs.encoded);
    w.U32(s.buffers->sndbuf);
    w.U32(s.buffers->rcvbuf);
    w.U32((s.buffers->sndbuf_locked ? fmt::kSndbufLocked : 0) |
          (s.buffers->rcvbuf_locked ? fmt::kRcvbufLocked : 0));
    sections.push_back(std::move(bufs));
  }
  if (!s.socket_options.empty()) {
    Section opts{fmt::kTagSockOpts, {}, {}};
    fmt::ByteWriter w(&opts.encoded);
    w.U32(static_cast<uint32_t>(s.socket_options.size()));
    for (const SocketOption& o : s.socket_options) {
      w.U32(static_cast<uint32_t>(o.level));
      w.U32(static_cast<uint32_t>(o.name));
      w.U32(static_cast<uint32_t>(o.value.size()));
      w.Bytes(o.value);
    }
    sections.push_back(std::move(opts));
  }
  if (s.listen_backlog != 0) {
    Section listen{fmt::kTagListen, {}, {}};
    fmt::ByteWriter(&listen.encoded).U32(s.listen_backlog);
    sections.push_back(std::move(listen));
  }
  if (s.pending_error != 0) {
    Section error{fmt::kTagError, {}, {}};
    fmt::ByteWriter(&error.encoded).U32(s.pending_error);
    sections.push_back(std::move(error));
  }
  if (!s.recv_queue.empty()) {
    sections.push_back({fmt::kTagRecvQueue, {}, s.recv_queue});
  }
  if (!s.send_queue.empty()) {
    sections.push_back({fmt::kTagSendQueue, {}, s.send_queue});
  }
  return sections;
}

// The whole image as pieces. Holds the encoded metadata the pieces point
// into, and refers to the states' queues (which must outlive it).
class Layout {
 public:
  absl::Status Build(absl::Span<const ConnectionState> states,
                     const ImageWriteOptions& options);

  const std::vector<Piece>& pieces() const { return pieces_; }
  uint64_t size() const { return size_; }

 private:
  // Appends a record's pieces; returns its length and checksum.
  std::pair<uint64_t, uint64_t> AddRecord(const ConnectionState& s,
                                          std::vector<Piece>& out);
  void Add(std::vector<Piece>& out, const void* data, size_t size) {
    if (size > 0) out.push_back({static_cast<const uint8_t*>(data), size});
  }

  // A deque: pieces point into its strings, which must not move.
  std::deque<std::string> storage_;
  std::vector<Piece> pieces_;
  uint64_t size_ = 0;
};

std::pair<uint64_t, uint64_t> Layout::AddRecord(const ConnectionState& s,
                                                std::vector<Piece>& out) {
  std::vector<Section> sections = EncodeSections(s);
  std::string& meta = storage_.emplace_back();
  fmt::ByteWriter w(&meta);
  w.Bytes(absl::string_view(fmt::kRecordMagic, 4));
  w.U32(static_cast<uint32_t>(sections.size()));
  uint64_t offset = fmt::AlignUp(fmt::kRecordHeaderLength +
                                 fmt::kSectionEntryLength * sections.size());
  for (const Section& sec : sections) {
    w.U32(sec.tag);
    w.U32(fmt::kSectionRequired);  // every section of 1.0 is required
    w.U64(offset);
    w.U64(sec.size());
    offset = fmt::AlignUp(offset + sec.size());
  }
  const uint64_t length = offset;
  w.Pad();
  // The encoded sections come first, so the metadata is one piece.
  size_t first_queue = sections.size();
  for (size_t i = 0; i < sections.size(); ++i) {
    if (!sections[i].queue.empty()) {
      first_queue = i;
      break;
    }
    w.Bytes(sections[i].encoded);
    w.Pad();
  }
  const size_t start = out.size();
  Add(out, meta.data(), meta.size());
  for (size_t i = first_queue; i < sections.size(); ++i) {
    const QueueBytes& q = sections[i].queue;
    Add(out, q.data(), q.size());
    Add(out, kZeros, fmt::AlignUp(q.size()) - q.size());
  }
  fmt::Hasher hash;
  for (size_t i = start; i < out.size(); ++i) {
    hash.Update(out[i].data, out[i].size);
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
  std::vector<Piece> records;
  std::string& header = storage_.emplace_back();
  fmt::ByteWriter w(&header);
  w.Bytes(absl::string_view(fmt::kMagic, 8));
  w.U16(fmt::kMajorVersion);
  w.U16(fmt::kMinorVersion);
  w.U32(0);  // flags
  w.U32(fmt::kHeaderLength);
  w.U32(static_cast<uint32_t>(states.size()));
  w.U64(0);  // file length, below
  w.U64(0);  // checksum, below
  uint64_t offset = fmt::kHeaderLength + fmt::kIndexEntryLength * states.size();
  for (const ConnectionState& s : states) {
    const auto [length, checksum] = AddRecord(s, records);
    w.U64(offset);
    w.U64(length);
    w.U64(checksum);
    offset += length;
  }
  size_ = offset;
  uint8_t* h = reinterpret_cast<uint8_t*>(header.data());
  fmt::Store64(h + fmt::kOffFileLength, size_);
  fmt::Store64(h + fmt::kOffChecksum,
               XXH3_64bits(header.data(), header.size()));
  pieces_.push_back({h, header.size()});
  pieces_.insert(pieces_.end(), records.begin(), records.end());
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
  std::string out;
  out.reserve(layout.size());
  for (const Piece& p : layout.pieces()) {
    out.append(reinterpret_cast<const char*>(p.data), p.size);
  }
  return out;
}

}  // namespace soccr
