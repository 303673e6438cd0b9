// print_image: prints a connection image field by field, with the bytes of
// each field in hex, then each connection as the reader decodes it.
//
//   img=$PWD/testdata/image/v1/established_v4.soccr
//   ./bazelw run //soccr/image:print_image -- "$img"
//   # and a plain hex dump of the whole file too:
//   ./bazelw run //soccr/image:print_image -- --hex "$img"
//
// A damaged image gets the reader's error (exit status 1) and, with --hex,
// its bytes. docs/image-format.md shows this tool's output for a real image.

#include <stdio.h>

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "soccr/image/format.h"
#include "soccr/image/image.h"

ABSL_FLAG(bool, hex, false, "Also print a plain hex dump of the whole file.");

namespace soccr {
namespace {

namespace fmt = image_format;

class Dumper {
 public:
  explicit Dumper(absl::Span<const uint8_t> b) : b_(b) {}

  // One line: offset, the field's bytes (wrapped at 16), its name and value.
  void Field(size_t off, size_t len, absl::string_view name,
             absl::string_view value = "") {
    for (size_t i = 0; i < len || i == 0; i += 16) {
      std::string hex;
      for (size_t j = i; j < len && j < i + 16; ++j) {
        absl::StrAppendFormat(&hex, "%02x ", b_[off + j]);
      }
      if (i == 0) {
        printf("%08zx  %-48s %s%s%s\n", off + i, hex.c_str(),
               std::string(name).c_str(), value.empty() ? "" : " = ",
               std::string(value).c_str());
      } else {
        printf("%08zx  %s\n", off + i, hex.c_str());
      }
    }
  }
  void U16(size_t off, absl::string_view name) {
    Field(off, 2, name, absl::StrCat(fmt::Load16(&b_[off])));
  }
  void U32(size_t off, absl::string_view name) {
    Field(off, 4, name, absl::StrCat(fmt::Load32(&b_[off])));
  }
  void U64(size_t off, absl::string_view name, bool hex = false) {
    const uint64_t v = fmt::Load64(&b_[off]);
    Field(off, 8, name, hex ? absl::StrFormat("0x%016x", v) : absl::StrCat(v));
  }
  // A queue or other long payload: its first and last line only.
  void Payload(size_t off, size_t len, absl::string_view name) {
    if (len <= 48) {
      Field(off, len, name);
      return;
    }
    Field(off, 16, absl::StrCat(name, " (", len, " bytes)"));
    printf("%8s  ...\n", "");
    const size_t last = off + (len - 1) / 16 * 16;
    Field(last, off + len - last, "(last bytes)");
  }
  void Padding(size_t off, size_t end) {
    if (end > off) Field(off, end - off, "padding");
  }

  void Header() {
    printf("-- file header\n");
    Field(0, 8, "magic");
    U16(fmt::kOffVersionMajor, "major version");
    U16(fmt::kOffVersionMinor, "minor version");
    Field(fmt::kOffFlags, 4, "flags",
          absl::StrFormat("0x%08x", fmt::Load32(&b_[fmt::kOffFlags])));
    U32(fmt::kOffHeaderLength, "header length");
    U32(fmt::kOffConnectionCount, "connection count");
    U64(fmt::kOffFileLength, "file length");
    U64(fmt::kOffChecksum, "header checksum (XXH3-64)", true);
    const size_t header_length = fmt::Load32(&b_[fmt::kOffHeaderLength]);
    Padding(fmt::kHeaderLength, header_length);
    const uint32_t count = fmt::Load32(&b_[fmt::kOffConnectionCount]);
    for (uint32_t i = 0; i < count; ++i) {
      const size_t e = header_length + fmt::kIndexEntryLength * i;
      printf("-- index entry %u\n", i);
      U64(e, "record offset");
      U64(e + 8, "record length");
      U64(e + 16, "record checksum (XXH3-64)", true);
    }
  }

  void Record(size_t i) {
    const size_t e =
        fmt::Load32(&b_[fmt::kOffHeaderLength]) + fmt::kIndexEntryLength * i;
    const size_t rec = fmt::Load64(&b_[e]);
    const size_t rec_len = fmt::Load64(&b_[e + 8]);
    printf("-- connection record %zu\n", i);
    Field(rec, 4, "record magic", "\"CONN\"");
    U32(rec + 4, "section count");
    const uint32_t n = fmt::Load32(&b_[rec + 4]);
    for (uint32_t s = 0; s < n; ++s) {
      const size_t t =
          rec + fmt::kRecordHeaderLength + fmt::kSectionEntryLength * s;
      const std::string tag = fmt::TagName(fmt::Load32(&b_[t]));
      printf("-- section table entry %u\n", s);
      Field(t, 4, "tag", absl::StrCat("\"", tag, "\""));
      Field(t + 4, 4, "flags",
            fmt::Load32(&b_[t + 4]) & fmt::kSectionRequired ? "required"
                                                            : "optional");
      U64(t + 8, "offset in record");
      U64(t + 16, "length");
    }
    for (uint32_t s = 0; s < n; ++s) {
      const size_t t =
          rec + fmt::kRecordHeaderLength + fmt::kSectionEntryLength * s;
      const uint32_t tag = fmt::Load32(&b_[t]);
      const size_t off = rec + fmt::Load64(&b_[t + 8]);
      const size_t len = fmt::Load64(&b_[t + 16]);
      printf("-- section %s\n", fmt::TagName(tag).c_str());
      Section(tag, off, len);
      Padding(off + len, rec + fmt::AlignUp(off + len - rec));
    }
    (void)rec_len;
  }

