// tools/testing/run_program.h: runs a program (the soccr binary, in the
// tests that drive it) and collects its exit status and output.
//
//   absl::StatusOr<ProgramResult> r =
//       RunProgram({SoccrPath(), "inspect", "x.soccr"});
//   EXPECT_EQ(r->exit_status, 1);
//   EXPECT_THAT(r->err, ::testing::HasSubstr("not a soccr image"));
//
// Output goes to files (in TEST_TMPDIR), so a program that writes a lot to
// both streams never blocks on a pipe nobody reads.

#ifndef SOCCR_TOOLS_TESTING_RUN_PROGRAM_H_
#define SOCCR_TOOLS_TESTING_RUN_PROGRAM_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace soccr::testing {

struct ProgramResult {
  // The exit status, or 128 + the signal that killed it.
  int exit_status = -1;
  std::string out;
  std::string err;
};

// A started program.
class RunningProgram {
 public:
  RunningProgram(RunningProgram&& other) noexcept;
  RunningProgram& operator=(RunningProgram&&) = delete;
  ~RunningProgram();

  pid_t pid() const { return pid_; }
  // Waits for it to exit and reads what it wrote.
  [[nodiscard]] absl::StatusOr<ProgramResult> Wait();

 private:
  friend absl::StatusOr<RunningProgram> StartProgram(
      const std::vector<std::string>&, const std::function<bool()>&);
  RunningProgram(pid_t pid, std::string out, std::string err)
      : pid_(pid), out_path_(std::move(out)), err_path_(std::move(err)) {}

  pid_t pid_ = -1;
  std::string out_path_;
  std::string err_path_;
};

// Starts argv[0] (a path) with `argv`. `in_child`, if set, runs in the
// child before the exec (e.g. to enter another namespace); if it returns
// false the child exits with status 120.
[[nodiscard]] absl::StatusOr<RunningProgram> StartProgram(
    const std::vector<std::string>& argv,
    const std::function<bool()>& in_child = {});

// StartProgram, then Wait.
[[nodiscard]] absl::StatusOr<ProgramResult> RunProgram(
    const std::vector<std::string>& argv,
    const std::function<bool()>& in_child = {});

// The absolute path of a binary in the test's runfiles, e.g.
// Runfile("tools/soccr").
std::string Runfile(const std::string& path);

// Runfile("tools/soccr").
std::string SoccrPath();

// A fresh directory under TEST_TMPDIR.
std::string TempDir();

}  // namespace soccr::testing

#endif  // SOCCR_TOOLS_TESTING_RUN_PROGRAM_H_
