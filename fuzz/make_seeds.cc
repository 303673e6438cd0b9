// make_seeds: writes the hand-made part of the fuzzers' seed corpora:
// images that reach each part of the reader (valid ones of every shape,
// and one of each kind of damage, with valid checksums so the damage is
// what the reader meets), and restore-plan inputs for each raw-field mode.
//
//   ./bazelw run //fuzz:make_seeds -- $PWD/testdata/fuzz
//
// The rest of each corpus is what libFuzzer found and `-merge=1` kept (see
// README.md); the golden images are seeds too (testdata/BUILD).

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>

#include <fstream>
#include <string>
#include <vector>

#include "soccr/image/format.h"
#include "soccr/image/image.h"
#include "soccr/image/raw_image.h"

namespace soccr {
namespace {

namespace fmt = image_format;
using image_testing::BuildImage;
using image_testing::FixChecksums;
using image_testing::RawRecord;
using image_testing::RawSection;
using image_testing::SectionEntry;
using image_testing::SectionPayload;
using image_testing::SplitImage;

bool Write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fprintf(stderr, "make_seeds: cannot write %s\n", path.c_str());
  return static_cast<bool>(out);
}

ConnectionState Small() {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = SocketAddress::V4(0x0a000001, 80);
  s.peer = SocketAddress::V4(0x0a000002, 4242);
  s.inq_seq = 1000;
  s.outq_seq = 5000;
  return s;
}

ConnectionState Full() {
  ConnectionState s = Small();
  const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                         0,    0,    0,    0,    0, 0, 0, 1};
  const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                         0,    0,    0,    0,    0, 0, 0, 2};
  s.local = SocketAddress::V6(a, 443, htonl(5), 1);
  s.peer = SocketAddress::V6(b, 50000, 0, 1);
  s.recv_queue = QueueBytes::Copy(std::string("GET / HTTP/1.1\r\n"));
  s.inq_len = 16;
  s.send_queue = QueueBytes::Copy(std::string("HTTP/1.1 200 OK\r\n\r\n"));
  s.outq_len = 19;
  s.unsent_len = 4;
  s.options = {true, true, true, 7, 7, 1440};
  s.timestamp = 77;
  s.window = TcpWindow{990, 1000, 2000, 3000, 1000};
  s.buffers = SocketBuffers{87380, 131072, false, true};
  const int one = 1;
  s.socket_options = {{SOL_TCP, TCP_NODELAY,
                       std::string(reinterpret_cast<const char*>(&one), 4)},
                      {SOL_TCP, TCP_CONGESTION, "cubic"}};
  return s;
}

std::string Image(const std::vector<ConnectionState>& states) {
  absl::StatusOr<std::string> img = SerializeImage(states);
  if (!img.ok()) {
    fprintf(stderr, "make_seeds: %s\n", img.status().ToString().c_str());
    abort();
  }
  return *img;
}

uint8_t* At(std::string& s, size_t off) {
  return reinterpret_cast<uint8_t*>(s.data()) + off;
}

