#include "tools/testing/run_program.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace soccr::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string TempDir() {
  const char* tmp = ::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/run.XXXXXX");
  if (::mkdtemp(dir.data()) == nullptr) return "/tmp";
  return dir;
}

std::string Runfile(const std::string& path) {
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

std::string SoccrPath() { return Runfile("tools/soccr"); }

RunningProgram::RunningProgram(RunningProgram&& other) noexcept
    : pid_(other.pid_),
      out_path_(std::move(other.out_path_)),
      err_path_(std::move(other.err_path_)) {
  other.pid_ = -1;
}

RunningProgram::~RunningProgram() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

absl::StatusOr<ProgramResult> RunningProgram::Wait() {
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  if (r < 0) return absl::ErrnoToStatus(errno, "waitpid");
  pid_ = -1;
  ProgramResult result;
  result.exit_status =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(out_path_);
  result.err = ReadFile(err_path_);
  return result;
}

absl::StatusOr<RunningProgram> StartProgram(
    const std::vector<std::string>& argv,
    const std::function<bool()>& in_child) {
  const std::string dir = TempDir();
  const std::string out = dir + "/stdout";
  const std::string err = dir + "/stderr";
  const pid_t pid = ::fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0 || ::dup2(o, 1) < 0 || ::dup2(e, 2) < 0) _exit(121);
    ::close(o);
    ::close(e);
    if (in_child && !in_child()) _exit(120);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(122);
  }
  return RunningProgram(pid, out, err);
}

absl::StatusOr<ProgramResult> RunProgram(
    const std::vector<std::string>& argv,
    const std::function<bool()>& in_child) {
  absl::StatusOr<RunningProgram> p = StartProgram(argv, in_child);
  if (!p.ok()) return p.status();
  return p->Wait();
}

}  // namespace soccr::testing
