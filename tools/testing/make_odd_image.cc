// make_odd_image: writes a copy of a golden image whose first connection's
// TCP_CONGESTION value holds bytes that need escaping (a quote, a
// backslash, a newline, an escape sequence, a byte above 0x7f). A valid
// image nonetheless: the reader checks an option's size, not its text. The
// inspect test checks that neither the terminal nor the JSON sees them raw.
//
//   make_odd_image GOLDEN_IMAGE OUTPUT

#include <netinet/tcp.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "soccr/image/image.h"
#include "tools/image_file.h"

// 13 bytes: r " e \ n LF o ESC [ 3 1 m 0xff
constexpr char kOdd[] = "r\"e\\n\no\x1b[31m\xff";

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: make_odd_image GOLDEN_IMAGE OUTPUT\n");
    return 2;
  }
  absl::StatusOr<soccr::tools::ImageFile> file =
      soccr::tools::ImageFile::Read(argv[1]);
  if (!file.ok()) {
    fprintf(stderr, "%s\n", file.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::vector<soccr::ConnectionState>> states =
      soccr::ParseImage(file->bytes());
  if (!states.ok()) {
    fprintf(stderr, "%s\n", states.status().ToString().c_str());
    return 1;
  }
  bool found = false;
  for (soccr::SocketOption& o : (*states)[0].socket_options) {
    if (o.level == SOL_TCP && o.name == TCP_CONGESTION) {
      o.value = std::string(kOdd, sizeof(kOdd) - 1);
      found = true;
    }
  }
  if (!found) {
    fprintf(stderr, "connection 0 has no TCP_CONGESTION\n");
    return 1;
  }
  absl::StatusOr<uint64_t> size =
      soccr::tools::WriteImageFile(argv[2], *states);
  if (!size.ok()) {
    fprintf(stderr, "%s\n", size.status().ToString().c_str());
    return 1;
  }
  return 0;
}