bool ImageSeeds(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> seeds;
  seeds.push_back({"empty_image", Image({})});
  seeds.push_back({"small_v4", Image({Small()})});
  seeds.push_back({"full_v6", Image({Full()})});
  seeds.push_back({"two_connections", Image({Full(), Small()})});
  ConnectionState empty_option = Full();
  empty_option.socket_options.push_back({SOL_SOCKET, SO_BINDTODEVICE, ""});
  seeds.push_back({"empty_string_option_last", Image({empty_option})});

  ConnectionState listener;
  listener.state = TcpState::kListen;
  listener.local = SocketAddress::V4(0x0a000001, 80);
  listener.listen_backlog = 128;
  ConnectionState reset = Small();
  reset.state = TcpState::kClose;
  reset.recv_queue = QueueBytes::Copy(std::string("unread"));
  reset.inq_len = 6;
  reset.pending_error = 104;  // ECONNRESET
  ConnectionState fin_wait1 = Full();
  fin_wait1.state = TcpState::kFinWait1;
  seeds.push_back({"other_states", Image({listener, reset, fin_wait1})});

  std::vector<RawRecord> records = SplitImage(Image({Full()}));
  records[0].sections.insert(records[0].sections.begin() + 1,
                             RawSection{fmt::Tag("XTRA"), 0, "optional"});
  seeds.push_back({"minor_3_optional_section", BuildImage(records, 3)});
  records[0].sections[1].flags = fmt::kSectionRequired;
  seeds.push_back({"minor_3_required_section", BuildImage(records, 3)});

  std::string img = Image({Small()});
  fmt::Store32(At(img, fmt::kOffFlags), 0x00010000);  // optional flag bit
  FixChecksums(img);
  seeds.push_back({"optional_flag", img});

  img = Image({Small()});
  fmt::Store16(At(img, fmt::kOffVersionMajor), 2);
  FixChecksums(img);
  seeds.push_back({"future_major", img});

  img = Image({Full()});
  seeds.push_back({"truncated", img.substr(0, img.size() - 8)});
  img[0] = 'X';
  seeds.push_back({"bad_magic", img});

  img = Image({Full()});
  fmt::Store32(At(img, SectionPayload(img, 0, fmt::kTagTcp) + 2), 200);
  FixChecksums(img);
  seeds.push_back({"wscale_200", img});

  img = Image({Full()});
  fmt::Store32(At(img, SectionPayload(img, 0, fmt::kTagTcp) + 12), 0xffffffff);
  fmt::Store64(At(img, SectionEntry(img, 0, fmt::kTagRecvQueue) + 16),
               0xffffffff);
  FixChecksums(img);
  seeds.push_back({"queue_4gib", img});

  img = Image({Full(), Small()});
  fmt::Store32(At(img, fmt::kOffConnectionCount), 0xffffffff);
  FixChecksums(img);
  seeds.push_back({"count_huge", img});

  for (const auto& [name, bytes] : seeds) {
    if (!Write(dir + "/image_parser/" + name, bytes)) return false;
  }
  return true;
}

// Restore-plan inputs: the mode byte (fuzz_input.h) and then bytes from a
// fixed generator, so each mode's states differ.
bool PlanSeeds(const std::string& dir) {
  uint32_t x = 12345;
  for (int mode : {0, 1, 2, 4, 8, 16, 32, 63}) {
    std::string seed(1, static_cast<char>(mode));
    for (int i = 0; i < 400; ++i) {
      x = x * 1103515245 + 12345;
      seed.push_back(static_cast<char>(x >> 16));
    }
    if (!Write(dir + "/restore_plan/mode_" + std::to_string(mode), seed)) {
      return false;
    }
  }
  return Write(dir + "/restore_plan/zeros", std::string(200, '\0'));
}

// C API inputs (c_api_fuzzer.cc reads the argument checks, a mode byte, the
// struct, two addresses and two queues): zeros, and bytes from a fixed
// generator at a few lengths, with the mode byte (offset 15) cleared so the
// struct is steered towards states the core accepts.
bool CApiSeeds(const std::string& dir) {
  if (!Write(dir + "/c_api/zeros", std::string(400, '\0'))) return false;
  uint32_t x = 777;
  for (int n : {100, 400, 1000, 5000}) {
    std::string seed;
    for (int i = 0; i < n; ++i) {
      x = x * 1103515245 + 12345;
      seed.push_back(static_cast<char>(x >> 16));
    }
    seed[15] = 0;
    if (!Write(dir + "/c_api/random_" + std::to_string(n), seed)) return false;
  }
  return true;
}

}  // namespace
}  // namespace soccr

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_seeds TESTDATA_FUZZ_DIR\n");
    return 2;
  }
  return soccr::ImageSeeds(argv[1]) && soccr::PlanSeeds(argv[1]) &&
                 soccr::CApiSeeds(argv[1])
             ? 0
             : 1;
}
