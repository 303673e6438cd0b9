// Checkpoint and restore of connections whose receive queue holds urgent
// data (MSG_OOB), or whose application peeks at an offset (SO_PEEK_OFF),
// over IPv4, IPv6 and IPv4-mapped IPv6.
//
// The kernel's reads stop at an urgent mark, SIOCINQ counts only up to it,
// and a read that starts at the mark skips an urgent byte that is not
// inline: a checkpoint that trusted SIOCINQ and one peek would save the
// queue only up to the mark, and the restored connection would lose what
// follows. Each case leaves the peer's data in the client's queue, with the
// urgent byte in one of the places an application can leave it, and checks
// that the restored client reads exactly what the original would have.

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/testing/checkpoint_util.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::loopback::Family;
using ::soccr::loopback::Pattern;
using ::soccr::loopback::ReadExactly;
using ::soccr::loopback::WaitNothingInFlight;
using ::soccr::loopback::WriteAll;
using ::soccr::testing::ExpectSameState;

constexpr size_t kBefore = 30000;  // bytes before the urgent byte
constexpr size_t kAfter = 20000;   // bytes after it

int GetInt(BorrowedFd fd, int name) {
  int v = -2;
  socklen_t len = sizeof(v);
  if (::getsockopt(fd.get(), SOL_SOCKET, name, &v, &len) != 0) return -3;
  return v;
}

void SetInt(BorrowedFd fd, int name, int v) {
  ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, name, &v, sizeof(v)), 0)
      << "setsockopt " << name;
}

// The urgent byte, read out of band: -1 if there is none to read.
int ReadUrgent(BorrowedFd fd) {
  char c = 0;
  if (::recv(fd.get(), &c, 1, MSG_OOB | MSG_DONTWAIT) != 1) return -1;
  return static_cast<unsigned char>(c);
}

// How the checkpoint is taken: as a caller does by default, or as a
// migration does (ReadAhead() before the downtime, the carriable checks
// done then, not in the checkpoint).
enum class Mode { kDefault, kMigration };

struct Case {
  Family family;
  Mode mode;
};

class UrgentDataTest : public soccr::testing::NetnsTest,
                       public ::testing::WithParamInterface<Case> {
 public:
  BorrowedFd client() const { return pair_.client.borrow(); }
  BorrowedFd server() const { return pair_.server.borrow(); }

 protected:
  void SetUp() override {
    soccr::testing::NetnsTest::SetUp();
    ASSERT_OK_AND_ASSIGN(p, soccr::loopback::ConnectedPair(GetParam().family));
    pair_ = std::move(p);
  }

  // The server sends kBefore bytes, one urgent byte 'U', then `after`
  // bytes; all of it reaches the client's queue (SIOCINQ, which stops at
  // the mark, cannot tell: the server waits until all is acknowledged).
  void ServerSendsUrgent(size_t after = kAfter) {
    before_ = Pattern(kBefore, 1);
    after_ = Pattern(after, 2);
    ASSERT_OK(WriteAll(server(), before_));
    ASSERT_EQ(::send(server().get(), "U", 1, MSG_OOB), 1);
    ASSERT_OK(WriteAll(server(), after_));
    ASSERT_OK(WaitNothingInFlight(server()));
  }

  // Pauses and checkpoints the client the way the test's mode says.
  struct Paused {
    ReadAheadState ahead;
    absl::StatusOr<PausedSocket> paused;
    absl::StatusOr<ConnectionState> state;
  };
  Paused PauseAndCheckpoint() {
    Paused p;
    if (GetParam().mode == Mode::kDefault) {
      p.paused = PausedSocket::Pause(client());
      if (!p.paused.ok()) return p;
      p.state = Checkpoint(*p.paused);
      return p;
    }
    absl::StatusOr<ReadAheadState> ahead = ReadAhead(client());
    if (!ahead.ok()) {
      p.paused = ahead.status();
      return p;
    }
    p.ahead = *std::move(ahead);
    p.paused = PausedSocket::Pause(client(), p.ahead.reuse_addr);
    if (!p.paused.ok()) return p;
    CheckpointOptions options;
    options.check_carriable = false;
    options.read_ahead = &p.ahead;
    p.state = Checkpoint(*p.paused, options);
    return p;
  }

  // Checkpoints the client, closes it paused, restores it, compares a
  // checkpoint of the restored socket, resumes it; `unread` is what the
  // checkpoint must have found in the receive queue.
  void MoveClient(const std::string& unread) {
    ConnectionState state;
    {
      Paused p = PauseAndCheckpoint();
      ASSERT_OK(p.paused.status());
      ASSERT_OK(p.state.status());
      state = *std::move(p.state);
      std::move(*p.paused).LeaveInRepairMode();
      pair_.client.reset();  // in repair mode: nothing reaches the peer
    }
    EXPECT_EQ(state.inq_len, unread.size());
    EXPECT_TRUE(state.recv_queue.view() == unread)
        << "the checkpoint's receive queue differs from what the "
           "application would read";
    ASSERT_OK_AND_ASSIGN(restored, Restore(state));
    ASSERT_OK_AND_ASSIGN(again, Checkpoint(restored.paused()));
    ExpectSameState(state, again);
    ASSERT_OK_AND_ASSIGN(fd, std::move(restored).Resume());
    pair_.client = std::move(fd);
  }

  // The client reads `expected`, then the conversation carries on both
  // ways.
  void ClientReadsThenTalks(const std::string& expected) {
    ASSERT_OK_AND_ASSIGN(got, ReadExactly(client(), expected.size()));
    EXPECT_TRUE(got == expected) << "server->client bytes differ";
    const std::string more = Pattern(40000, 3);
    ASSERT_OK(WriteAll(server(), more));
    ASSERT_OK_AND_ASSIGN(got_more, ReadExactly(client(), more.size()));
    EXPECT_TRUE(got_more == more);
    const std::string back = Pattern(40000, 4);
    ASSERT_OK(WriteAll(client(), back));
    ASSERT_OK_AND_ASSIGN(got_back, ReadExactly(server(), back.size()));
    EXPECT_TRUE(got_back == back) << "client->server bytes differ";
  }

  soccr::loopback::TcpPair pair_;
  std::string before_, after_;
};

