#include "soccr/testing/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "soccr/status_macros.h"

extern char** environ;

namespace soccr::testing {
namespace {

// Fork, enter `netns` (if given), set up stdout, exec. Returns the pid.
absl::StatusOr<pid_t> SpawnIn(int netns, const std::vector<std::string>& argv,
                              const std::vector<std::string>& env,
                              int stdout_fd) {
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.push_back(*e);
  for (const std::string& e : env) envs.push_back(e);
  std::vector<char*> envp;
  for (std::string& e : envs) envp.push_back(&e[0]);
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (netns >= 0 && ::setns(netns, CLONE_NEWNET) != 0) _exit(126);
    if (stdout_fd >= 0) ::dup2(stdout_fd, 1);
    ::execvpe(args[0], args.data(), envp.data());
    _exit(127);
  }
  return pid;
}

absl::Status RunIn(int netns, const std::vector<std::string>& argv,
                   std::string* output) {
  int pipefd[2] = {-1, -1};
  if (output != nullptr && ::pipe2(pipefd, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, "pipe2");
  }
  OwnedFd read_end(pipefd[0]), write_end(pipefd[1]);
  absl::StatusOr<pid_t> pid = SpawnIn(netns, argv, {}, write_end.get());
  write_end.reset();
  if (!pid.ok()) return pid.status();
  if (output != nullptr) {
    output->clear();
    char buf[4096];
    ssize_t n;
    while ((n = ::read(read_end.get(), buf, sizeof(buf))) > 0 ||
           (n < 0 && errno == EINTR)) {
      if (n > 0) output->append(buf, static_cast<size_t>(n));
    }
  }
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(
        absl::StrCat(absl::StrJoin(argv, " "), ": exit status ", status));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunCommand(const std::vector<std::string>& argv,
                        std::string* output) {
  return RunIn(-1, argv, output);
}

Host::~Host() {
  ::kill(pid_, SIGKILL);
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

absl::Status Host::Run(const std::vector<std::string>& argv,
                       std::string* output) const {
  return RunIn(netns_.get(), argv, output);
}

absl::StatusOr<pid_t> Host::Spawn(const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env,
                                  int stdout_fd) const {
  return SpawnIn(netns_.get(), argv, env, stdout_fd);
}

HostScope::HostScope(const Host& host) {
  previous_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  ok_ = previous_ && ::setns(host.netns().get(), CLONE_NEWNET) == 0;
}

HostScope::~HostScope() {
  if (previous_) (void)::setns(previous_.get(), CLONE_NEWNET);
}

absl::StatusOr<Lab> Lab::Create() {
  Lab lab;
  if (absl::Status s =
          RunCommand({"ip", "link", "add", "br0", "type", "bridge"});
      !s.ok()) {
    return s;
  }
  if (absl::Status s = RunCommand({"ip", "link", "set", "br0", "up"});
      !s.ok()) {
    return s;
  }
  return lab;
}

Lab::~Lab() = default;

absl::StatusOr<Host*> Lab::AddHost(absl::string_view name,
                                   const std::vector<std::string>& addresses) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe");
  OwnedFd ready_r(ready[0]), ready_w(ready[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const char ok = ::unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
    if (::write(ready_w.get(), &ok, 1) != 1) _exit(1);
    for (;;) ::pause();
  }
  ready_w.reset();
  char ok = 0;
  if (::read(ready_r.get(), &ok, 1) != 1 || ok != 'y') {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return absl::InternalError("lab: the host could not unshare its netns");
  }
  OwnedFd netns(::open(absl::StrCat("/proc/", pid, "/ns/net").c_str(),
                       O_RDONLY | O_CLOEXEC));
  if (!netns) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return absl::ErrnoToStatus(errno, "lab: open the host's netns");
  }
  hosts_.push_back(std::unique_ptr<Host>(
      new Host(std::string(name), pid, std::move(netns))));
  Host* host = hosts_.back().get();
  const std::string near = absl::StrCat(name, "-br");
  const std::string p = absl::StrCat(pid);
  std::vector<std::vector<std::string>> here = {
      {"ip", "link", "add", near, "type", "veth", "peer", "name", "eth0",
       "netns", p},
      {"ip", "link", "set", near, "master", "br0", "up"},
  };
  for (const auto& cmd : here) {
    SOCCR_RETURN_IF_ERROR(RunCommand(cmd));
  }
  std::vector<std::vector<std::string>> there = {
      {"ip", "link", "set", "lo", "up"},
      {"ip", "link", "set", "eth0", "up"},
  };
  for (const std::string& a : addresses) {
    // "ADDR/N [more ip-address options]".
    std::vector<std::string> words = absl::StrSplit(a, ' ', absl::SkipEmpty());
    std::vector<std::string> cmd = {"ip",     "addr", "add",
                                    words[0], "dev",  "eth0"};
    cmd.insert(cmd.end(), words.begin() + 1, words.end());
    if (a.find(':') != std::string::npos) cmd.push_back("nodad");
    there.push_back(cmd);
  }
  for (const auto& cmd : there) {
    SOCCR_RETURN_IF_ERROR(host->Run(cmd));
  }
  return host;
}

}  // namespace soccr::testing
