// The helper against the kernel: what it serves, and each refusal (the
// connection closed, nothing switched, every received descriptor closed).

#include "soccr/repair_helper/server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/repair_helper/client.h"
#include "soccr/repair_helper/protocol.h"
#include "soccr/testing/netns.h"

namespace soccr::repair_helper {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

int OpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n;
}

int RepairOf(BorrowedFd fd) {
  int v = -2;
  socklen_t len = sizeof(v);
  if (getsockopt(fd.get(), SOL_TCP, TCP_REPAIR, &v, &len) != 0) return -3;
  return v;
}

// Sends a request the way a client might, right or wrong.
void SendRaw(BorrowedFd conn, const std::vector<uint8_t>& data,
             const std::vector<int>& fds) {
  struct iovec iov = {const_cast<uint8_t*>(data.data()), data.size()};
  alignas(struct cmsghdr) uint8_t control[kControlBufferSize] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ASSERT_EQ(sendmsg(conn.get(), &msg, MSG_NOSIGNAL),
            static_cast<ssize_t>(data.size()))
      << strerror(errno);
}

class ServerTest : public testing::NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    client_.reset(sv[0]);
    server_.reset(sv[1]);
    absl::StatusOr<NetnsId> ns = CurrentNetns();
    ASSERT_TRUE(ns.ok()) << ns.status();
    policy_.netns = *ns;
    policy_.allowed_uids = {getuid()};
    absl::StatusOr<loopback::TcpPair> pair =
        loopback::ConnectedPair(loopback::Family::kV4);
    ASSERT_TRUE(pair.ok()) << pair.status();
    pair_ = *std::move(pair);
  }

  // Serves what the client sent: the helper's verdict.
  absl::Status ServeSent() {
    absl::StatusOr<bool> r = ServeOneRequest(server_.borrow(), policy_);
    if (!r.ok()) return r.status();
    return *r ? absl::OkStatus() : absl::CancelledError("peer closed");
  }

  // The request is refused with `code`, the TCP socket untouched, and the
  // helper's copies of the descriptors closed.
  void ExpectRefused(const std::vector<uint8_t>& data,
                     const std::vector<int>& fds, absl::StatusCode code,
                     absl::string_view why) {
    const int before = OpenFds();
    SendRaw(client_.borrow(), data, fds);
    const absl::Status s = ServeSent();
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_THAT(s.message(), HasSubstr(why));
    EXPECT_EQ(OpenFds(), before) << "a received descriptor was left open";
    EXPECT_EQ(RepairOf(pair_.client.borrow()), 0);
  }

  OwnedFd client_, server_;
  Policy policy_;
  loopback::TcpPair pair_;
};

TEST_F(ServerTest, SwitchesEachCommandAndReplies) {
  const int fd = pair_.client.get();
  for (int8_t command :
       {kCommandOn, kCommandOff, kCommandOn, kCommandOffNoWindowProbe}) {
    const int before = OpenFds();
    SendRaw(client_.borrow(), {static_cast<uint8_t>(command)}, {fd});
    ASSERT_TRUE(ServeSent().ok());
    EXPECT_EQ(OpenFds(), before);
    uint8_t reply = 0x55;
    ASSERT_EQ(recv(client_.get(), &reply, 1, MSG_DONTWAIT), 1);
    EXPECT_EQ(static_cast<int8_t>(reply), command);
    EXPECT_EQ(RepairOf(pair_.client.borrow()), command == kCommandOn ? 1 : 0);
  }
}

TEST_F(ServerTest, SwitchesMaximumBatch) {
  std::vector<loopback::TcpPair> pairs;
  std::vector<int> fds;
  for (int i = 0; i < kMaxFds; ++i) {
    absl::StatusOr<loopback::TcpPair> p =
        loopback::ConnectedPair(loopback::Family::kV6);
    ASSERT_TRUE(p.ok()) << p.status();
    fds.push_back(p->client.get());
    pairs.push_back(*std::move(p));
  }
  SendRaw(client_.borrow(), {1}, fds);
  ASSERT_TRUE(ServeSent().ok());
  for (const auto& p : pairs) EXPECT_EQ(RepairOf(p.client.borrow()), 1);
}

TEST_F(ServerTest, RefusesUnknownCommand) {
  ExpectRefused({7}, {pair_.client.get()}, absl::StatusCode::kInvalidArgument,
                "unknown command byte 7");
}

TEST_F(ServerTest, RefusesNoDescriptors) {
  ExpectRefused({1}, {}, absl::StatusCode::kInvalidArgument, "no descriptors");
}

