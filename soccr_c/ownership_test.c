/*
 * SOCCR_MEM_EXCL, both ways, for every get and set call: with the flag the
 * receiving side owns the memory (the caller free()s what it gets, the
 * library free()s what it is given); without it the giver keeps it.
 *
 * Under --config=asan (a CI step) LeakSanitizer reports any buffer nobody
 * freed and AddressSanitizer any buffer freed twice or used after its
 * owner freed it. Without ASan, the heap's size (mallinfo2) shows leaks.
 */

#include <malloc.h>
#include <netinet/in.h>
#include <soccr/soccr.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "soccr_c/testing/harness.h"
#include "soccr_c/testing/image.h"
#include "soccr_c/testing/log_capture.h"
#include "soccr_c/testing/tcp.h"

#if defined(__SANITIZE_ADDRESS__)
#define CT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CT_ASAN 1
#endif
#endif

/* A connection whose client holds `inq` bytes in its receive queue and, in
 * its send queue, unsent, what of up to `outq` bytes it wrote did not fit
 * into the server's small receive buffer. */
struct conn {
  int client, server;
  char *to_client, *to_server;
  size_t inq;
  long written; /* bytes the client wrote */
};

static int make_conn(struct conn *c, size_t inq, size_t outq, uint64_t seed) {
  memset(c, 0, sizeof(*c));
  c->client = c->server = -1;
  c->inq = inq;
  c->to_client = ct_pattern(inq, seed, 0);
  c->to_server = ct_pattern(outq, seed + 1, 0);
  if (ct_connected_pair(CT_V4, 64 << 10, &c->client, &c->server) != 0) {
    return -1;
  }
  if (ct_write_all(c->server, c->to_client, inq) != 0) return -1;
  if (ct_wait_inq(c->client, inq) != 0) return -1;
  if (ct_wait_nothing_in_flight(c->server) != 0) return -1;
  c->written = ct_write_some(c->client, c->to_server, outq);
  if (c->written <= 0) return -1;
  return ct_wait_nothing_in_flight(c->client);
}

static void free_conn(struct conn *c) {
  free(c->to_client);
  free(c->to_server);
  if (c->client >= 0) close(c->client);
  if (c->server >= 0) close(c->server);
}

/* Checks that the restored socket and the server exchange exactly what was
 * checkpointed. */
static int expect_restored(struct conn *c, int restored) {
  if (ct_expect_stream(c->server, c->to_server, (size_t)c->written) != 0) {
    return -1;
  }
  if (ct_expect_stream(restored, c->to_client, c->inq) != 0) return -1;
  return ct_traffic_both_ways(restored, c->server, 2000, 99);
}

static void TestGetQueueBytesOwnership(void) {
  struct conn c;
  struct libsoccr_sk_data data;
  struct libsoccr_sk *h;
  char *kept, *kept_again, *taken, *taken_fresh, *send_kept, *later;
  const char *outq_start;
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(make_conn(&c, 3000, 1 << 20, 1) == 0);
  h = libsoccr_pause(c.client);
  CHECK(h != NULL);
  CHECK_EQ(libsoccr_save(h, &data, sizeof(data)), sizeof(data));
  CHECK_EQ(data.inq_len, 3000);
  CHECK(data.outq_len > 0);
  outq_start = c.to_server + (c.written - data.outq_len);

  /* Without the flag: the library's buffer, the same one each time. */
  kept = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, 0);
  kept_again = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, 0);
  CHECK(kept != NULL);
  EXPECT(kept == kept_again);
  EXPECT(memcmp(kept, c.to_client, 3000) == 0);
  /* With it, that very buffer becomes the caller's... */
  taken = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL);
  EXPECT(taken == kept);
  /* ...and the next one is a fresh copy. */
  taken_fresh = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL);
  CHECK(taken_fresh != NULL);
  EXPECT(taken_fresh != taken);
  EXPECT(memcmp(taken_fresh, c.to_client, 3000) == 0);
  send_kept = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, 0);
  CHECK(send_kept != NULL);
  EXPECT(memcmp(send_kept, outq_start, data.outq_len) == 0);

  /* A second save: the first one's buffers stay valid until resume. */
  CHECK_EQ(libsoccr_save(h, &data, sizeof(data)), sizeof(data));
  later = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, 0);
  CHECK(later != NULL);
  EXPECT(later != send_kept);
  EXPECT(memcmp(send_kept, outq_start, data.outq_len) == 0);
  EXPECT(memcmp(later, outq_start, data.outq_len) == 0);

  libsoccr_resume(h); /* frees send_kept and later */
  free(taken);
  free(taken_fresh);
  EXPECT_EQ(ct_log_count(0), 0);
  free_conn(&c);
}

