/*
 * <soccr/move.h> from C, linked with libsoccr.so, in a private network
 * namespace per test: check, dump to a pipe and restore from it, lock and
 * unlock, and libcriu-style errors.
 */

#include <errno.h>
#include <fcntl.h>
#include <soccr/move.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "soccr_c/testing/harness.h"
#include "soccr_c/testing/tcp.h"

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static void TestCheck(void) { EXPECT_EQ(soccr_move_check(), 0); }

static void TestDumpToAPipeRestoreFromIt(void) {
  int client, server;
  CHECK(ct_connected_pair(CT_V4, 0, &client, &server) == 0);
  CHECK(ct_traffic_both_ways(client, server, 1000, 1) == 0);
  CHECK(ct_write_all(server, "unread", 6) == 0); /* in client's queue */
  sleep_ms(50);
  int p[2];
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  EXPECT_EQ(soccr_move_dump_fd(client, p[1], SOCCR_MOVE_DUMP_CLOSE), 0);
  close(p[1]);
  const int live = soccr_move_restore_fd(p[0]);
  close(p[0]);
  CHECK(live >= 0);
  char got[6];
  CHECK(ct_read_exactly(live, got, 6) == 0);
  EXPECT(memcmp(got, "unread", 6) == 0);
  EXPECT_EQ(ct_traffic_both_ways(live, server, 100000, 2), 0);
  close(live);
  close(client);
  close(server);
}

static void TestLockHoldsThePeersPacketsUntilUnlock(void) {
  int client, server;
  CHECK(ct_connected_pair(CT_V6, 0, &client, &server) == 0);
  struct soccr_move_conn c;
  memset(&c, 0, sizeof(c));
  socklen_t len = sizeof(c.local);
  CHECK(getsockname(server, &c.local.sa, &len) == 0);
  len = sizeof(c.peer);
  CHECK(getpeername(server, &c.peer.sa, &len) == 0);
  char id[SOCCR_MOVE_LOCK_ID_SIZE];
  CHECK(soccr_move_lock(&c, 1, id) == 0);
  EXPECT_EQ(strlen(id), 16u);
  CHECK(ct_write_all(client, "held", 4) == 0);
  sleep_ms(250);
  EXPECT_EQ(ct_inq(server), 0);
  EXPECT_EQ(soccr_move_unlock(id), 0);
  char got[4];
  CHECK(ct_read_exactly(server, got, 4) == 0);
  EXPECT(memcmp(got, "held", 4) == 0);
  EXPECT_EQ(soccr_move_unlock(id), -ENOENT);
  close(client);
  close(server);
}

static void TestErrorsFollowLibcriusTable(void) {
  EXPECT_EQ(soccr_move_send(NULL), -EINVAL);
  struct soccr_move_send_opts small;
  memset(&small, 0, sizeof(small));
  small.size = 8; /* a struct from nowhere */
  EXPECT_EQ(soccr_move_send(&small), -EINVAL);
  EXPECT_EQ(soccr_move_receive(NULL, NULL, 0), -EINVAL);
  EXPECT_EQ(soccr_move_unlock(NULL), -EINVAL);
  EXPECT_EQ(soccr_move_unlock("not a lock"), -EINVAL);
  EXPECT_EQ(soccr_move_unlock("0123456789abcdef"), -ENOENT);
  EXPECT_EQ(soccr_move_restore_fd(-1), -EINVAL);
  EXPECT_EQ(soccr_move_dump_fd(0, 1, 4), -EINVAL);
  EXPECT_EQ(soccr_move_lock(NULL, 3, NULL), -EINVAL);

  /* A stream that is not an image. */
  int p[2];
  CHECK(pipe2(p, O_CLOEXEC) == 0);
  CHECK(write(p[1], "garbage, not an image, garbage, garbage, garbage", 48) ==
        48);
  close(p[1]);
  EXPECT_EQ(soccr_move_restore_fd(p[0]), -EBADMSG);
  close(p[0]);

  /* Nobody listening: refused (the connection stays here, untouched). */
  int client, server;
  CHECK(ct_connected_pair(CT_V4, 0, &client, &server) == 0);
  struct soccr_move_send_opts o;
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.pid = getpid();
  o.fds = &client;
  o.nfds = 1;
  o.timeout_ms = 200;
  o.to = "127.0.0.1:1";
  EXPECT_EQ(soccr_move_send(&o), -ECONNREFUSED);
  EXPECT_EQ(ct_traffic_both_ways(client, server, 1000, 3), 0);
  close(client);
  close(server);
}

int main(int argc, char **argv) {
  static const struct ct_test tests[] = {
      CT_TEST(TestCheck),
      CT_TEST(TestDumpToAPipeRestoreFromIt),
      CT_TEST(TestLockHoldsThePeersPacketsUntilUnlock),
      CT_TEST(TestErrorsFollowLibcriusTable),
  };
  return ct_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