TEST_F(ServerTest, RefusesTheBytesAfterTheFirstOfOneMessage) {
  // The descriptors go with the first byte; the second byte is a request
  // of its own, without any.
  SendRaw(client_.borrow(), {1, 1}, {pair_.client.get()});
  ASSERT_TRUE(ServeSent().ok());
  const absl::Status s = ServeSent();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("no descriptors"));
}

TEST_F(ServerTest, RefusesUnixSocket) {
  ExpectRefused({1}, {pair_.client.get(), client_.get()},
                absl::StatusCode::kInvalidArgument,
                "descriptor 2 of 2: not a TCP socket (address family 1)");
}

TEST_F(ServerTest, RefusesFile) {
  const OwnedFd file(open("/dev/null", O_RDONLY | O_CLOEXEC));
  ExpectRefused({1}, {file.get()}, absl::StatusCode::kInvalidArgument,
                "not a socket");
}

TEST_F(ServerTest, RefusesUdpSocket) {
  const OwnedFd udp(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ExpectRefused({1}, {udp.get()}, absl::StatusCode::kInvalidArgument,
                "not a TCP socket (type 2, protocol 17)");
}

TEST_F(ServerTest, RefusesListeningSocket) {
  const OwnedFd l(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(listen(l.get(), 1), 0);
  ExpectRefused({1}, {pair_.client.get(), l.get()},
                absl::StatusCode::kInvalidArgument, "a listening socket");
}

TEST_F(ServerTest, RefusesSocketOfAnotherNetworkNamespace) {
  ASSERT_TRUE(loopback::EnterPrivateNetns().ok());  // policy_.netns stays
  const OwnedFd other(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ExpectRefused({1}, {other.get()}, absl::StatusCode::kPermissionDenied,
                "another network namespace");
  policy_.any_netns = true;
  SendRaw(client_.borrow(), {1}, {other.get()});
  EXPECT_TRUE(ServeSent().ok());
  EXPECT_EQ(RepairOf(other.borrow()), 1);
}

TEST_F(ServerTest, RefusesPeerOfAnotherUid) {
  EXPECT_TRUE(CheckPeer(server_.borrow(), policy_).ok());
  policy_.allowed_uids = {getuid() + 1};
  const absl::Status s = CheckPeer(server_.borrow(), policy_);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("is not allowed"));
  policy_.allowed_uids.clear();
  EXPECT_EQ(CheckPeer(server_.borrow(), policy_).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(ServerTest, ClosesAnIdleConnection) {
  policy_.idle_timeout = absl::Milliseconds(50);
  const absl::Status s = ServeConnection(server_.borrow(), policy_);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(ServerTest, EndsWhenThePeerCloses) {
  client_.reset();
  EXPECT_TRUE(ServeConnection(server_.borrow(), policy_).ok());
}

// The service and the client library together.
class ServiceTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    char dir[] = "/tmp/soccr-repair-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/sock";
  }
  void TearDown() override {
    Stop();
    rmdir(dir_.c_str());
  }
  void Start() {
    thread_ = std::thread([this] {
      result_ = ListenAndServe(
          path_, policy_, [this](absl::string_view l) { log_.emplace_back(l); },
          stop_);
    });
    // The socket file appears once the service listens.
    for (int i = 0; i < 2000 && access(path_.c_str(), F_OK) != 0; ++i) {
      usleep(1000);
    }
  }
  void Stop() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    thread_.join();
  }
  std::string dir_, path_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  absl::Status result_;
  std::vector<std::string> log_;
};

TEST_F(ServiceTest, ServesAndAnswersEachSocketOfARefusedBatch) {
  Start();
  absl::StatusOr<RepairHelperClient> client =
      RepairHelperClient::Connect(path_);
  ASSERT_TRUE(client.ok()) << client.status();
  const OwnedFd l(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(listen(l.get(), 1), 0);
  const BorrowedFd fds[] = {pair_.client.borrow(), l.borrow(),
                            pair_.server.borrow()};
  EXPECT_THAT(client->SetRepair(fds, kCommandOn), ElementsAre(0, EPERM, 0));
  EXPECT_EQ(RepairOf(pair_.client.borrow()), 1);
  EXPECT_EQ(RepairOf(pair_.server.borrow()), 1);
  // One refused batch, then one request per socket.
  EXPECT_EQ(client->round_trips(), 4u);
  EXPECT_THAT(
      client->SetRepair(absl::MakeConstSpan(fds).subspan(0, 1), kCommandOff),
      ElementsAre(0));
  EXPECT_EQ(RepairOf(pair_.client.borrow()), 0);
  Stop();
  EXPECT_TRUE(result_.ok()) << result_;
  EXPECT_NE(access(path_.c_str(), F_OK), 0) << "the socket file remains";
  EXPECT_THAT(log_, ::testing::Contains(HasSubstr("a listening socket")));
}

TEST_F(ServiceTest, RefusesClientsOfOtherUids) {
  policy_.allowed_uids = {getuid() + 1};
  Start();
  absl::StatusOr<RepairHelperClient> client =
      RepairHelperClient::Connect(path_);
  ASSERT_TRUE(client.ok()) << client.status();
  const BorrowedFd fds[] = {pair_.client.borrow()};
  EXPECT_THAT(client->SetRepair(fds, kCommandOn), ElementsAre(EPERM));
  EXPECT_EQ(RepairOf(pair_.client.borrow()), 0);
  Stop();
  EXPECT_THAT(log_, ::testing::Contains(HasSubstr("client refused")));
}

TEST_F(ServiceTest, ReconnectsAfterTheIdleTimeout) {
  policy_.idle_timeout = absl::Milliseconds(20);
  Start();
  absl::StatusOr<RepairHelperClient> client =
      RepairHelperClient::Connect(path_);
  ASSERT_TRUE(client.ok()) << client.status();
  usleep(200 * 1000);  // the service closes our connection meanwhile
  const BorrowedFd fds[] = {pair_.client.borrow()};
  EXPECT_THAT(client->SetRepair(fds, kCommandOn), ElementsAre(0));
  EXPECT_EQ(RepairOf(pair_.client.borrow()), 1);
}

TEST_F(ServiceTest, RefusesToTakeOverALiveService) {
  Start();
  std::atomic<bool> stop{false};
  const absl::Status s = ListenAndServe(
      path_, policy_, [](absl::string_view) {}, stop);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
}

// A client that finds the socket file may connect at once: the file appears
// only once the service listens (bind() alone creates it, and a connect()
// between bind() and listen() is refused). Each round starts a service and
// connects as soon as the name exists, never waiting in between.
TEST_F(ServiceTest, TheSocketFileAppearsOnlyOnceItListens) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path_.size(), sizeof(addr.sun_path));
  memcpy(addr.sun_path, path_.data(), path_.size());
  const auto* sa = reinterpret_cast<const struct sockaddr*>(&addr);
  for (int round = 0; round < 20; ++round) {
    std::atomic<bool> stop{false}, ended{false};
    absl::Status result;
    std::thread service([&] {
      result = ListenAndServe(
          path_, policy_, [](absl::string_view) {}, stop);
      ended.store(true);
    });
    int err = ENOENT;
    while (err == ENOENT && !ended.load()) {
      OwnedFd c(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      ASSERT_TRUE(c);
      err = connect(c.get(), sa, sizeof(addr)) == 0 ? 0 : errno;
    }
    stop.store(true);
    {  // wakes the service's poll, so that it sees `stop`
      OwnedFd c(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      (void)connect(c.get(), sa, sizeof(addr));
    }
    service.join();
    ASSERT_EQ(err, 0) << "round " << round << ": connect: " << strerror(err);
    ASSERT_TRUE(result.ok()) << result;
    // No temporary name is left beside it.
    std::vector<std::string> left;
    DIR* d = opendir(dir_.c_str());
    ASSERT_NE(d, nullptr);
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') left.emplace_back(e->d_name);
    }
    closedir(d);
    EXPECT_THAT(left, ::testing::IsEmpty()) << "round " << round;
  }
}

// passt-repair's direction: we listen, the helper connects.
TEST_F(ServiceTest, ConnectsToAListeningProgram) {
  OwnedFd l(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, path_.c_str());
  ASSERT_EQ(
      bind(l.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)),
      0);
  ASSERT_EQ(listen(l.get(), 1), 0);
  absl::Status served;
  std::thread helper([&] { served = ConnectAndServe(path_, policy_); });
  OwnedFd conn(accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn);
  {
    RepairHelperClient client =
        RepairHelperClient::FromConnection(std::move(conn));
    const BorrowedFd fds[] = {pair_.client.borrow()};
    EXPECT_THAT(client.SetRepair(fds, kCommandOn), ElementsAre(0));
    EXPECT_EQ(RepairOf(pair_.client.borrow()), 1);
  }  // closing our end ends the helper
  helper.join();
  EXPECT_TRUE(served.ok()) << served;
  unlink(path_.c_str());
}

}  // namespace
}  // namespace soccr::repair_helper
