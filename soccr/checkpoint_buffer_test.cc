// CheckpointBuffer: memory reused across checkpoints, never while a
// QueueBytes still refers to it; and checkpoints of live connections into it.

#include "soccr/checkpoint_buffer.h"

#include <string.h>

#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::loopback::Pattern;

QueueBytes Fill(CheckpointBuffer& buffer, absl::string_view text) {
  uint8_t* out = nullptr;
  QueueBytes q = buffer.Allocate(text.size(), &out);
  memcpy(out, text.data(), text.size());
  return q;
}

TEST(CheckpointBufferTest, ReusesItsMemoryOnceNothingRefersToIt) {
  CheckpointBuffer buffer(1 << 20);
  EXPECT_GE(buffer.capacity(), size_t{1} << 20);
  buffer.Prepare(300);
  const uint8_t* first;
  {
    QueueBytes a = Fill(buffer, "receive queue");
    QueueBytes b = Fill(buffer, "send queue");
    EXPECT_TRUE(buffer.in_use());
    EXPECT_EQ(a.view(), "receive queue");
    EXPECT_EQ(b.view(), "send queue");
    EXPECT_GE(b.data(), a.data() + a.size());  // no overlap
    first = a.data();
  }
  EXPECT_FALSE(buffer.in_use());
  buffer.Prepare(300);
  QueueBytes c = Fill(buffer, "again");
  EXPECT_EQ(c.data(), first);
}

TEST(CheckpointBufferTest, NeverTouchesMemoryStillInUse) {
  CheckpointBuffer buffer(4096);
  buffer.Prepare(4000);
  const QueueBytes kept = Fill(buffer, std::string(4000, 'k'));
  // The next checkpoint does not fit behind it: new memory, old untouched.
  buffer.Prepare(4000);
  const QueueBytes next = Fill(buffer, std::string(4000, 'n'));
  EXPECT_NE(next.data(), kept.data());
  EXPECT_EQ(kept.view(), std::string(4000, 'k'));
  EXPECT_EQ(next.view(), std::string(4000, 'n'));
  // A copy of a queue counts as a reference too.
  QueueBytes copy = next;
  buffer.Prepare(10);
  const QueueBytes small = Fill(buffer, "x");
  EXPECT_NE(small.data(), next.data());
  EXPECT_EQ(copy.view(), std::string(4000, 'n'));
}

TEST(CheckpointBufferTest, GrowsAndFallsBack) {
  CheckpointBuffer buffer;
  EXPECT_EQ(buffer.capacity(), 0u);
  // Not prepared: ordinary memory, still correct.
  const QueueBytes heap = Fill(buffer, "no buffer yet");
  EXPECT_EQ(heap.view(), "no buffer yet");
  EXPECT_FALSE(buffer.in_use());
  buffer.Prepare(100000);
  EXPECT_GE(buffer.capacity(), 100000u);
  uint8_t* out = nullptr;
  EXPECT_TRUE(buffer.Allocate(0, &out).empty());
  EXPECT_EQ(out, nullptr);
}

class CheckpointIntoBufferTest : public soccr::testing::NetnsTest {};

TEST_F(CheckpointIntoBufferTest, SameStateAndReusedMemory) {
  ASSERT_OK_AND_ASSIGN(
      pair, soccr::loopback::ConnectedPair(soccr::loopback::Family::kV4));
  const std::string to_client = Pattern(60000, 1);
  ASSERT_OK(soccr::loopback::WriteAll(pair.server.borrow(), to_client));
  ASSERT_OK(soccr::loopback::WaitInq(pair.client.borrow(), to_client.size()));
  ASSERT_OK(soccr::loopback::DropIncoming(pair.server.borrow()));
  const std::string to_server = Pattern(20000, 2);
  ASSERT_OK(soccr::loopback::WriteAll(pair.client.borrow(), to_server));

  ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(pair.client.borrow()));
  ASSERT_OK_AND_ASSIGN(plain, Checkpoint(paused));
  // The TCP timestamp clock (milliseconds) moves on between checkpoints;
  // everything else must be the same.
  auto same_state = [&plain](ConnectionState s) {
    s.timestamp = plain.timestamp;
    return s == plain;
  };
  CheckpointBuffer buffer;
  CheckpointOptions options;
  options.buffer = &buffer;
  const uint8_t* recv_at;
  {
    ASSERT_OK_AND_ASSIGN(first, Checkpoint(paused, options));
    EXPECT_TRUE(same_state(first)) << first.ToString();
    EXPECT_TRUE(first.recv_queue.view() == to_client);
    EXPECT_TRUE(first.send_queue.view() == to_server);
    EXPECT_TRUE(buffer.in_use());
    recv_at = first.recv_queue.data();
  }
  // The first checkpoint's state is gone: the second reuses its memory.
  ASSERT_OK_AND_ASSIGN(second, Checkpoint(paused, options));
  EXPECT_EQ(second.recv_queue.data(), recv_at);
  EXPECT_TRUE(same_state(second)) << second.ToString();
  // While `second` lives, a third gets other memory and leaves it alone.
  ASSERT_OK_AND_ASSIGN(third, Checkpoint(paused, options));
  EXPECT_NE(third.recv_queue.data(), recv_at);
  EXPECT_TRUE(same_state(third)) << third.ToString();
  EXPECT_TRUE(same_state(second)) << second.ToString();
  ASSERT_OK(std::move(paused).Resume());
}

}  // namespace
}  // namespace soccr
