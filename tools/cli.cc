#include "tools/cli.h"

#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace soccr::tools::cli {
namespace {

absl::Status UsageError(const Command& command, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " (see: soccr ", command.name, " --help)"));
}

// The flag `written` (as typed, without dashes) names, if `command` takes
// it.
const FlagRef* FindFlag(const Command& command, absl::string_view written) {
  const std::string name = absl::StrReplaceAll(written, {{"-", "_"}});
  for (const FlagRef& f : command.flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const FlagRef* FindAlias(const Command& command, char alias) {
  for (const FlagRef& f : command.flags) {
    if (f.alias != 0 && f.alias == alias) return &f;
  }
  return nullptr;
}

absl::CommandLineFlag* AbseilFlag(const FlagRef& ref) {
  // Every FlagRef names an ABSL_FLAG linked into the binary; a missing one
  // is a programming error, caught by the tests of each subcommand.
  return absl::FindCommandLineFlag(ref.name);
}

bool IsBool(const FlagRef& ref) {
  absl::CommandLineFlag* flag = AbseilFlag(ref);
  return flag != nullptr && flag->IsOfType<bool>();
}

absl::Status SetFlag(const Command& command, const FlagRef& ref,
                     absl::string_view written, absl::string_view value) {
  absl::CommandLineFlag* flag = AbseilFlag(ref);
  if (flag == nullptr) {
    return absl::InternalError(
        absl::StrCat("flag --", DisplayName(ref.name), " is not defined"));
  }
  std::string error;
  if (!flag->ParseFrom(value, &error)) {
    return UsageError(command, absl::StrCat("bad value \"", value, "\" for ",
                                            written, ": ", error));
  }
  return absl::OkStatus();
}

// How many of `rest` (the words after a flag, up to `--`) are arguments
// rather than flags or their values.
size_t ArgumentsIn(const Command& command, absl::Span<const char* const> rest) {
  size_t n = 0;
  for (size_t i = 0; i < rest.size(); ++i) {
    const absl::string_view arg = rest[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') {
      ++n;
      continue;
    }
    const FlagRef* ref = nullptr;
    if (arg[1] == '-') {
      const absl::string_view body = arg.substr(2);
      if (body.find('=') != absl::string_view::npos) continue;
      ref = FindFlag(command, body);
    } else if (arg.size() == 2) {
      ref = FindAlias(command, arg[1]);
    }
    // A flag that takes the next word as its value (a later flag with an
    // optional value is counted as taking none).
    if (ref != nullptr && !IsBool(*ref) && !ref->optional_value) ++i;
  }
  return n;
}

}  // namespace

std::string DisplayName(absl::string_view flag_name) {
  return absl::StrReplaceAll(flag_name, {{"_", "-"}});
}

absl::StatusOr<Args> Parse(const Command& command,
                           absl::Span<const char* const> argv) {
  Args out;
  // --help wins over everything else, even errors before it.
  for (const char* a : argv) {
    const absl::string_view arg = a;
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h" || arg == "-help") {
      out.help = true;
      return out;
    }
  }
  bool dashes = false;
  absl::flat_hash_set<absl::string_view> given;
  for (size_t i = 0; i < argv.size(); ++i) {
    const absl::string_view arg = argv[i];
    if (dashes) {
      out.command.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      dashes = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      out.args.emplace_back(arg);
      continue;
    }
    // A flag: --name[=value], or -x [value] for an alias.
    const FlagRef* ref = nullptr;
    absl::string_view written;
    std::optional<absl::string_view> value;
    if (arg[1] == '-') {
      const absl::string_view body = arg.substr(2);
      const size_t eq = body.find('=');
      written =
          arg.substr(0, eq == absl::string_view::npos ? arg.size() : eq + 2);
      ref = FindFlag(command, body.substr(0, eq));
      if (eq != absl::string_view::npos) value = body.substr(eq + 1);
    } else if (arg.size() == 2) {
      written = arg;
      ref = FindAlias(command, arg[1]);
    } else {
      written = arg;
    }
    if (ref == nullptr) {
      return UsageError(command, absl::StrCat("unknown flag ", written));
    }
    if (!value.has_value()) {
      if (IsBool(*ref)) {
        value = "true";
      } else if (ref->optional_value) {
        const bool next_is_word = i + 1 < argv.size() &&
                                  absl::string_view(argv[i + 1]) != "--" &&
                                  !absl::StartsWith(argv[i + 1], "-");
        if (next_is_word &&
            out.args.size() + ArgumentsIn(command, argv.subspan(i + 2)) >=
                command.min_args) {
          value = argv[++i];
        } else {
          value = "";
        }
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        return UsageError(command, absl::StrCat(written, " needs a value (",
                                                ref->value_name, ")"));
      }
    }
    if (absl::Status s = SetFlag(command, *ref, written, *value); !s.ok()) {
      return s;
    }
    given.insert(ref->name);
    out.values[std::string(ref->name)].emplace_back(*value);
  }
  for (const FlagRef& ref : command.flags) {
    if (ref.required && !given.contains(ref.name)) {
      return UsageError(command,
                        absl::StrCat("missing --", DisplayName(ref.name), " ",
                                     ref.value_name));
    }
  }
  if (out.args.size() < command.min_args) {
    return UsageError(command, absl::StrCat("missing argument; usage: soccr ",
                                            command.synopsis));
  }
  if (out.args.size() > command.max_args) {
    return UsageError(command, absl::StrCat("unexpected argument \"",
                                            out.args[command.max_args], "\""));
  }
  if (command.takes_command && out.command.empty()) {
    return UsageError(command, "missing the command to run after \"--\"");
  }
  if (!command.takes_command && dashes) {
    return UsageError(command, "runs no command after \"--\"");
  }
  return out;
}

std::string Usage(const Command& command) {
  std::string s = absl::StrCat("usage: soccr ", command.synopsis, "\n\n",
                               command.description, "\n");
  if (!command.flags.empty()) absl::StrAppend(&s, "\nflags:\n");
  for (const FlagRef& ref : command.flags) {
    std::string left = absl::StrCat("  --", DisplayName(ref.name));
    if (ref.optional_value) {
      absl::StrAppend(&left, " [", ref.value_name, "]");
    } else if (!ref.value_name.empty()) {
      absl::StrAppend(&left, " ", ref.value_name);
    }
    if (ref.alias != 0) {
      left = absl::StrCat("  -", std::string(1, ref.alias),
                          ref.value_name.empty() ? "" : " ", ref.value_name,
                          ",", left.substr(1));
    }
    absl::StrAppend(&s, left, "\n");
    const absl::CommandLineFlag* flag = AbseilFlag(ref);
    if (flag == nullptr) continue;
    for (absl::string_view line : absl::StrSplit(flag->Help(), '\n')) {
      absl::StrAppend(&s, "      ", line, "\n");
    }
    const std::string def = flag->DefaultValue();
    if (ref.required) {
      absl::StrAppend(&s, "      (required)\n");
    } else if (!flag->IsOfType<bool>() && !def.empty()) {
      absl::StrAppend(&s, "      (default: ", def, ")\n");
    }
  }
  return s;
}

}  // namespace soccr::tools::cli
