#include "soccr/repair_helper/testing/unprivileged.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "soccr/fd.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/status_macros.h"

namespace soccr::repair_helper::testing {
namespace {

std::string& SocketPath() {
  static std::string* path = new std::string();
  return *path;
}
std::string& Dir() {
  static std::string* path = new std::string();
  return *path;
}
std::string& LogPath() {
  static std::string* path = new std::string();
  return *path;
}
pid_t g_helper = -1;

absl::Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path);
  f << data;
  f.close();
  if (!f) return absl::InternalError(absl::StrCat("write ", path));
  return absl::OkStatus();
}

}  // namespace

const std::string& HelperSocketPath() { return SocketPath(); }

std::string HelperLog() {
  std::ifstream f(LogPath());
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

int StopHelper() {
  if (g_helper <= 0) return -1;
  kill(g_helper, SIGTERM);
  int status = 0;
  waitpid(g_helper, &status, 0);
  g_helper = -1;
  unlink(LogPath().c_str());
  unlink(SocketPath().c_str());
  rmdir(Dir().c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

absl::Status EnterUnprivilegedWithHelper(const std::string& helper_binary) {
  SOCCR_RETURN_IF_ERROR(loopback::EnterPrivateNetns());
  std::string binary = helper_binary;
  if (binary.empty()) {
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd)) == nullptr) {
      return absl::ErrnoToStatus(errno, "getcwd");
    }
    binary = absl::StrCat(cwd, "/tools/soccr-repair");
  }
  // Not under TEST_TMPDIR: a unix socket's path has at most 107 bytes.
  char dir_template[] = "/tmp/soccr-repair-test-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    return absl::ErrnoToStatus(errno, "mkdtemp");
  }
  const std::string dir = dir_template;
  Dir() = dir;
  SocketPath() = dir + "/soccr-repair.sock";
  LogPath() = dir + "/soccr-repair.log";

  const pid_t pid = fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int log = open(LogPath().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (log >= 0) dup2(log, STDERR_FILENO);
    execl(binary.c_str(), binary.c_str(), "--listen", SocketPath().c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  g_helper = pid;
  for (int i = 0; i < 5000; ++i) {
    struct stat st;
    if (stat(SocketPath().c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) break;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      g_helper = -1;
      return absl::InternalError(
          absl::StrCat(binary, " exited at once: ", HelperLog()));
    }
    usleep(1000);
  }

  // Now give up the capabilities over this network namespace: a nested
  // user namespace (uid 0 mapped to our uid 0, so the helper sees the
  // same uid through SO_PEERCRED) holds capabilities only over what it
  // owns, and this network namespace belongs to the parent.
  if (unshare(CLONE_NEWUSER) != 0) {
    return absl::ErrnoToStatus(errno, "unshare(CLONE_NEWUSER)");
  }
  SOCCR_RETURN_IF_ERROR(WriteFile("/proc/self/setgroups", "deny"));
  SOCCR_RETURN_IF_ERROR(WriteFile("/proc/self/uid_map", "0 0 1"));
  SOCCR_RETURN_IF_ERROR(WriteFile("/proc/self/gid_map", "0 0 1"));
  // Check it: repair mode must now be out of reach.
  const OwnedFd probe(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int on = 1;
  if (setsockopt(probe.get(), SOL_TCP, TCP_REPAIR, &on, sizeof(on)) == 0 ||
      errno != EPERM) {
    return absl::InternalError(
        "still allowed TCP_REPAIR after leaving the user namespace");
  }
  return absl::OkStatus();
}

}  // namespace soccr::repair_helper::testing