// An urgent byte not yet read out of band cannot be carried (the repair
// interface cannot queue urgent data): the checkpoint says so, and the
// original carries on with everything in place.
TEST_P(UrgentDataTest, UnreadUrgentByteIsRefusedAndTheOriginalCarriesOn) {
  ServerSendsUrgent();
  {
    Paused p = PauseAndCheckpoint();
    ASSERT_OK(p.paused.status());
    const absl::StatusOr<ConnectionState>& s = p.state;
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition)
        << s.status();
    EXPECT_NE(s.status().message().find("urgent byte (MSG_OOB)"),
              absl::string_view::npos)
        << s.status();
    ASSERT_OK(std::move(*p.paused).Resume());
  }
  EXPECT_EQ(GetInt(client(), SO_PEEK_OFF), -1) << "the peek offset moved";
  ASSERT_OK_AND_ASSIGN(got, ReadExactly(client(), kBefore));
  EXPECT_TRUE(got == before_);
  EXPECT_EQ(ReadUrgent(client()), 'U');
  ClientReadsThenTalks(after_);
}

// Read out of band, the urgent byte leaves a hole that reads skip; the
// reader is still before the mark.
TEST_P(UrgentDataTest, UrgentByteReadOutOfBandAheadOfTheReader) {
  ServerSendsUrgent();
  ASSERT_EQ(ReadUrgent(client()), 'U');
  ASSERT_NO_FATAL_FAILURE(MoveClient(before_ + after_));
  ClientReadsThenTalks(before_ + after_);
}

// The reader has reached the mark; the hole is the first byte of the
// queue.
TEST_P(UrgentDataTest, ReaderAtTheMark) {
  ServerSendsUrgent();
  ASSERT_EQ(ReadUrgent(client()), 'U');
  ASSERT_OK_AND_ASSIGN(got, ReadExactly(client(), kBefore));
  ASSERT_TRUE(got == before_);
  ASSERT_NO_FATAL_FAILURE(MoveClient(after_));
  ClientReadsThenTalks(after_);
}

