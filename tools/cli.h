// tools/cli.h: subcommands whose flags are Abseil flags, each subcommand
// accepting only its own.
//
//   ABSL_FLAG(bool, json, false, "Print JSON.");
//   const soccr::tools::cli::Command kInspect = {
//       "inspect", "inspect [--json] IMAGE", "Shows what an image holds.",
//       "Longer description...", {{"json"}}, 1, 1};
//   absl::StatusOr<soccr::tools::cli::Args> args =
//       soccr::tools::cli::Parse(kInspect, argv);
//   if (!args.ok()) {
//     // a usage error: print it and exit with kExitUsage
//   } else if (args->help) {
//     printf("%s", soccr::tools::cli::Usage(kInspect).c_str());
//   }
//   bool json = absl::GetFlag(FLAGS_json);
//
// Why not absl::ParseCommandLine: it knows no subcommands (every flag of
// the binary would be accepted everywhere), its --help lists every flag,
// and it exits with status 1 on a usage error, where this command promises
// kExitUsage. The flags are still Abseil flags: defined with ABSL_FLAG,
// read with absl::GetFlag, their values parsed and checked by Abseil
// (CommandLineFlag::ParseFrom), their help and defaults taken from their
// definitions.
//
// Syntax: `--name=value`, `--name value`, `--name` (a bool: true),
// `--name=false`, a flag's one-letter alias (`-o value`), flags and
// arguments in any order, and `--`, after which everything is an argument
// (for a command that runs another program, its command line). A flag's
// name may be written with `-` or `_` (`--leave-paused`, `--leave_paused`).

#ifndef SOCCR_TOOLS_CLI_H_
#define SOCCR_TOOLS_CLI_H_

#include <stddef.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace soccr::tools::cli {

// Exit statuses, the same for every subcommand (`soccr --help` lists them).
inline constexpr int kExitOk = 0;
// The operation failed (the reason is on stderr); `check`: a basic feature
// is missing; `demo`: a byte differs.
inline constexpr int kExitFailed = 1;
// The command line is wrong: unknown subcommand or flag, bad value,
// missing or extra argument.
inline constexpr int kExitUsage = 2;
// `restore`: the command to run was found but cannot be executed, or was
// not found (as env(1) and shells report them). Nothing was restored.
inline constexpr int kExitCannotExecute = 126;
inline constexpr int kExitNotFound = 127;

// One flag a subcommand accepts.
struct FlagRef {
  // The Abseil flag's name (with underscores, as in ABSL_FLAG).
  absl::string_view name;
  // What its value stands for in the usage text ("PID"); empty for a bool.
  absl::string_view value_name = "";
  // A one-letter alias ('o' for -o), or 0.
  char alias = 0;
  // Whether the subcommand needs it (Parse() fails without it).
  bool required = false;
  // A string flag whose value may be left out: `--name=VALUE`, `--name
  // VALUE`, or a bare `--name` (its Abseil flag then holds ""; Args::values
  // says it was given). `--name VALUE` takes the next word only when it is
  // not a flag, not `--`, and the subcommand still gets its arguments
  // without it: `--reconnect IMAGE -- CMD` leaves IMAGE to the command,
  // `--reconnect PATH IMAGE -- CMD` gives PATH to the flag.
  bool optional_value = false;
};

// A subcommand: its name, usage text and flags.
struct Command {
  absl::string_view name;
  // "dump --pid PID --fd FD -o IMAGE": the line after "usage: soccr ".
  absl::string_view synopsis;
  // One line, for `soccr --help`.
  absl::string_view summary;
  // What it does, for `soccr NAME --help` (may span lines).
  absl::string_view description;
  std::vector<FlagRef> flags;
  // How many arguments it takes (before `--`).
  size_t min_args = 0;
  size_t max_args = 0;
  // Whether it takes a command line after `--` (required when true).
  bool takes_command = false;
};

// A parsed command line. The flags' values are in their Abseil flags.
struct Args {
  bool help = false;  // --help or -h: print Usage() and exit 0
  std::vector<std::string> args;
  std::vector<std::string> command;  // after `--`
  // Every value given to each flag, in order (for a flag that may be
  // repeated, `--fd 5 --fd 6`; the Abseil flag holds the last one).
  std::map<std::string, std::vector<std::string>> values;
};

// Parses the arguments after the subcommand's name, setting the Abseil
// flags `command` accepts. InvalidArgument with a one-line message for any
// usage error: a flag the subcommand does not take (even if it is another
// subcommand's), a missing or malformed value, a required flag not given,
// too few or too many arguments, a missing command. With --help, nothing else
// is checked.
[[nodiscard]] absl::StatusOr<Args> Parse(const Command& command,
                                         absl::Span<const char* const> argv);

// The subcommand's --help text: synopsis, description, and each of its
// flags with its help and default (only its own flags).
std::string Usage(const Command& command);

// How a flag is written on the command line: "leave-paused" for
// "leave_paused".
std::string DisplayName(absl::string_view flag_name);

}  // namespace soccr::tools::cli

#endif  // SOCCR_TOOLS_CLI_H_