/* The bytes a save copied out are the very ones a get call hands over (no
 * second copy), so once they went to the caller with SOCCR_MEM_EXCL the
 * library never reads them again, even after the caller freed them: asking
 * again checkpoints the queue again, and says so when it has changed. */
static void TestQueueAskedForAgainAfterTheCallerTookIt(void) {
  struct conn c;
  struct libsoccr_sk_data data;
  struct libsoccr_sk *h;
  char *taken, *kept, *again;
  const char *outq_start;
  char more[100];
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(make_conn(&c, 3000, 1 << 20, 2) == 0);
  h = libsoccr_pause(c.client);
  CHECK(h != NULL);
  CHECK_EQ(libsoccr_save(h, &data, sizeof(data)), sizeof(data));
  CHECK_EQ(data.inq_len, 3000);
  outq_start = c.to_server + (c.written - data.outq_len);

  taken = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL);
  CHECK(taken != NULL);
  EXPECT(memcmp(taken, c.to_client, 3000) == 0);
  memset(taken, 0xAA, 3000); /* Ours: the library must not see this... */
  free(taken);               /* ...nor read this memory again. */
  again = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL);
  CHECK(again != NULL);
  EXPECT(memcmp(again, c.to_client, 3000) == 0);
  free(again);

  kept = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, 0);
  CHECK(kept != NULL);
  taken = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, SOCCR_MEM_EXCL);
  EXPECT(taken == kept);
  free(taken);
  again = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, 0);
  CHECK(again != NULL); /* (malloc may well reuse what `taken` was) */
  EXPECT(memcmp(again, outq_start, data.outq_len) == 0);
  EXPECT_EQ(ct_log_count(0), 0);

  /* Data arriving after the save (the peer's packets were not blocked):
   * the queue asked for again is not what libsoccr_save described. */
  memset(more, 7, sizeof(more));
  CHECK(ct_write_all(c.server, more, sizeof(more)) == 0);
  CHECK(ct_wait_inq(c.client, 3000 + sizeof(more)) == 0);
  EXPECT(libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL) == NULL);
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "has changed since libsoccr_save"));

  libsoccr_resume(h); /* frees `again` */
  free_conn(&c);
}

static void TestEmptyQueuesGiveValidPointers(void) {
  struct libsoccr_sk_data data;
  struct libsoccr_sk *h;
  char *kept, *taken;
  int client, server;
  CHECK(ct_connected_pair(CT_V6, 0, &client, &server) == 0);
  CHECK(ct_wait_nothing_in_flight(client) == 0);
  h = libsoccr_pause(client);
  CHECK(h != NULL);
  CHECK_EQ(libsoccr_save(h, &data, sizeof(data)), sizeof(data));
  CHECK_EQ(data.inq_len, 0);
  CHECK_EQ(data.outq_len, 0);
  kept = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, 0);
  taken = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, SOCCR_MEM_EXCL);
  EXPECT(kept != NULL);
  EXPECT(taken != NULL);
  free(taken);
  libsoccr_resume(h);
  close(client);
  close(server);
}

static void TestGetAddrOwnership(void) {
  struct libsoccr_sk *h;
  union libsoccr_addr *kept, *taken;
  int client, server;
  CHECK(ct_connected_pair(CT_V4, 0, &client, &server) == 0);
  h = libsoccr_pause(client);
  CHECK(h != NULL);
  kept = libsoccr_get_addr(h, 1, 0);
  taken = libsoccr_get_addr(h, 0, SOCCR_MEM_EXCL);
  CHECK(kept != NULL && taken != NULL);
  free(taken);
  libsoccr_release(h); /* frees kept */
  close(client);
  close(server);
}

