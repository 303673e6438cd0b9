#include "tools/inspect.h"

#include <arpa/inet.h>
#include <string.h>

#include <algorithm>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "soccr/field_list.h"
#include "soccr/image/image.h"
#include "soccr/socket_options.h"
#include "soccr/tcp_state.h"
#include "tools/image_file.h"
#include "tools/json.h"

namespace soccr::tools {
namespace {

// How many bytes of each queue are shown.
constexpr size_t kPreviewBytes = 32;

std::string ErrnoName(uint32_t err) {
  const char* name = ::strerrorname_np(static_cast<int>(err));
  return name != nullptr ? name : absl::StrCat("errno ", err);
}

std::string HostOnly(const SocketAddress& a) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (a.family() == AF_INET) {
    ::inet_ntop(AF_INET, &a.v4().sin_addr, buf, sizeof(buf));
  } else if (a.family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &a.v6().sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

// The queue's first bytes: as text if they mostly are, else in hex.
std::string Preview(const QueueBytes& q) {
  if (q.empty()) return "";
  const absl::string_view head = q.view().substr(0, kPreviewBytes);
  size_t printable = 0;
  for (const char c : head) printable += c >= 0x20 && c < 0x7f;
  const char* more = q.size() > head.size() ? "..." : "";
  if (printable * 4 >= head.size() * 3) {
    return absl::StrCat("  \"", Printable(head), "\"", more);
  }
  return absl::StrCat("  hex ", absl::BytesToHexString(head.substr(0, 16)),
                      q.size() > 16 ? "..." : "");
}

std::string Options(const TcpOptions& o) {
  std::vector<std::string> parts;
  parts.push_back(o.mss_clamp == 0 ? "mss unknown"
                                   : absl::StrCat("mss ", o.mss_clamp));
  if (o.sack) parts.push_back("sack");
  if (o.timestamps) parts.push_back("timestamps");
  if (o.window_scaling) {
    parts.push_back(absl::StrCat("window scaling ", o.snd_wscale, " (peer) ",
                                 o.rcv_wscale, " (ours)"));
  }
  return absl::StrJoin(parts, ", ");
}

void Line(std::string& out, absl::string_view label, absl::string_view text) {
  absl::StrAppendFormat(&out, "  %-13s %s\n", label, text);
}

// "option(6, 4242) 4 bytes 01000000".
std::string SkippedOption(const SocketOption& o) {
  return absl::StrCat(SocketOptionToString(o), " ", o.value.size(), " bytes ",
                      absl::BytesToHexString(o.value.substr(0, 16)),
                      o.value.size() > 16 ? "..." : "");
}

void Connection(std::string& out, size_t index, const ConnectionState& s,
                const std::vector<SocketOption>& skipped) {
  absl::StrAppend(&out, "\nconnection ", index, ": ", TcpStateName(s.state),
                  "\n");
  Line(out, "local", s.local.empty() ? "(not bound)" : s.local.ToString());
  Line(out, "peer", s.peer.empty() ? "(none)" : s.peer.ToString());
  const bool connection = !s.peer.empty() && s.state != TcpState::kSynSent;
  if (connection) {
    Line(out, "receive queue",
         absl::StrCat(s.inq_len, " bytes, seq ", s.inq_seq - s.inq_len, "..",
                      s.inq_seq, Preview(s.recv_queue)));
    Line(out, "send queue",
         absl::StrCat(s.outq_len, " bytes (", s.unsent_len,
                      " not sent yet), seq ", s.outq_seq - s.outq_len, "..",
                      s.outq_seq, Preview(s.send_queue)));
    Line(out, "options", Options(s.options));
    if (s.options.timestamps) Line(out, "timestamp", absl::StrCat(s.timestamp));
  } else if (s.state == TcpState::kSynSent) {
    Line(out, "initial seq", absl::StrCat(s.outq_seq - 1));
  }
  if (s.window.has_value()) {
    const TcpWindow& w = *s.window;
    Line(out, "window",
         absl::StrCat("snd_wl1 ", w.snd_wl1, ", snd_wnd ", w.snd_wnd,
                      ", max_window ", w.max_window, ", rcv_wnd ", w.rcv_wnd,
                      ", rcv_wup ", w.rcv_wup));
  } else if (connection) {
    Line(out, "window", "(not saved)");
  }
  if (s.state == TcpState::kListen) {
    Line(out, "backlog", absl::StrCat(s.listen_backlog));
  }
  if (s.pending_error != 0) {
    Line(out, "pending error",
         absl::StrCat(ErrnoName(s.pending_error), " (",
                      ::strerror(static_cast<int>(s.pending_error)), ")"));
  }
  if (s.buffers.has_value()) {
    const SocketBuffers& b = *s.buffers;
    Line(out, "buffers",
         absl::StrCat("sndbuf ", b.sndbuf,
                      b.sndbuf_locked ? " (set by the application)" : "",
                      ", rcvbuf ", b.rcvbuf,
                      b.rcvbuf_locked ? " (set by the application)" : ""));
  }
  if (!s.socket_options.empty()) {
    std::vector<std::string> opts;
    for (const SocketOption& o : s.socket_options) {
      opts.push_back(Printable(SocketOptionToString(o)));
    }
    Line(out, "socket opts", absl::StrJoin(opts, " "));
  } else if (!s.buffers.has_value()) {
    Line(out, "socket opts", "(not saved)");
  }
  for (const SocketOption& o : skipped) {
    Line(out, "skipped opt",
         absl::StrCat(SkippedOption(o),
                      " (unknown to this soccr: a restore does without it)"));
  }
}

void JsonAddress(JsonWriter& j, absl::string_view key, const SocketAddress& a) {
  j.Key(key);
  if (a.empty()) {
    j.Null();
    return;
  }
  j.BeginObject();
  j.Key("family");
  j.String(a.family() == AF_INET ? "AF_INET" : "AF_INET6");
  j.Key("address");
  j.String(HostOnly(a));
  j.Key("port");
  j.Uint(a.port());
  if (a.family() == AF_INET6) {
    j.Key("flowinfo");
    j.Uint(ntohl(a.v6().sin6_flowinfo));
    j.Key("scope_id");
    j.Uint(a.v6().sin6_scope_id);
    j.Key("v4_mapped");
    j.Bool(a.is_v4_mapped());
  }
  j.Key("text");
  j.String(a.ToString());
  j.EndObject();
}

// A struct with a field list (soccr/field_list.h) as a JSON object: each
// field, in list order, its name as the key. The fields are numbers and
// bools; a field of another type does not compile until it is given a
// JSON form here.
template <typename T>
void JsonFields(JsonWriter& j, const T& value) {
  j.BeginObject();
  VisitFields(value, [&](const char* name, const auto& v) {
    using V = std::decay_t<decltype(v)>;
    j.Key(name);
    if constexpr (std::is_same_v<V, bool>) {
      j.Bool(v);
    } else if constexpr (std::is_integral_v<V> && std::is_unsigned_v<V>) {
      j.Uint(v);
    } else {
      static_assert(sizeof(V) == 0, "say how this field is written in JSON");
    }
  });
  j.EndObject();
}

// An optional struct: its object, or null when absent.
template <typename T>
void JsonFields(JsonWriter& j, const std::optional<T>& value) {
  if (value.has_value()) {
    JsonFields(j, *value);
  } else {
    j.Null();
  }
}

}  // namespace

// The top level is written here by hand, not from kConnectionStateFields
// as its parts are: its key order, which the goldens in testdata/inspect/
// fix, is not the list's. recv_queue_head_hex comes after unsent_len with
// send_queue_head_hex, where the list has recv_queue after inq_len; and
// keys that are no field sit between the fields (index first,
// state_number after state, skipped_socket_options after socket_options,
// pending_error_name after pending_error). A field missing here still
// fails inspect_json_test, whose perturbations change every field.
void JsonConnection(JsonWriter& j, size_t index, const ConnectionState& s,
                    const std::vector<SocketOption>& skipped) {
  j.BeginObject();
  j.Key("index");
  j.Uint(index);
  j.Key("state");
  j.String(TcpStateName(s.state));
  j.Key("state_number");
  j.Uint(static_cast<uint8_t>(s.state));
  JsonAddress(j, "local", s.local);
  JsonAddress(j, "peer", s.peer);
  j.Key("inq_seq");
  j.Uint(s.inq_seq);
  j.Key("inq_len");
  j.Uint(s.inq_len);
  j.Key("outq_seq");
  j.Uint(s.outq_seq);
  j.Key("outq_len");
  j.Uint(s.outq_len);
  j.Key("unsent_len");
  j.Uint(s.unsent_len);
  j.Key("recv_queue_head_hex");
  j.String(
      absl::BytesToHexString(s.recv_queue.view().substr(0, kPreviewBytes)));
  j.Key("send_queue_head_hex");
  j.String(
      absl::BytesToHexString(s.send_queue.view().substr(0, kPreviewBytes)));
  j.Key("options");
  JsonFields(j, s.options);
  j.Key("timestamp");
  j.Uint(s.timestamp);
  j.Key("window");
  JsonFields(j, s.window);
  j.Key("buffers");
  JsonFields(j, s.buffers);
  j.Key("socket_options");
  j.BeginArray();
  for (const SocketOption& o : s.socket_options) {
    const SockOptSpec* spec = FindSocketOption(o.level, o.name);
    j.BeginObject();
    j.Key("level");
    j.Int(o.level);
    j.Key("name");
    j.Int(o.name);
    j.Key("label");
    j.String(spec != nullptr ? spec->label : "");
    j.Key("text");
    j.String(SocketOptionToString(o));
    j.Key("value_hex");
    j.String(absl::BytesToHexString(o.value));
    j.EndObject();
  }
  j.EndArray();
  j.Key("skipped_socket_options");
  j.BeginArray();
  for (const SocketOption& o : skipped) {
    j.BeginObject();
    j.Key("level");
    j.Int(o.level);
    j.Key("name");
    j.Int(o.name);
    j.Key("value_hex");
    j.String(absl::BytesToHexString(o.value));
    j.EndObject();
  }
  j.EndArray();
  j.Key("listen_backlog");
  j.Uint(s.listen_backlog);
  j.Key("pending_error");
  j.Uint(s.pending_error);
  j.Key("pending_error_name");
  if (s.pending_error != 0) {
    j.String(ErrnoName(s.pending_error));
  } else {
    j.Null();
  }
  j.EndObject();
}

std::string Printable(absl::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", u);
    }
  }
  return out;
}