// The urgent byte read out of band is the last byte of the queue.
TEST_P(UrgentDataTest, UrgentByteLastInTheQueue) {
  ServerSendsUrgent(/*after=*/0);
  ASSERT_EQ(ReadUrgent(client()), 'U');
  ASSERT_NO_FATAL_FAILURE(MoveClient(before_));
  ClientReadsThenTalks(before_);
}

// SO_OOBINLINE: the urgent byte is data like any other; reads still stop
// at the mark.
TEST_P(UrgentDataTest, UrgentByteInline) {
  SetInt(client(), SO_OOBINLINE, 1);
  ServerSendsUrgent();
  const std::string all = before_ + "U" + after_;
  ASSERT_NO_FATAL_FAILURE(MoveClient(all));
  EXPECT_EQ(GetInt(client(), SO_OOBINLINE), 1);
  ClientReadsThenTalks(all);
}

// An application that peeks at an offset (SO_PEEK_OFF): the checkpoint
// saves the whole queue and leaves the offset where it was, on the original
// and on the restored socket.
TEST_P(UrgentDataTest, ApplicationPeekOffset) {
  SetInt(client(), SO_PEEK_OFF, 0);
  if (GetInt(client(), SO_PEEK_OFF) != 0) {
    GTEST_SKIP() << "this kernel's TCP has no SO_PEEK_OFF (Linux 6.9)";
  }
  const std::string data = Pattern(kBefore, 5);
  ASSERT_OK(WriteAll(server(), data));
  ASSERT_OK(WaitNothingInFlight(server()));
  char peeked[1000];
  ASSERT_EQ(::recv(client().get(), peeked, sizeof(peeked), MSG_PEEK),
            static_cast<ssize_t>(sizeof(peeked)));
  ASSERT_EQ(GetInt(client(), SO_PEEK_OFF), 1000);
  {
    // A checkpoint of the original, which then carries on.
    Paused p = PauseAndCheckpoint();
    ASSERT_OK(p.paused.status());
    ASSERT_OK(p.state.status());
    EXPECT_TRUE(p.state->recv_queue.view() == data);
    ASSERT_OK(std::move(*p.paused).Resume());
  }
  EXPECT_EQ(GetInt(client(), SO_PEEK_OFF), 1000) << "the peek offset moved";
  ASSERT_NO_FATAL_FAILURE(MoveClient(data));
  EXPECT_EQ(GetInt(client(), SO_PEEK_OFF), 1000);
  // The next peek goes on from the offset, as it would have.
  char next[10];
  ASSERT_EQ(::recv(client().get(), next, sizeof(next), MSG_PEEK), 10);
  EXPECT_EQ(std::string(next, 10), data.substr(1000, 10));
  ClientReadsThenTalks(data);
}

// Both at once: a peek offset and an urgent byte read out of band.
TEST_P(UrgentDataTest, PeekOffsetAndUrgentHole) {
  SetInt(client(), SO_PEEK_OFF, 0);
  if (GetInt(client(), SO_PEEK_OFF) != 0) {
    GTEST_SKIP() << "this kernel's TCP has no SO_PEEK_OFF (Linux 6.9)";
  }
  SetInt(client(), SO_PEEK_OFF, 100);
  ServerSendsUrgent();
  ASSERT_EQ(ReadUrgent(client()), 'U');
  ASSERT_NO_FATAL_FAILURE(MoveClient(before_ + after_));
  EXPECT_EQ(GetInt(client(), SO_PEEK_OFF), 100);
  SetInt(client(), SO_PEEK_OFF, -1);
  ClientReadsThenTalks(before_ + after_);
}

INSTANTIATE_TEST_SUITE_P(
    Families, UrgentDataTest,
    ::testing::Values(Case{Family::kV4, Mode::kDefault},
                      Case{Family::kV6, Mode::kDefault},
                      Case{Family::kMapped, Mode::kDefault},
                      Case{Family::kV4, Mode::kMigration},
                      Case{Family::kV6, Mode::kMigration},
                      Case{Family::kMapped, Mode::kMigration}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return absl::StrCat(
          soccr::loopback::FamilyName(info.param.family),
          info.param.mode == Mode::kMigration ? "_ReadAhead" : "");
    });

}  // namespace
}  // namespace soccr
