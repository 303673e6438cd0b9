/*
 * soccr_sock_diag_keep (<soccr/move.h>): a thread that asks keeps one
 * netlink socket for all its checkpoints (one descriptor more, however
 * many connections it moves, and the moves work as without it); dropping
 * it, or the thread's exit, closes it; without asking nothing is kept; a
 * forked child checkpoints on a socket of its own.
 */

#include <pthread.h>
#include <soccr/move.h>
#include <soccr/soccr.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "soccr_c/testing/harness.h"
#include "soccr_c/testing/image.h"
#include "soccr_c/testing/tcp.h"

/* Moves the client end of (*client, server) to a new socket through the C
 * API (checkpoint, close, restore) and checks that bytes still flow both
 * ways; *client becomes the new socket. 0 or -1. */
static int move_and_check(int *client, int server, uint64_t seed) {
  struct ct_image img;
  if (ct_checkpoint(*client, &img) != 0) return -1;
  close(*client); /* in repair mode: sends nothing */
  *client = ct_restore(&img, SOCCR_MEM_EXCL);
  ct_image_free(&img);
  if (*client < 0) return -1;
  return ct_traffic_both_ways(*client, server, 1000, seed);
}

static void TestNothingKeptUnlessAsked(void) {
  int client = -1, server = -1;
  CHECK_EQ(ct_connected_pair(CT_V4, 0, &client, &server), 0);
  const int before = ct_count_open_fds();
  for (int i = 0; i < 3; ++i) {
    CHECK_EQ(move_and_check(&client, server, (uint64_t)i), 0);
    EXPECT_EQ(ct_count_open_fds(), before);
  }
  EXPECT_EQ(soccr_sock_diag_keep(0), 0);
  close(client);
  close(server);
}

static void TestOneSocketForManyMovesThenClosed(void) {
  int client = -1, server = -1;
  CHECK_EQ(ct_connected_pair(CT_V6, 0, &client, &server), 0);
  const int before = ct_count_open_fds();
  EXPECT_EQ(soccr_sock_diag_keep(1), 0);
  /* Made by the first checkpoint, not by the call. */
  EXPECT_EQ(ct_count_open_fds(), before);
  for (int i = 0; i < 5; ++i) {
    CHECK_EQ(move_and_check(&client, server, (uint64_t)i), 0);
    EXPECT_EQ(ct_count_open_fds(), before + 1);
  }
  EXPECT_EQ(soccr_sock_diag_keep(1), 1); /* asking again changes nothing */
  CHECK_EQ(move_and_check(&client, server, 9), 0);
  EXPECT_EQ(ct_count_open_fds(), before + 1);
  EXPECT_EQ(soccr_sock_diag_keep(0), 1);
  EXPECT_EQ(ct_count_open_fds(), before);
  CHECK_EQ(move_and_check(&client, server, 10), 0);
  EXPECT_EQ(ct_count_open_fds(), before);
  close(client);
  close(server);
}

struct thread_job {
  int client, server;
  int result;
};

static void *keep_and_move(void *arg) {
  struct thread_job *job = (struct thread_job *)arg;
  soccr_sock_diag_keep(1);
  job->result = move_and_check(&job->client, job->server, 21);
  return NULL; /* exits with its socket kept: the exit closes it */
}

static void TestAThreadsSocketIsClosedWhenItExits(void) {
  struct thread_job job = {-1, -1, -1};
  CHECK_EQ(ct_connected_pair(CT_V4, 0, &job.client, &job.server), 0);
  const int before = ct_count_open_fds();
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, keep_and_move, &job), 0);
  CHECK_EQ(pthread_join(t, NULL), 0);
  EXPECT_EQ(job.result, 0);
  EXPECT_EQ(ct_count_open_fds(), before);
  /* The main thread never asked: nothing kept here. */
  EXPECT_EQ(soccr_sock_diag_keep(0), 0);
  close(job.client);
  close(job.server);
}

static void TestAForkedChildChecksOnItsOwnSocket(void) {
  int client = -1, server = -1, cc = -1, cs = -1;
  CHECK_EQ(ct_connected_pair(CT_V4, 0, &client, &server), 0);
  CHECK_EQ(ct_connected_pair(CT_V4, 0, &cc, &cs), 0); /* the child's */
  EXPECT_EQ(soccr_sock_diag_keep(1), 0);
  CHECK_EQ(move_and_check(&client, server, 31), 0);
  const int before = ct_count_open_fds();
  const pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    /* The inherited copy is closed and another made: as many descriptors
     * as before, and the checkpoint works. (A snapshot, resumed: the
     * parent's descriptor keeps the original, so no copy could be made.) */
    struct libsoccr_sk *h = libsoccr_pause(cc);
    struct libsoccr_sk_data data;
    const int saved = h != NULL && libsoccr_save(h, &data, sizeof(data)) >= 0;
    if (h != NULL) libsoccr_resume(h);
    const int ok = saved && ct_count_open_fds() == before &&
                   ct_traffic_both_ways(cc, cs, 1000, 32) == 0;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  CHECK_EQ(waitpid(child, &status, 0), child);
  EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(cc);
  close(cs);
  /* The parent's kept socket still answers, and no other is made. */
  CHECK_EQ(move_and_check(&client, server, 33), 0);
  EXPECT_EQ(ct_count_open_fds(), before - 2);
  EXPECT_EQ(soccr_sock_diag_keep(0), 1);
  close(client);
  close(server);
}

int main(int argc, char **argv) {
  static const struct ct_test tests[] = {
      CT_TEST(TestNothingKeptUnlessAsked),
      CT_TEST(TestOneSocketForManyMovesThenClosed),
      CT_TEST(TestAThreadsSocketIsClosedWhenItExits),
      CT_TEST(TestAForkedChildChecksOnItsOwnSocket),
  };
  return ct_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