absl::StatusOr<InspectedImage> InspectImage(const std::string& path,
                                            bool verify_checksums,
                                            Progress& progress) {
  absl::StatusOr<ImageFile> file = ImageFile::Read(path, progress);
  if (!file.ok()) return file.status();
  auto in_path = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  };
  ImageReadOptions options;
  options.verify_checksums = verify_checksums;
  absl::StatusOr<ImageReader> reader =
      ImageReader::Open(file->bytes(), file->owner(), options);
  if (!reader.ok()) return in_path(reader.status());
  InspectedImage image;
  image.path = path;
  image.file_bytes = file->bytes().size();
  image.major_version = reader->major_version();
  image.minor_version = reader->minor_version();
  image.checksums_verified = verify_checksums;
  for (size_t i = 0; i < reader->size(); ++i) {
    absl::StatusOr<ImageRecord> record = reader->ReadRecord(i);
    if (!record.ok()) return in_path(record.status());
    image.connections.push_back(std::move(record->state));
    image.skipped_options.push_back(std::move(record->skipped_options));
  }
  return image;
}

std::string InspectText(const InspectedImage& image) {
  const size_t n = image.connections.size();
  std::string out = absl::StrCat(
      Printable(image.path), ": soccr image format ", image.major_version, ".",
      image.minor_version, ", ", n, n == 1 ? " connection, " : " connections, ",
      image.file_bytes, " bytes\n");
  absl::StrAppend(&out, "checksums: ",
                  image.checksums_verified
                      ? "verified (XXH3-64 of the header and of every record)"
                      : "NOT verified (--skip-checksums)",
                  "\n");
  for (size_t i = 0; i < n; ++i) {
    Connection(out, i, image.connections[i], image.skipped_options[i]);
  }
  return out;
}

std::string InspectJson(const InspectedImage& image) {
  JsonWriter j;
  j.BeginObject();
  j.Key("path");
  j.String(image.path);
  j.Key("file_bytes");
  j.Uint(image.file_bytes);
  j.Key("format_version");
  j.String(absl::StrCat(image.major_version, ".", image.minor_version));
  j.Key("major_version");
  j.Uint(image.major_version);
  j.Key("minor_version");
  j.Uint(image.minor_version);
  j.Key("checksums_verified");
  j.Bool(image.checksums_verified);
  j.Key("connections");
  j.BeginArray();
  for (size_t i = 0; i < image.connections.size(); ++i) {
    JsonConnection(j, i, image.connections[i], image.skipped_options[i]);
  }
  j.EndArray();
  j.EndObject();
  return std::move(j).Take();
}

}  // namespace soccr::tools