 private:
  void Address(size_t off, absl::string_view which) {
    Field(off, 1, absl::StrCat(which, " family"),
          absl::StrCat(b_[off], b_[off] == 4   ? " (IPv4)"
                                : b_[off] == 6 ? " (IPv6)"
                                               : " (none)"));
    Field(off + 1, 1, "reserved");
    U16(off + 2, absl::StrCat(which, " port"));
    U32(off + 4, absl::StrCat(which, " flow info"));
    U32(off + 8, absl::StrCat(which, " scope id"));
    Field(off + 12, 4, "reserved");
    Field(off + 16, 16, absl::StrCat(which, " address"));
  }

  void Section(uint32_t tag, size_t off, size_t len) {
    if (tag == fmt::kTagTcp && len == fmt::kTcpSectionLength) {
      Field(off, 1, "state", absl::StrCat(b_[off]));
      Field(off + 1, 1, "TCP options",
            absl::StrFormat("0x%02x (1 sack, 2 timestamps, 4 window scaling)",
                            b_[off + 1]));
      Field(off + 2, 1, "snd_wscale", absl::StrCat(b_[off + 2]));
      Field(off + 3, 1, "rcv_wscale", absl::StrCat(b_[off + 3]));
      U32(off + 4, "mss_clamp");
      U32(off + 8, "inq_seq");
      U32(off + 12, "inq_len");
      U32(off + 16, "outq_seq");
      U32(off + 20, "outq_len");
      U32(off + 24, "unsent_len");
      U32(off + 28, "timestamp");
    } else if (tag == fmt::kTagAddresses &&
               len == fmt::kAddressesSectionLength) {
      Address(off, "local");
      Address(off + fmt::kAddressLength, "peer");
    } else if (tag == fmt::kTagWindow && len == fmt::kWindowSectionLength) {
      U32(off, "snd_wl1");
      U32(off + 4, "snd_wnd");
      U32(off + 8, "max_window");
      U32(off + 12, "rcv_wnd");
      U32(off + 16, "rcv_wup");
    } else if (tag == fmt::kTagBuffers && len == fmt::kBuffersSectionLength) {
      U32(off, "sndbuf");
      U32(off + 4, "rcvbuf");
      Field(off + 8, 4, "locks",
            absl::StrFormat("0x%x (1 sndbuf, 2 rcvbuf)",
                            fmt::Load32(&b_[off + 8])));
    } else if (tag == fmt::kTagSockOpts && len >= 4) {
      U32(off, "option count");
      size_t pos = off + 4;
      const size_t end = off + len;
      for (uint32_t i = 0; i < fmt::Load32(&b_[off]) && end - pos >= 12; ++i) {
        U32(pos, "level");
        U32(pos + 4, "name");
        U32(pos + 8, "value length");
        const size_t vlen = fmt::Load32(&b_[pos + 8]);
        pos += 12;
        if (vlen > end - pos) break;
        Payload(pos, vlen, "value");
        pos += vlen;
      }
    } else if (tag == fmt::kTagListen && len == fmt::kListenSectionLength) {
      U32(off, "listen backlog");
    } else if (tag == fmt::kTagError && len == fmt::kErrorSectionLength) {
      U32(off, "pending error (errno)");
    } else if (tag == fmt::kTagRecvQueue || tag == fmt::kTagSendQueue) {
      Payload(off, len, "queue bytes");
    } else {
      Payload(off, len, "payload (not decoded)");
    }
  }

  absl::Span<const uint8_t> b_;
};

void HexDump(absl::Span<const uint8_t> b) {
  for (size_t i = 0; i < b.size(); i += 16) {
    std::string hex, text;
    for (size_t j = i; j < i + 16; ++j) {
      if (j == i + 8) hex += " ";
      if (j < b.size()) {
        absl::StrAppendFormat(&hex, "%02x ", b[j]);
        text.push_back(b[j] >= 0x20 && b[j] < 0x7f ? static_cast<char>(b[j])
                                                   : '.');
      } else {
        hex += "   ";
      }
    }
    printf("%08zx  %s |%s|\n", i, hex.c_str(), text.c_str());
  }
}

int Main(const std::string& path) {
  absl::StatusOr<MappedFile> file = MappedFile::Open(path);
  if (!file.ok()) {
    fprintf(stderr, "print_image: %s\n", file.status().ToString().c_str());
    return 1;
  }
  int status = 0;
  absl::StatusOr<ImageReader> image = ImageReader::Open(*file);
  if (!image.ok()) {
    fprintf(stderr, "print_image: %s\n", image.status().ToString().c_str());
    status = 1;
  } else {
    printf("%s: soccr image %d.%d, %zu connection(s), %zu bytes\n",
           path.c_str(), image->major_version(), image->minor_version(),
           image->size(), file->bytes().size());
    Dumper d(file->bytes());
    d.Header();
    for (size_t i = 0; i < image->size(); ++i) {
      absl::StatusOr<ConnectionState> s = image->Read(i);
      if (!s.ok()) {
        fprintf(stderr, "print_image: %s\n", s.status().ToString().c_str());
        status = 1;
        continue;
      }
      d.Record(i);
      printf("== connection %zu: %s\n", i, s->ToString().c_str());
    }
  }
  if (absl::GetFlag(FLAGS_hex)) HexDump(file->bytes());
  return status;
}

}  // namespace
}  // namespace soccr

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    fprintf(stderr, "usage: dump [--hex] IMAGE\n");
    return 2;
  }
  return soccr::Main(args[1]);
}
