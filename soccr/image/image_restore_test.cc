// Live connections through an image file: checkpoint into a reusable
// buffer, write the image, close the originals silently, map the file,
// restore from the mapping in place, and check every byte of the rest of
// each conversation.

#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "soccr/image/image.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/testing/netns.h"
#include "soccr/testing/status_macros.h"

namespace soccr {
namespace {

using ::soccr::loopback::Family;
using ::soccr::loopback::Pattern;

std::string TempPath(absl::string_view name) {
  const char* dir = getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

// A connection caught with data in both queues: `to_client` unread in the
// client's receive queue, and the start of `to_server` (`written` bytes)
// split between the server's receive queue and the client's send queue.
struct Caught {
  soccr::loopback::TcpPair pair;
  std::string to_client;
  std::string to_server;
  size_t written = 0;
};

void Catch(Family family, uint64_t seed, Caught& c) {
  ASSERT_OK_AND_ASSIGN(pair, soccr::loopback::ConnectedPair(family));
  c.pair = std::move(pair);
  c.to_client = Pattern(70000, seed);
  c.to_server = Pattern(4 << 20, seed + 1);
  const BorrowedFd client = c.pair.client.borrow();
  ASSERT_OK(soccr::loopback::WriteAll(c.pair.server.borrow(), c.to_client));
  ASSERT_OK(soccr::loopback::WaitInq(client, c.to_client.size()));
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(c.pair.server.borrow()));
  ASSERT_OK_AND_ASSIGN(n, soccr::loopback::WriteSome(client, c.to_server));
  c.written = n;
  ASSERT_OK(soccr::loopback::WaitNothingInFlight(client));
  ASSERT_GT(soccr::loopback::OutqLen(client), 0);
  const int one = 1;
  ASSERT_EQ(::setsockopt(client.get(), SOL_TCP, TCP_NODELAY, &one, 4), 0);
}

// The rest of the conversation over the restored socket, byte by byte.
void Finish(const Caught& c, BorrowedFd restored) {
  ASSERT_OK_AND_ASSIGN(server_got, soccr::loopback::ReadExactly(
                                       c.pair.server.borrow(), c.written));
  EXPECT_TRUE(server_got == c.to_server.substr(0, c.written));
  ASSERT_OK_AND_ASSIGN(
      client_got, soccr::loopback::ReadExactly(restored, c.to_client.size()));
  EXPECT_TRUE(client_got == c.to_client);
  const std::string more = Pattern(50000, 99);
  ASSERT_OK(soccr::loopback::WriteAll(restored, more));
  ASSERT_OK_AND_ASSIGN(
      got, soccr::loopback::ReadExactly(c.pair.server.borrow(), more.size()));
  EXPECT_TRUE(got == more);
  int nodelay = 0;
  socklen_t len = sizeof(nodelay);
  ::getsockopt(restored.get(), SOL_TCP, TCP_NODELAY, &nodelay, &len);
  EXPECT_EQ(nodelay, 1);
}

class ImageRestoreTest : public soccr::testing::NetnsTest {};

TEST_F(ImageRestoreTest, ThreeConnectionsThroughOneFile) {
  const Family families[] = {Family::kV4, Family::kV6, Family::kMapped};
  std::vector<Caught> caught(3);
  for (int i = 0; i < 3; ++i) Catch(families[i], 10 * i, caught[i]);

  const std::string path = TempPath("three.soccr");
  CheckpointBuffer buffer;
  CheckpointOptions options;
  options.buffer = &buffer;
  {
    std::vector<ConnectionState> states;
    for (Caught& c : caught) {
      ASSERT_OK_AND_ASSIGN(paused, PausedSocket::Pause(c.pair.client.borrow()));
      ASSERT_OK_AND_ASSIGN(state, Checkpoint(paused, options));
      EXPECT_TRUE(state.recv_queue.view() == c.to_client);
      states.push_back(std::move(state));
      std::move(paused).LeaveInRepairMode();
      c.pair.client.reset();  // silently: the peer sees nothing
    }
    OwnedFd fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd);
    ASSERT_OK(WriteImage(fd.borrow(), states));
  }
  // Only the file carries the states from here on.
  EXPECT_FALSE(buffer.in_use());

  ASSERT_OK_AND_ASSIGN(file, MappedFile::Open(path));
  ASSERT_OK_AND_ASSIGN(image, ImageReader::Open(file));
  ASSERT_EQ(image.size(), 3u);
  const uint8_t* begin = file.bytes().data();
  const uint8_t* end = begin + file.bytes().size();
  // In reverse order, each on its own.
  for (int i = 2; i >= 0; --i) {
    SCOPED_TRACE(soccr::loopback::FamilyName(families[i]));
    ASSERT_OK_AND_ASSIGN(state, image.Read(i));
    // No queue byte copied: the restore reads them from the mapping.
    EXPECT_TRUE(state.recv_queue.data() >= begin &&
                state.recv_queue.data() < end);
    EXPECT_TRUE(state.send_queue.data() >= begin &&
                state.send_queue.data() < end);
    ASSERT_OK_AND_ASSIGN(restored, Restore(state));
    ASSERT_OK_AND_ASSIGN(fd, std::move(restored).Resume());
    Finish(caught[i], fd.borrow());
  }
}

}  // namespace
}  // namespace soccr