/* The library takes the queues and one address, and frees them: after the
 * restore, on resume, or when a queue is replaced. */
static void TestSetCallsWithMemExclHandOver(void) {
  struct conn c;
  struct ct_image img;
  struct libsoccr_sk *h;
  union libsoccr_addr *self_copy;
  char *replaced;
  int sk;
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(make_conn(&c, 4000, 1 << 20, 10) == 0);
  CHECK(ct_checkpoint(c.client, &img) == 0);
  close(c.client);
  c.client = -1;

  sk = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  h = libsoccr_pause(sk);
  CHECK(h != NULL);
  replaced = malloc(100);
  CHECK(replaced != NULL);
  memset(replaced, 'x', 100);
  CHECK(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, replaced, SOCCR_MEM_EXCL) ==
        0);
  /* Replacing frees `replaced`. */
  CHECK(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, img.inq, SOCCR_MEM_EXCL) ==
        0);
  CHECK(libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, img.outq, SOCCR_MEM_EXCL) ==
        0);
  img.inq = img.outq = NULL; /* the library's now */
  self_copy = malloc(sizeof(*self_copy));
  CHECK(self_copy != NULL);
  *self_copy = img.self;
  CHECK(libsoccr_set_addr(h, 1, self_copy, SOCCR_MEM_EXCL) == 0);
  CHECK(libsoccr_set_addr(h, 0, &img.peer, 0) == 0);
  CHECK(libsoccr_restore(h, &img.data, sizeof(img.data)) == 0);
  libsoccr_resume(h);
  EXPECT(expect_restored(&c, sk) == 0);
  EXPECT_EQ(ct_log_count(0), 0);
  if (ct_failed()) ct_log_dump();
  close(sk);
  free_conn(&c);
}

/* Given with SOCCR_MEM_EXCL and never restored: freed on release. */
static void TestSetCallsWithMemExclFreedOnRelease(void) {
  const int sk = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct libsoccr_sk *h = libsoccr_pause(sk);
  char *recv_bytes = malloc(1000), *send_bytes = malloc(2000);
  union libsoccr_addr *addr = malloc(sizeof(*addr));
  CHECK(h != NULL && recv_bytes && send_bytes && addr);
  memset(addr, 0, sizeof(*addr));
  addr->v4.sin_family = AF_INET;
  CHECK(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, recv_bytes,
                                 SOCCR_MEM_EXCL) == 0);
  CHECK(libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, send_bytes,
                                 SOCCR_MEM_EXCL) == 0);
  CHECK(libsoccr_set_addr(h, 0, addr, SOCCR_MEM_EXCL) == 0);
  libsoccr_release(h);
  close(sk);
}

/* One buffer given with SOCCR_MEM_EXCL twice, and for both queues: the
 * library frees it once. (ASan reports a double free.) */
static void TestBufferGivenTwiceIsFreedOnce(void) {
  const int sk = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct libsoccr_sk *h = libsoccr_pause(sk);
  char *bytes = malloc(64);
  CHECK(h != NULL && bytes != NULL);
  CHECK(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, bytes, SOCCR_MEM_EXCL) ==
        0);
  CHECK(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, bytes, SOCCR_MEM_EXCL) ==
        0);
  CHECK(libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, bytes, SOCCR_MEM_EXCL) ==
        0);
  /* Once the library's, always the library's: no flag does not give it
   * back. */
  CHECK(libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, bytes, 0) == 0);
  libsoccr_release(h);
  close(sk);
}

/* Without SOCCR_MEM_EXCL the caller's queue memory need only last until
 * libsoccr_restore returns, although the unsent part is queued only by
 * libsoccr_resume (the library keeps its own copy of that): the caller
 * may scribble over it and free it before resuming, and the data the
 * original had not sent yet still arrives intact. */
