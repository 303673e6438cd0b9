#include "soccr_c/testing/tcp.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CT_TIMEOUT_MS 60000

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Waits for `events` on `fd` until `deadline`; 0 when it is time to try
 * again, -1 when the deadline has passed. */
static int wait_for(int fd, short events, long long deadline) {
  struct pollfd p;
  const long long left = deadline - now_ms();
  if (left <= 0) return -1;
  p.fd = fd;
  p.events = events;
  p.revents = 0;
  poll(&p, 1, (int)(left > 1000 ? 1000 : left));
  return 0;
}

const char *ct_family_name(enum ct_family family) {
  switch (family) {
    case CT_V4:
      return "v4";
    case CT_V6:
      return "v6";
    case CT_MAPPED:
      return "mapped";
  }
  return "?";
}

int ct_domain(enum ct_family family) {
  return family == CT_V4 ? AF_INET : AF_INET6;
}

int ct_connected_pair(enum ct_family family, int server_rcvbuf, int *client,
                      int *server) {
  struct ct_pair_options options;
  memset(&options, 0, sizeof(options));
  options.listener_rcvbuf = server_rcvbuf;
  return ct_connected_pair_with(family, &options, client, server);
}

int ct_connected_pair_with(enum ct_family family,
                           const struct ct_pair_options *options, int *client,
                           int *server) {
  const int domain = ct_domain(family);
  const int server_rcvbuf = options->listener_rcvbuf;
  const int one = 1, zero = 0;
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int listener, c, s;
  *client = *server = -1;
  listener = socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) {
    perror("socket");
    return -1;
  }
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (server_rcvbuf > 0 &&
      setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &server_rcvbuf,
                 sizeof(server_rcvbuf)) != 0) {
    perror("SO_RCVBUF");
    close(listener);
    return -1;
  }
  if (options->listener_rcvbufforce > 0 &&
      setsockopt(listener, SOL_SOCKET, SO_RCVBUFFORCE,
                 &options->listener_rcvbufforce,
                 sizeof(options->listener_rcvbufforce)) != 0) {
    const int err = errno;
    perror("SO_RCVBUFFORCE on the listener");
    close(listener);
    errno = err;
    return -1;
  }
  memset(&ss, 0, sizeof(ss));
  if (family == CT_V4) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(*a);
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    if (family == CT_V6) {
      a->sin6_addr = in6addr_loopback;
    } else {
      setsockopt(listener, SOL_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
      a->sin6_addr = in6addr_any;
    }
    len = sizeof(*a);
  }
  if (bind(listener, (struct sockaddr *)&ss, len) != 0 ||
      listen(listener, 8) != 0 ||
      getsockname(listener, (struct sockaddr *)&ss, &len) != 0) {
    perror("bind/listen/getsockname");
    close(listener);
    return -1;
  }
  if (family == CT_MAPPED) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a->sin6_addr);
  }
  c = socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c >= 0 && options->client_maxseg > 0 &&
      setsockopt(c, SOL_TCP, TCP_MAXSEG, &options->client_maxseg,
                 sizeof(options->client_maxseg)) != 0) {
    perror("TCP_MAXSEG");
    close(c);
    close(listener);
    return -1;
  }
  if (c < 0 || connect(c, (struct sockaddr *)&ss, len) != 0) {
    perror("client socket/connect");
    if (c >= 0) close(c);
    close(listener);
    return -1;
  }
  s = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  close(listener);
  if (s < 0) {
    perror("accept");
    close(c);
    return -1;
  }
  *client = c;
  *server = s;
  return 0;
}

char *ct_pattern(size_t n, uint64_t seed, uint64_t offset) {
  size_t i;
  char *out = malloc(n ? n : 1);
  if (out == NULL) {
    fprintf(stderr, "ct_pattern: out of memory for %zu bytes\n", n);
    exit(2);
  }
  for (i = 0; i < n; ++i) {
    /* Position and seed mixed: any shift, repeat or swap shows. */
    uint64_t x =
        (offset + i) * 0x9E3779B97F4A7C15ull + seed * 0xD6E8FEB86659FD93ull;
    x ^= x >> 29;
    out[i] = (char)(x ^ (x >> 17));
  }
  return out;
}

int ct_write_all(int fd, const char *data, size_t n) {
  const long long deadline = now_ms() + CT_TIMEOUT_MS;
  size_t done = 0;
  while (done < n) {
    const ssize_t w =
        send(fd, data + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w > 0) {
      done += (size_t)w;
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
      fprintf(stderr, "send after %zu bytes: %s\n", done, strerror(errno));
      return -1;
    }
    if (wait_for(fd, POLLOUT, deadline) != 0) {
      fprintf(stderr, "send: %zu of %zu bytes written in time\n", done, n);
      return -1;
    }
  }
  return 0;
}

long ct_write_some(int fd, const char *data, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t w =
        send(fd, data + done, n - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w > 0) {
      done += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN) {
      fprintf(stderr, "send: %s\n", strerror(errno));
      return -1;
    }
    break;
  }
  return (long)done;
}

int ct_read_exactly(int fd, char *out, size_t n) {
  const long long deadline = now_ms() + CT_TIMEOUT_MS;
  size_t done = 0;
  while (done < n) {
    const ssize_t r = recv(fd, out + done, n - done, MSG_DONTWAIT);
    if (r > 0) {
      done += (size_t)r;
      continue;
    }
    if (r == 0) {
      fprintf(stderr, "recv: end of stream after %zu of %zu bytes\n", done, n);
      return -1;
    }
    if (errno != EAGAIN && errno != EINTR) {
      fprintf(stderr, "recv after %zu bytes: %s\n", done, strerror(errno));
      return -1;
    }
    if (wait_for(fd, POLLIN, deadline) != 0) {
      fprintf(stderr, "recv: %zu of %zu bytes arrived in time\n", done, n);
      return -1;
    }
  }
  return 0;
}

