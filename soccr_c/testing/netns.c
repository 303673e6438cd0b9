#include "soccr_c/testing/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int write_file(const char *path, const char *data) {
  const size_t len = strlen(data);
  ssize_t n;
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "open %s: %s\n", path, strerror(errno));
    return -1;
  }
  n = write(fd, data, len);
  if (n != (ssize_t)len) {
    fprintf(stderr, "write \"%s\" to %s: %s\n", data, path,
            n < 0 ? strerror(errno) : "short write");
    close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

int ct_enter_user_namespace(void) {
  static int entered;
  char map[64];
  const uid_t uid = geteuid();
  const gid_t gid = getegid();
  if (entered) return 0;
  if (unshare(CLONE_NEWUSER) != 0) {
    fprintf(stderr,
            "unshare(CLONE_NEWUSER): %s (the process must be "
            "single-threaded and user namespaces enabled)\n",
            strerror(errno));
    return -1;
  }
  if (write_file("/proc/self/setgroups", "deny") != 0) return -1;
  snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
  if (write_file("/proc/self/uid_map", map) != 0) return -1;
  snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
  if (write_file("/proc/self/gid_map", map) != 0) return -1;
  entered = 1;
  return 0;
}

int ct_enter_network_namespace(void) {
  struct ifreq ifr;
  int fd;
  if (unshare(CLONE_NEWNET) != 0) {
    fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
    return -1;
  }
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fprintf(stderr, "socket for SIOCSIFFLAGS: %s\n", strerror(errno));
    return -1;
  }
  memset(&ifr, 0, sizeof(ifr));
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
    fprintf(stderr, "ioctl(SIOCGIFFLAGS, lo): %s\n", strerror(errno));
    close(fd);
    return -1;
  }
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
    fprintf(stderr, "ioctl(SIOCSIFFLAGS, lo up): %s\n", strerror(errno));
    close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

int ct_set_sysctl(const char *name, const char *value) {
  char path[256];
  snprintf(path, sizeof(path), "/proc/sys/%s", name);
  return write_file(path, value);
}

int ct_raise_tcp_buffers(long initial, long max) {
  char value[96];
  snprintf(value, sizeof(value), "4096 %ld %ld", initial, max);
  if (ct_set_sysctl("net/ipv4/tcp_rmem", value) != 0) return -1;
  return ct_set_sysctl("net/ipv4/tcp_wmem", value);
}
