// tools/inspect.h: `soccr inspect`, what an image holds, for people (text)
// and for scripts (JSON).
//
//   absl::StatusOr<soccr::tools::InspectedImage> image =
//       soccr::tools::InspectImage("conn.soccr", /*verify_checksums=*/true,
//                                  progress);
//   if (!image.ok()) return image.status();  // DataLoss, Unimplemented, ...
//   printf("%s", soccr::tools::InspectText(*image).c_str());
//
// Every connection is read and validated as a restore would read it, so an
// image that inspects cleanly is one that restores (given a kernel and
// privileges that allow it). Bytes from the image that reach the output
// (string socket options, queue previews) are escaped: a hostile image
// cannot write control sequences to a terminal or break the JSON.

#ifndef SOCCR_TOOLS_INSPECT_H_
#define SOCCR_TOOLS_INSPECT_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "soccr/connection_state.h"
#include "tools/json.h"
#include "tools/progress.h"

namespace soccr::tools {

struct InspectedImage {
  std::string path;
  uint64_t file_bytes = 0;
  uint16_t major_version = 0;
  uint16_t minor_version = 0;
  // Whether the header's and every record's XXH3-64 checksum were checked
  // (and matched: a mismatch is an error).
  bool checksums_verified = false;
  std::vector<ConnectionState> connections;
  // Per connection: the socket options this reader skipped, not knowing
  // them (a later soccr wrote them); a restore does without them.
  std::vector<std::vector<SocketOption>> skipped_options;
};

// Reads the image file `path` and every connection in it. The first error
// stops it: the reader's own (see soccr/image/image.h), with the path.
[[nodiscard]] absl::StatusOr<InspectedImage> InspectImage(
    const std::string& path, bool verify_checksums, Progress& progress);

// A summary line, then each connection field by field.
std::string InspectText(const InspectedImage& image);

// One JSON object (see docs in `soccr inspect --help`).
std::string InspectJson(const InspectedImage& image);

// One entry of InspectJson's connections[]: connection `index`, with the
// socket options the reader skipped. Also what `soccr dump --json` and
// `soccr restore --json` report as their "connection".
void JsonConnection(JsonWriter& j, size_t index, const ConnectionState& s,
                    const std::vector<SocketOption>& skipped);

// `bytes` for a terminal: printable ASCII as is (with `\` and `"`
// escaped), anything else as \xNN.
std::string Printable(absl::string_view bytes);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_INSPECT_H_