int ct_expect_eof(int fd) {
  const long long deadline = now_ms() + CT_TIMEOUT_MS;
  for (;;) {
    char c;
    const ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);
    if (r == 0) return 0;
    if (r > 0) {
      fprintf(stderr, "data where end-of-file was expected\n");
      return -1;
    }
    if (errno != EAGAIN && errno != EINTR) {
      fprintf(stderr, "recv (waiting for end-of-file): %s\n", strerror(errno));
      return -1;
    }
    if (wait_for(fd, POLLIN, deadline) != 0) {
      fprintf(stderr, "no end-of-file in time\n");
      return -1;
    }
  }
}

int ct_expect_stream(int fd, const char *want, size_t n) {
  size_t i;
  char *got = malloc(n ? n : 1);
  if (got == NULL) return -1;
  if (ct_read_exactly(fd, got, n) != 0) {
    free(got);
    return -1;
  }
  for (i = 0; i < n; ++i) {
    if (got[i] != want[i]) {
      fprintf(stderr, "stream differs at byte %zu of %zu\n", i, n);
      free(got);
      return -1;
    }
  }
  free(got);
  return 0;
}

int ct_deliver(int from, int to, size_t n, uint64_t seed) {
  const long long deadline = now_ms() + CT_TIMEOUT_MS;
  char *data = ct_pattern(n, seed, 0);
  char *got = malloc(n ? n : 1);
  size_t sent = 0, received = 0;
  int result = 0;
  while (received < n) {
    ssize_t r;
    if (now_ms() > deadline) {
      fprintf(stderr, "deliver: %zu of %zu bytes arrived in time\n", received,
              n);
      result = -1;
      break;
    }
    if (sent < n) {
      const long w = ct_write_some(from, data + sent, n - sent);
      if (w < 0) {
        result = -1;
        break;
      }
      sent += (size_t)w;
    }
    r = recv(to, got + received, n - received, MSG_DONTWAIT);
    if (r > 0) {
      received += (size_t)r;
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      fprintf(stderr, "deliver: recv after %zu bytes: %s\n", received,
              r == 0 ? "end of stream" : strerror(errno));
      result = -1;
      break;
    } else {
      wait_for(to, POLLIN, deadline);
    }
  }
  if (result == 0 && memcmp(got, data, n) != 0) {
    fprintf(stderr, "deliver: the %zu bytes differ\n", n);
    result = -1;
  }
  free(got);
  free(data);
  return result;
}

int ct_traffic_both_ways(int a, int b, size_t n, uint64_t seed) {
  if (ct_deliver(a, b, n, seed) != 0) return -1;
  return ct_deliver(b, a, n, seed + 1);
}

static int ioctl_int(int fd, unsigned long request) {
  int v = -1;
  if (ioctl(fd, request, &v) != 0) return -1;
  return v;
}

int ct_inq(int fd) { return ioctl_int(fd, SIOCINQ); }
int ct_outq(int fd) { return ioctl_int(fd, SIOCOUTQ); }
int ct_unsent(int fd) { return ioctl_int(fd, SIOCOUTQNSD); }

int ct_wait_nothing_in_flight(int fd) {
  const long long deadline = now_ms() + CT_TIMEOUT_MS;
  while (ct_outq(fd) != ct_unsent(fd)) {
    if (now_ms() > deadline) {
      fprintf(stderr, "still in flight: %d bytes\n",
              ct_outq(fd) - ct_unsent(fd));
      return -1;
    }
    sleep_ms(1);
  }
  return 0;
}

int ct_wait_inq(int fd, size_t n) {
  const long long deadline = now_ms() + CT_TIMEOUT_MS;
  while (ct_inq(fd) < (int)n) {
    if (now_ms() > deadline) {
      fprintf(stderr, "receive queue holds %d of %zu bytes\n", ct_inq(fd), n);
      return -1;
    }
    sleep_ms(1);
  }
  return 0;
}

int ct_drop_incoming(int fd) {
  struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  struct sock_fprog prog;
  prog.len = 1;
  prog.filter = drop_all;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0) {
    perror("SO_ATTACH_FILTER");
    return -1;
  }
  return 0;
}

int ct_accept_incoming(int fd) {
  int unused = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof(unused)) !=
      0) {
    perror("SO_DETACH_FILTER");
    return -1;
  }
  return 0;
}

int ct_tcp_state(int fd) {
  struct tcp_info ti;
  socklen_t len = sizeof(ti);
  memset(&ti, 0, sizeof(ti));
  if (getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len) != 0) return -1;
  return ti.tcpi_state;
}

int ct_wait_tcp_state(int fd, int state) {
  const long long deadline = now_ms() + 10000;
  while (ct_tcp_state(fd) != state) {
    if (now_ms() > deadline) return -1;
    sleep_ms(1);
  }
  return 0;
}

int ct_int_option(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof(v);
  if (getsockopt(fd, level, name, &v, &len) != 0) return -1;
  return v;
}

int ct_count_open_fds(void) {
  int n = 0;
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) return -1;
  while (readdir(dir) != NULL) ++n;
  closedir(dir);
  return n - 3; /* ".", ".." and the directory's own descriptor */
}
