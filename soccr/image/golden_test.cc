// Golden images: files written by soccr from real checkpoints, checked in
// under testdata/image/v<major>/, and loaded by this test forever. Every
// field is spelled out here, so a reader that stops decoding any field of
// any version the way it was written fails.
//
// When the format changes: add the new version's golden files (and a test
// for them) beside these, and keep these tests as they are. Only the
// "rewrites byte for byte" checks follow the writer: once it writes a
// later version, they become "parses to the same state".

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "soccr/image/image.h"
#include "soccr/soccr.h"
#include "soccr/testing/netns.h"

namespace soccr {
namespace {

#define ASSERT_OK_AND_ASSIGN(lhs, expr)            \
  auto lhs##_or = (expr);                          \
  ASSERT_TRUE(lhs##_or.ok()) << lhs##_or.status(); \
  auto lhs = *std::move(lhs##_or)

constexpr char kDir[] = "testdata/image/v1/";

// The golden queues: `label` repeated and cut to `n` bytes (as
// //soccr/image:make_golden wrote them).
std::string GoldenText(absl::string_view label, size_t n) {
  std::string s;
  while (s.size() < n) s.append(label.data(), label.size());
  s.resize(n);
  return s;
}

SocketOption Int(int level, int name, int value) {
  return {level, name,
          std::string(reinterpret_cast<const char*>(&value), sizeof(value))};
}

SocketAddress V4(uint16_t port) { return SocketAddress::V4(0x7f000001, port); }

void ExpectSame(const ConnectionState& got, const ConnectionState& want) {
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.local, want.local) << got.local.ToString();
  EXPECT_EQ(got.peer, want.peer) << got.peer.ToString();
  EXPECT_EQ(got.inq_seq, want.inq_seq);
  EXPECT_EQ(got.inq_len, want.inq_len);
  EXPECT_EQ(got.recv_queue, want.recv_queue) << got.recv_queue.view();
  EXPECT_EQ(got.outq_seq, want.outq_seq);
  EXPECT_EQ(got.outq_len, want.outq_len);
  EXPECT_EQ(got.unsent_len, want.unsent_len);
  EXPECT_EQ(got.send_queue, want.send_queue) << got.send_queue.view();
  EXPECT_EQ(got.options, want.options);
  EXPECT_EQ(got.timestamp, want.timestamp);
  EXPECT_EQ(got.window, want.window);
  EXPECT_EQ(got.buffers, want.buffers);
  EXPECT_EQ(got.socket_options, want.socket_options);
  // And nothing the fields above miss.
  EXPECT_EQ(got, want) << got.ToString();
}

// testdata/image/v1/established_v4.soccr: one IPv4 connection with 21 bytes
// unread, 27 bytes in flight, and socket options set by the application.
ConnectionState EstablishedV4() {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = V4(49158);
  s.peer = V4(39703);
  s.inq_seq = 1599419744;
  s.inq_len = 21;
  s.recv_queue = QueueBytes::Copy(GoldenText("golden receive queue|", 21));
  s.outq_seq = 3509334045;
  s.outq_len = 27;
  s.unsent_len = 0;
  s.send_queue = QueueBytes::Copy(GoldenText("golden send queue|", 27));
  s.options = TcpOptions{/*sack=*/true,           /*timestamps=*/true,
                         /*window_scaling=*/true, /*snd_wscale=*/10,
                         /*rcv_wscale=*/10,       /*mss_clamp=*/65495};
  s.timestamp = 3386468608;
  s.window = TcpWindow{1599419723, 65536, 65536, 65536, 1599419744};
  s.buffers = SocketBuffers{3939840, 131072, false, false};
  s.socket_options = {
      Int(SOL_SOCKET, SO_REUSEADDR, 2),  Int(SOL_SOCKET, SO_KEEPALIVE, 1),
      Int(SOL_TCP, TCP_NODELAY, 1),      Int(SOL_TCP, TCP_KEEPIDLE, 600),
      Int(SOL_TCP, TCP_KEEPINTVL, 75),   Int(SOL_TCP, TCP_KEEPCNT, 9),
      {SOL_TCP, TCP_CONGESTION, "reno"}, Int(SOL_IP, IP_TTL, 64)};
  return s;
}

// testdata/image/v1/three_connections.soccr: IPv4, IPv6 (saved without
// socket options) and IPv4-mapped IPv6, each with 300 bytes unread and
// 4848 bytes unsent behind a peer's full window.
std::vector<ConnectionState> ThreeConnections() {
  static constexpr uint8_t kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                             0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr uint8_t kMapped[16] = {0, 0, 0,    0,    0,   0, 0, 0,
                                          0, 0, 0xff, 0xff, 127, 0, 0, 1};
  struct Row {
    const char* label;
    SocketAddress local, peer;
    uint32_t inq_seq, outq_seq, mss, timestamp;
  };
  const Row rows[] = {
      {"v4", V4(53770), V4(33161), 766088006, 669835609, 65495, 2087619650},
      {"v6", SocketAddress::V6(kLoopback6, 50986),
       SocketAddress::V6(kLoopback6, 43717), 75440003, 26790660, 65476,
       768341660},
      {"mapped", SocketAddress::V6(kMapped, 56834),
       SocketAddress::V6(kMapped, 35821), 583381012, 3369115753, 65495,
       3923444614},
  };
  std::vector<ConnectionState> out;
  for (const Row& r : rows) {
    const std::string label = r.label;
    ConnectionState s;
    s.state = TcpState::kEstablished;
    s.local = r.local;
    s.peer = r.peer;
    s.inq_seq = r.inq_seq;
    s.inq_len = 300;
    s.recv_queue = QueueBytes::Copy(GoldenText(label + " receive|", 300));
    s.outq_seq = r.outq_seq;
    s.outq_len = 4848;
    s.unsent_len = 4848;
    // The first 1152 bytes (the peer's window) went to the peer.
    s.send_queue =
        QueueBytes::Copy(GoldenText(label + " send|", 6000).substr(1152));
    s.options = TcpOptions{true, true, true, 0, 10, r.mss};
    s.timestamp = r.timestamp;
    s.window = TcpWindow{r.inq_seq, 0, 1152, 65536, r.inq_seq};
    if (label != "v6") {
      s.buffers = SocketBuffers{3939840, 131072, false, false};
      s.socket_options.push_back(Int(SOL_SOCKET, SO_REUSEADDR, 2));
      if (label == "mapped") {
        s.socket_options.push_back(Int(SOL_IPV6, IPV6_V6ONLY, 0));
      }
      s.socket_options.push_back(Int(SOL_TCP, TCP_KEEPIDLE, 7200));
      s.socket_options.push_back(Int(SOL_TCP, TCP_KEEPINTVL, 75));
      s.socket_options.push_back(Int(SOL_TCP, TCP_KEEPCNT, 9));
      s.socket_options.push_back({SOL_TCP, TCP_CONGESTION, "reno"});
      s.socket_options.push_back(label == "v4"
                                     ? Int(SOL_IP, IP_TTL, 64)
                                     : Int(SOL_IPV6, IPV6_UNICAST_HOPS, 64));
    }
    out.push_back(std::move(s));
  }
  return out;
}

struct Golden {
  std::string bytes;  // the file, for comparing
  std::vector<ConnectionState> states;
};

// Reads a golden image in place from its mapping, as a restore would.
absl::StatusOr<Golden> Load(const std::string& name) {
  absl::StatusOr<MappedFile> file = MappedFile::Open(kDir + name);
  if (!file.ok()) return file.status();
  absl::StatusOr<ImageReader> image = ImageReader::Open(*file);
  if (!image.ok()) return image.status();
  if (image->major_version() != 1 || image->minor_version() != 0) {
    return absl::InternalError("not a 1.0 image");
  }
  absl::StatusOr<std::vector<ConnectionState>> states = image->ReadAll();
  if (!states.ok()) return states.status();
  return Golden{std::string(reinterpret_cast<const char*>(file->bytes().data()),
                            file->bytes().size()),
                *std::move(states)};
}

class GoldenV1Test : public soccr::testing::NetnsTest {};

TEST_F(GoldenV1Test, EstablishedV4) {
  ASSERT_OK_AND_ASSIGN(golden, Load("established_v4.soccr"));
  ASSERT_EQ(golden.states.size(), 1u);
  ExpectSame(golden.states[0], EstablishedV4());
  // Today's writer writes 1.0 and rewrites it byte for byte.
  ASSERT_OK_AND_ASSIGN(again, SerializeImage(golden.states));
  EXPECT_TRUE(again == golden.bytes);
}

TEST_F(GoldenV1Test, ThreeConnections) {
  ASSERT_OK_AND_ASSIGN(golden, Load("three_connections.soccr"));
  const std::vector<ConnectionState> want = ThreeConnections();
  ASSERT_EQ(golden.states.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    ExpectSame(golden.states[i], want[i]);
  }
  ASSERT_OK_AND_ASSIGN(again, SerializeImage(golden.states));
  EXPECT_TRUE(again == golden.bytes);
}

// The golden states still restore (into sockets that are then dropped, in
// repair mode, so nothing is sent): the image holds all a restore needs.
TEST_F(GoldenV1Test, Restores) {
  ASSERT_OK_AND_ASSIGN(one, Load("established_v4.soccr"));
  ASSERT_OK_AND_ASSIGN(three, Load("three_connections.soccr"));
  std::vector<ConnectionState> all = three.states;
  all.push_back(one.states[0]);
  for (const ConnectionState& s : all) {
    absl::StatusOr<RestoredSocket> restored = Restore(s);
    EXPECT_TRUE(restored.ok()) << restored.status();
  }
}

}  // namespace
}  // namespace soccr
