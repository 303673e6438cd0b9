/*
 * migrate.c: moves a live TCP connection onto a new socket with the
 * libsoccr API, the way a program written for CRIU's libsoccr does it; it
 * builds unchanged against soccr:
 *
 *   cc migrate.c $(pkg-config --cflags --libs libsoccr) -o migrate
 *   unshare -Urn sh -c 'ip link set lo up && ./migrate'
 *
 * TCP repair needs CAP_NET_ADMIN in the socket's network namespace, hence
 * the private user and network namespace (no root on the host needed).
 *
 * The client's socket holds bytes the server sent that the client has not
 * read, and bytes the client sent that the server has not acknowledged (a
 * socket filter on the server drops them for a while, as a lost packet
 * would). Both arrive intact through the new socket, and the server notices
 * nothing.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <soccr/soccr.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void log_to_stderr(unsigned int level, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "libsoccr[%s]: ", level == SOCCR_LOG_ERR ? "error" : "debug");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
}

static int die(const char *what) {
  fprintf(stderr, "migrate: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Reads exactly `n` bytes (blocking, with a poll timeout of 10 seconds). */
static void read_exactly(int fd, char *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t r;
    if (poll(&p, 1, 10000) != 1) die("poll (no data in 10 seconds)");
    r = recv(fd, buf + done, n - done, 0);
    if (r <= 0) die("recv");
    done += (size_t)r;
  }
}

int main(void) {
  static const char from_server[] = "unread bytes from the server";
  static const char from_client[] = "bytes the client wrote before moving";
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);
  struct libsoccr_sk_data data;
  struct libsoccr_sk *h;
  union libsoccr_addr *self, *peer;
  char *inq, *outq, buf[128];
  struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
  struct sock_fprog drop_all = {1, &drop};
  int listener, client, server, moved, pending;

  libsoccr_set_log(SOCCR_LOG_ERR, log_to_stderr);

  /* A connection over loopback. */
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) != 0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, (struct sockaddr *)&addr, &len) != 0) {
    die("listen");
  }
  client = socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0 || connect(client, (struct sockaddr *)&addr, len) != 0) {
    die("connect");
  }
  server = accept(listener, NULL, NULL);
  if (server < 0) die("accept");
  if (send(server, from_server, sizeof(from_server), 0) < 0) die("send");
  do {
    if (ioctl(client, FIONREAD, &pending) != 0) die("FIONREAD");
  } while (pending < (int)sizeof(from_server));
  /* The server drops what arrives: the client's bytes stay unacknowledged
   * in its send queue. */
  if (setsockopt(server, SOL_SOCKET, SO_ATTACH_FILTER, &drop_all,
                 sizeof(drop_all)) != 0) {
    die("SO_ATTACH_FILTER");
  }
  if (send(client, from_client, sizeof(from_client), 0) < 0) die("send");

  /* Checkpoint: pause, save, take the queues and addresses. (A real
   * migration first stops the peer's packets from reaching the socket.) */
  h = libsoccr_pause(client);
  if (h == NULL) {
    fprintf(stderr,
            "migrate: libsoccr_pause failed (run it with "
            "CAP_NET_ADMIN, e.g. under unshare -Urn)\n");
    return 1;
  }
  if (libsoccr_save(h, &data, sizeof(data)) < 0) return 1;
  inq = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL);
  outq = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, SOCCR_MEM_EXCL);
  self = libsoccr_get_addr(h, 1, SOCCR_MEM_EXCL);
  peer = libsoccr_get_addr(h, 0, SOCCR_MEM_EXCL);
  if (inq == NULL || outq == NULL || self == NULL || peer == NULL) return 1;
  printf("saved: %u bytes received, %u bytes to send (%u unsent)\n",
         data.inq_len, data.outq_len, data.unsq_len);
  libsoccr_release(h); /* still in repair mode: closing sends nothing */
  close(client);

  /* Restore onto a new socket: no buffer sizing, no O_NONBLOCK. */
  moved = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  h = libsoccr_pause(moved);
  if (h == NULL) return 1;
  if (libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, inq, SOCCR_MEM_EXCL) < 0 ||
      libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, outq, SOCCR_MEM_EXCL) < 0 ||
      libsoccr_set_addr(h, 1, self, SOCCR_MEM_EXCL) < 0 ||
      libsoccr_set_addr(h, 0, peer, SOCCR_MEM_EXCL) < 0 ||
      libsoccr_restore(h, &data, sizeof(data)) < 0) {
    return 1;
  }
  libsoccr_resume(h); /* frees inq, outq, self and peer */
  /* The server takes packets again; the new socket retransmits. */
  if (setsockopt(server, SOL_SOCKET, SO_DETACH_FILTER, &pending,
                 sizeof(pending)) != 0) {
    die("SO_DETACH_FILTER");
  }

  /* Both directions, through the new socket. */
  read_exactly(moved, buf, sizeof(from_server));
  if (memcmp(buf, from_server, sizeof(from_server)) != 0) {
    fprintf(stderr, "migrate: the receive queue differs\n");
    return 1;
  }
  read_exactly(server, buf, sizeof(from_client));
  if (memcmp(buf, from_client, sizeof(from_client)) != 0) {
    fprintf(stderr, "migrate: the server got something else\n");
    return 1;
  }
  if (send(moved, "ping", 4, 0) != 4) die("send");
  read_exactly(server, buf, 4);
  if (send(server, "pong", 4, 0) != 4) die("send");
  read_exactly(moved, buf, 4);
  if (memcmp(buf, "pong", 4) != 0) return 1;
  printf("moved: the connection carries on over the new socket\n");
  close(moved);
  close(server);
  close(listener);
  return 0;
}
