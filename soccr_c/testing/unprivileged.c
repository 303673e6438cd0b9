#include "soccr_c/testing/unprivileged.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "soccr_c/testing/netns.h"

static pid_t helper_pid = -1;
static char dir[64];
static char sock[96];

static int write_file(const char *path, const char *data) {
  const size_t len = strlen(data);
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  ssize_t n;
  if (fd < 0) {
    fprintf(stderr, "open %s: %s\n", path, strerror(errno));
    return -1;
  }
  n = write(fd, data, len);
  close(fd);
  if (n != (ssize_t)len) {
    fprintf(stderr, "write %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

int ct_enter_unprivileged(void) {
  char binary[4096];
  struct stat st;
  int i, fd, on = 1;
  if (ct_enter_user_namespace() != 0) return -1;
  if (ct_enter_network_namespace() != 0) return -1;
  if (getcwd(binary, sizeof(binary) - 32) == NULL) {
    fprintf(stderr, "getcwd: %s\n", strerror(errno));
    return -1;
  }
  strcat(binary, "/tools/soccr-repair");
  /* Not under TEST_TMPDIR: a unix socket's path has at most 107 bytes. */
  strcpy(dir, "/tmp/soccr-c-unprivileged-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
    return -1;
  }
  snprintf(sock, sizeof(sock), "%s/soccr-repair.sock", dir);
  helper_pid = fork();
  if (helper_pid < 0) {
    fprintf(stderr, "fork: %s\n", strerror(errno));
    return -1;
  }
  if (helper_pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execl(binary, binary, "--listen", sock, (char *)NULL);
    fprintf(stderr, "exec %s: %s\n", binary, strerror(errno));
    _exit(127);
  }
  for (i = 0; i < 5000; ++i) {
    if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode)) break;
    if (waitpid(helper_pid, NULL, WNOHANG) == helper_pid) {
      fprintf(stderr, "%s exited at once\n", binary);
      helper_pid = -1;
      return -1;
    }
    usleep(1000);
  }
  if (setenv("SOCCR_REPAIR_HELPER", sock, 1) != 0) return -1;
  /* Give up every capability over this network namespace: a nested user
   * namespace has them only over what it owns. uid 0 maps to our uid 0,
   * so that the helper sees the uid it serves through SO_PEERCRED. */
  if (unshare(CLONE_NEWUSER) != 0) {
    fprintf(stderr, "unshare(CLONE_NEWUSER): %s\n", strerror(errno));
    return -1;
  }
  if (write_file("/proc/self/setgroups", "deny") != 0 ||
      write_file("/proc/self/uid_map", "0 0 1") != 0 ||
      write_file("/proc/self/gid_map", "0 0 1") != 0) {
    return -1;
  }
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (setsockopt(fd, SOL_TCP, TCP_REPAIR, &on, sizeof(on)) == 0 ||
      errno != EPERM) {
    fprintf(stderr, "TCP_REPAIR still allowed without the helper\n");
    close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

int ct_stop_helper(void) {
  int status = 0;
  if (helper_pid <= 0) return -1;
  kill(helper_pid, SIGTERM);
  if (waitpid(helper_pid, &status, 0) != helper_pid) return -1;
  helper_pid = -1;
  unlink(sock);
  rmdir(dir);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
