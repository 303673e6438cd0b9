// The C boundary's checks and conversions, without a kernel: what a fuzzer
// of the C entry points exercises.

#include "soccr_c/convert.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <string.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/restore_plan.h"

namespace soccr::c_api {
namespace {

using ::testing::HasSubstr;

ConnectionState SampleState() {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = SocketAddress::Loopback4(1000);
  s.peer = SocketAddress::Loopback4(2000);
  s.inq_seq = 5000;
  s.inq_len = 3;
  s.recv_queue = QueueBytes::Copy(absl::string_view("abc"));
  s.outq_seq = 0xfffffffe;
  s.outq_len = 5;
  s.unsent_len = 2;
  s.send_queue = QueueBytes::Copy(absl::string_view("hello"));
  s.options.sack = true;
  s.options.timestamps = true;
  s.options.window_scaling = true;
  s.options.snd_wscale = 7;
  s.options.rcv_wscale = 9;
  s.options.mss_clamp = 1460;
  s.timestamp = 123456;
  s.window = TcpWindow{5000, 64000, 64000, 60000, 5000};
  return s;
}

RestoreInputs InputsFor(const ConnectionState& s) {
  RestoreInputs in;
  in.local = s.local;
  in.peer = s.peer;
  in.recv.bytes = reinterpret_cast<const char*>(s.recv_queue.data());
  in.send.bytes = reinterpret_cast<const char*>(s.send_queue.data());
  return in;
}

TEST(ConvertTest, RoundTripsEveryField) {
  const ConnectionState s = SampleState();
  const libsoccr_sk_data d = SkDataFromState(s);
  EXPECT_EQ(d.state, 1u);
  EXPECT_EQ(d.inq_seq, 5000u);
  EXPECT_EQ(d.outq_seq, 0xfffffffeu);
  EXPECT_EQ(d.unsq_len, 2u);
  EXPECT_EQ(d.opt_mask, static_cast<uint32_t>(TCPI_OPT_TIMESTAMPS |
                                              TCPI_OPT_SACK | TCPI_OPT_WSCALE));
  EXPECT_EQ(d.flags, static_cast<uint32_t>(SOCCR_FLAGS_WINDOW));
  EXPECT_EQ(d.rcv_wnd, 60000u);

  absl::StatusOr<ConnectionState> back = StateFromSkData(d, InputsFor(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
  EXPECT_TRUE(PlanRestore(*back).ok());
}

TEST(ConvertTest, NoWindowNoTimestamps) {
  ConnectionState s = SampleState();
  s.window.reset();
  s.options.timestamps = false;
  s.timestamp = 0;
  const libsoccr_sk_data d = SkDataFromState(s);
  EXPECT_EQ(d.flags, 0u);
  EXPECT_EQ(d.snd_wnd, 0u);
  absl::StatusOr<ConnectionState> back = StateFromSkData(d, InputsFor(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
}

TEST(ConvertTest, IgnoresWhatLibsoccrIgnores) {
  const ConnectionState s = SampleState();
  libsoccr_sk_data d = SkDataFromState(s);
  // ECN, ECN_SEEN, SYN_DATA and TFO_CHILD, as a real libsoccr image may
  // carry them; and a timestamp without the timestamp option.
  d.opt_mask |= 8 | 16 | 32 | 128;
  absl::StatusOr<ConnectionState> back = StateFromSkData(d, InputsFor(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
  d.opt_mask &= ~static_cast<uint32_t>(TCPI_OPT_TIMESTAMPS);
  back = StateFromSkData(d, InputsFor(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->options.timestamps);
  EXPECT_EQ(back->timestamp, 0u);
}

// libsoccr's sequence numbers are the kernel's, which count a FIN received
// (rcv_nxt) or queued (write_seq); ConnectionState's end the data.
TEST(ConvertTest, FinsCountInLibsoccrsSequenceNumbers) {
  struct Case {
    TcpState state;
    uint32_t peer_fin;
    uint32_t our_fin;
  };
  for (const Case& c :
       {Case{TcpState::kEstablished, 0, 0}, Case{TcpState::kFinWait1, 0, 1},
        Case{TcpState::kFinWait2, 0, 1}, Case{TcpState::kCloseWait, 1, 0},
        Case{TcpState::kLastAck, 1, 1}, Case{TcpState::kClosing, 1, 1}}) {
    SCOPED_TRACE(TcpStateName(c.state));
    ConnectionState s = SampleState();
    s.state = c.state;
    const libsoccr_sk_data d = SkDataFromState(s);
    EXPECT_EQ(d.inq_seq, s.inq_seq + c.peer_fin);
    EXPECT_EQ(d.outq_seq, s.outq_seq + c.our_fin);  // wraps through 0
    EXPECT_EQ(d.inq_len, s.inq_len);
    EXPECT_EQ(d.outq_len, s.outq_len);
    EXPECT_EQ(d.unsq_len, s.unsent_len);
    absl::StatusOr<ConnectionState> back = StateFromSkData(d, InputsFor(s));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, s);
  }
}

TEST(ConvertTest, ListenerGetsTheLargestBacklog) {
  ConnectionState s;
  s.state = TcpState::kListen;
  s.local = SocketAddress::Loopback6(8080);
  s.listen_backlog = 7;
  const libsoccr_sk_data d = SkDataFromState(s);
  EXPECT_EQ(d.state, 10u);
  RestoreInputs in;
  in.local = s.local;
  absl::StatusOr<ConnectionState> back = StateFromSkData(d, in);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->state, TcpState::kListen);
  EXPECT_EQ(back->listen_backlog, static_cast<uint32_t>(SOMAXCONN));
  EXPECT_TRUE(back->peer.empty());
  EXPECT_TRUE(PlanRestore(*back).ok());
}

struct Rejection {
  const char* name;
  void (*mutate)(libsoccr_sk_data&, RestoreInputs&);
  absl::StatusCode code;
  const char* message;
};

class RejectionTest : public ::testing::TestWithParam<Rejection> {};

TEST_P(RejectionTest, IsCaughtBeforeTheCore) {
  const ConnectionState s = SampleState();
  libsoccr_sk_data d = SkDataFromState(s);
  RestoreInputs in = InputsFor(s);
  GetParam().mutate(d, in);
  absl::StatusOr<ConnectionState> r = StateFromSkData(d, in);
  EXPECT_EQ(r.status().code(), GetParam().code) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, RejectionTest,
    ::testing::Values(
        Rejection{"UnknownState",
                  [](libsoccr_sk_data& d, RestoreInputs&) { d.state = 0; },
                  absl::StatusCode::kInvalidArgument,
                  "data.state 0 is not a TCP state number"},
        // 257 would be ESTABLISHED if it were narrowed to 8 bits.
        Rejection{"StateBeyondEightBits",
                  [](libsoccr_sk_data& d, RestoreInputs&) { d.state = 257; },
                  absl::StatusCode::kInvalidArgument, "data.state 257"},
        Rejection{"UnknownFlag",
                  [](libsoccr_sk_data& d, RestoreInputs&) { d.flags |= 4; },
                  absl::StatusCode::kInvalidArgument,
                  "data.flags 0x5: unknown bits 0x4"},
        Rejection{
            "UnknownOption",
            [](libsoccr_sk_data& d, RestoreInputs&) { d.opt_mask |= 0x200; },
            absl::StatusCode::kInvalidArgument, "unknown bits 0x200"},
        Rejection{"MicrosecondTimestamps",
                  [](libsoccr_sk_data& d, RestoreInputs&) { d.opt_mask |= 64; },
                  absl::StatusCode::kUnimplemented, "TCPI_OPT_USEC_TS"},
        // 256 + 7 would be 7 if narrowed.
        Rejection{
            "SendScaleBeyondEightBits",
            [](libsoccr_sk_data& d, RestoreInputs&) { d.snd_wscale = 263; },
            absl::StatusCode::kInvalidArgument,
            "data.snd_wscale 263 exceeds the maximum 14"},
        Rejection{
            "ReceiveScale15",
            [](libsoccr_sk_data& d, RestoreInputs&) { d.rcv_wscale = 15; },
            absl::StatusCode::kInvalidArgument, "data.rcv_wscale 15"},
        Rejection{"ReceiveQueueMissing",
                  [](libsoccr_sk_data&, RestoreInputs& in) {
                    in.recv = QueueInput();
                  },
                  absl::StatusCode::kInvalidArgument,
                  "data.inq_len is 3 but no receive queue bytes were given "
                  "(libsoccr_set_queue_bytes(sk, TCP_RECV_QUEUE, ...))"},
        Rejection{"SendQueueMissing",
                  [](libsoccr_sk_data&, RestoreInputs& in) {
                    in.send = QueueInput();
                  },
                  absl::StatusCode::kInvalidArgument, "TCP_SEND_QUEUE"},
        Rejection{"QueueLongerThanItsBuffer",
                  [](libsoccr_sk_data&, RestoreInputs& in) {
                    in.send.known_size = 4;
                  },
                  absl::StatusCode::kInvalidArgument,
                  "data.outq_len is 5 but the send queue buffer given with "
                  "SOCCR_MEM_EXCL holds only 4 bytes"},
        Rejection{"QueueBeyondTheKernelsLimit",
                  [](libsoccr_sk_data& d, RestoreInputs&) {
                    d.inq_len = 0x80000000u;
                  },
                  absl::StatusCode::kInvalidArgument,
                  "data.inq_len 2147483648 exceeds 2147483647"}),
    [](const ::testing::TestParamInfo<Rejection>& info) {
      return std::string(info.param.name);
    });

TEST(ConvertTest, MemFlags) {
  EXPECT_TRUE(CheckMemFlags(0).ok());
  EXPECT_TRUE(CheckMemFlags(SOCCR_MEM_EXCL).ok());
  const absl::Status s = CheckMemFlags(0x81);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("unknown bits 0x80"));
}

TEST(ConvertTest, QueueIds) {
  EXPECT_EQ(*QueueFromId(TCP_RECV_QUEUE), sys::RepairQueue::kRecv);
  EXPECT_EQ(*QueueFromId(TCP_SEND_QUEUE), sys::RepairQueue::kSend);
  for (int id : {static_cast<int>(TCP_NO_QUEUE), 3, -1, 1 << 30}) {
    EXPECT_EQ(QueueFromId(id).status().code(),
              absl::StatusCode::kInvalidArgument)
        << id;
  }
}

TEST(ConvertTest, DataSize) {
  EXPECT_TRUE(CheckDataSize(68).ok());
  EXPECT_TRUE(CheckDataSize(4096).ok());
  EXPECT_EQ(CheckDataSize(67).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDataSize(0).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConvertTest, AddressesRoundTrip) {
  for (const SocketAddress& a :
       {SocketAddress::Loopback4(80), SocketAddress::Loopback6(443),
        SocketAddress::LoopbackMapped(8080)}) {
    const libsoccr_addr c = AddressToC(a);
    absl::StatusOr<SocketAddress> back = AddressFromC(&c);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, a);
  }
}

TEST(ConvertTest, AddressReadsOnlyItsFamilysBytes) {
  // A sockaddr_in passed where libsoccr wants the union: 16 bytes, no more
  // may be read (ASan would report it).
  auto* v4 = new sockaddr_in();
  v4->sin_family = AF_INET;
  v4->sin_port = htons(99);
  v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  absl::StatusOr<SocketAddress> a =
      AddressFromC(reinterpret_cast<const libsoccr_addr*>(v4));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a, SocketAddress::Loopback4(99));
  delete v4;
}

TEST(ConvertTest, AddressRejections) {
  EXPECT_EQ(AddressFromC(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  libsoccr_addr c;
  memset(&c, 0, sizeof(c));
  c.sa.sa_family = AF_UNSPEC;
  const absl::Status s = AddressFromC(&c).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("address family 0"));
}

}  // namespace
}  // namespace soccr::c_api