static void TestCallerMemoryIsOnlyNeededDuringRestore(void) {
  struct conn c;
  struct ct_image img;
  struct libsoccr_sk *h;
  int sk;
  CHECK(make_conn(&c, 2000, 1 << 20, 20) == 0);
  CHECK(ct_checkpoint(c.client, &img) == 0);
  close(c.client);
  c.client = -1;
  CHECK(img.data.unsq_len > 0);

  sk = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  h = libsoccr_pause(sk);
  CHECK(h != NULL);
  CHECK(libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, img.inq, 0) == 0);
  CHECK(libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, img.outq, 0) == 0);
  CHECK(libsoccr_set_addr(h, 1, &img.self, 0) == 0);
  CHECK(libsoccr_set_addr(h, 0, &img.peer, 0) == 0);
  CHECK(libsoccr_restore(h, &img.data, sizeof(img.data)) == 0);
  memset(img.inq, 0xee, img.data.inq_len);
  memset(img.outq, 0xee, img.data.outq_len);
  ct_image_free(&img);
  libsoccr_resume(h);
  EXPECT(expect_restored(&c, sk) == 0);
  close(sk);
  free_conn(&c);
}

/* One full cycle of every call, both ways. */
static int cycle(uint64_t seed) {
  struct conn c;
  struct ct_image img;
  struct libsoccr_sk *h;
  int sk, ok;
  char *kept;
  if (make_conn(&c, 60000, 1 << 20, seed) != 0) return -1;
  h = libsoccr_pause(c.client);
  if (h == NULL) return -1;
  /* Library-owned copies, freed by release. */
  if (libsoccr_save(h, &img.data, sizeof(img.data)) < 0) return -1;
  kept = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, 0);
  if (kept == NULL || libsoccr_get_addr(h, 1, 0) == NULL) return -1;
  libsoccr_release(h);
  if (ct_checkpoint(c.client, &img) != 0) return -1;
  close(c.client);
  c.client = -1;
  sk = ct_restore(&img, seed % 2 ? SOCCR_MEM_EXCL : 0);
  ok = sk >= 0 && expect_restored(&c, sk) == 0;
  ct_image_free(&img);
  if (sk >= 0) close(sk);
  free_conn(&c);
  return ok ? 0 : -1;
}

static size_t heap_in_use(void) {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

/* Many cycles leave the heap as it was: nothing the library owned is kept,
 * nothing it handed over is freed twice. */
static void TestCyclesDoNotGrowTheHeap(void) {
  size_t before, after;
  int i;
  ct_log_capture(SOCCR_LOG_ERR);
  CHECK(cycle(0) == 0); /* warms up whatever is allocated once */
  before = heap_in_use();
  for (i = 1; i <= 20; ++i) CHECK(cycle((uint64_t)i) == 0);
  after = heap_in_use();
#ifndef CT_ASAN
  /* Each cycle moves about 1 MB through the library; a leak of any queue
   * buffer would show as 200 KB or more per cycle. */
  EXPECT(after < before + (256 << 10));
#else
  (void)before; /* LeakSanitizer checks instead: the heap's size is ASan's */
  (void)after;
#endif
  EXPECT_EQ(ct_log_count(0), 0);
  if (ct_failed()) ct_log_dump();
}

int main(int argc, char **argv) {
  static const struct ct_test tests[] = {
      CT_TEST(TestGetQueueBytesOwnership),
      CT_TEST(TestQueueAskedForAgainAfterTheCallerTookIt),
      CT_TEST(TestEmptyQueuesGiveValidPointers),
      CT_TEST(TestGetAddrOwnership),
      CT_TEST(TestSetCallsWithMemExclHandOver),
      CT_TEST(TestSetCallsWithMemExclFreedOnRelease),
      CT_TEST(TestBufferGivenTwiceIsFreedOnce),
      CT_TEST(TestCallerMemoryIsOnlyNeededDuringRestore),
      CT_TEST(TestCyclesDoNotGrowTheHeap),
  };
  return ct_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
