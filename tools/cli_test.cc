#include "tools/cli.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(bool, test_verbose, false, "Say more.");
ABSL_FLAG(int32_t, test_count, 1, "How many.");
ABSL_FLAG(std::string, test_out, "", "Where to.");
ABSL_FLAG(bool, test_other, false, "Another command's flag.");
ABSL_FLAG(std::string, test_maybe, "", "A flag whose value may be left out.");

namespace soccr::tools::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const Command kCmd = {
    "frob",
    "frob [--test-verbose] [--test-count N] -t OUT FILE",
    "frobs a file",
    "Frobs FILE into OUT.",
    {{"test_verbose"}, {"test_count", "N"}, {"test_out", "OUT", 't', true}},
    1,
    1,
};

const Command kMaybe = {
    "maybe",
    "maybe [--test-maybe [V]] [--test-count N] FILE -- CMD",
    "takes an optional value",
    "Maybe.",
    {{"test_maybe", "V", 0, false, /*optional_value=*/true},
     {"test_count", "N"}},
    1,
    1,
    /*takes_command=*/true,
};

const Command kRun = {
    "run", "run -- CMD", "runs", "Runs CMD.", {{"test_verbose"}}, 0, 0, true,
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::SetFlag(&FLAGS_test_verbose, false);
    absl::SetFlag(&FLAGS_test_count, 1);
    absl::SetFlag(&FLAGS_test_out, "");
    absl::SetFlag(&FLAGS_test_other, false);
  }

  static absl::StatusOr<Args> P(const Command& c,
                                std::vector<const char*> argv) {
    return Parse(c, argv);
  }
};

TEST_F(CliTest, ParsesEveryForm) {
  absl::StatusOr<Args> a =
      P(kCmd, {"--test-verbose", "file", "--test_count=7", "-t", "out"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(a->help);
  EXPECT_THAT(a->args, ::testing::ElementsAre("file"));
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_verbose));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 7);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_out), "out");

  a = P(kCmd,
        {"--test-count", "3", "--test-verbose=false", "--test-out=o", "f"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_verbose));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 3);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_out), "o");
}

TEST_F(CliTest, OptionalValue) {
  struct Case {
    std::vector<const char*> argv;
    bool given;
    std::string value;
    std::string file;
  };
  const std::vector<Case> cases = {
      {{"f", "--", "x"}, false, "", "f"},
      {{"--test-maybe", "f", "--", "x"}, true, "", "f"},
      {{"--test-maybe", "v", "f", "--", "x"}, true, "v", "f"},
      {{"--test-maybe=v", "f", "--", "x"}, true, "v", "f"},
      {{"--test-maybe=", "f", "--", "x"}, true, "", "f"},
      {{"f", "--test-maybe", "--", "x"}, true, "", "f"},
      {{"f", "--test-maybe", "v", "--", "x"}, true, "v", "f"},
      {{"--test-maybe", "--test-count", "3", "f", "--", "x"}, true, "", "f"},
      {{"--test-maybe", "v", "--test-count", "3", "f", "--", "x"},
       true,
       "v",
       "f"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.argv, " "));
    absl::SetFlag(&FLAGS_test_maybe, "unset");
    absl::StatusOr<Args> a = P(kMaybe, c.argv);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->values.count("test_maybe") != 0, c.given);
    if (c.given) {
      EXPECT_EQ(absl::GetFlag(FLAGS_test_maybe), c.value);
    }
    EXPECT_THAT(a->args, ::testing::ElementsAre(c.file));
  }
  // Two words where one argument is wanted, no optional flag to take one.
  EXPECT_FALSE(P(kMaybe, {"v", "f", "--", "x"}).ok());
  EXPECT_THAT(Usage(kMaybe), HasSubstr("  --test-maybe [V]\n"));
}

TEST_F(CliTest, RejectsAnotherCommandsFlag) {
  // --test-other is a defined Abseil flag, but not one of frob's.
  absl::StatusOr<Args> a = P(kCmd, {"--test-other", "-t", "o", "f"});
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr("unknown flag --test-other"));
  EXPECT_THAT(a.status().message(), HasSubstr("soccr frob --help"));
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_other));
}

TEST_F(CliTest, RejectsUnknownAndMalformed) {
  EXPECT_THAT(P(kCmd, {"--nope", "f", "-t", "o"}).status().message(),
              HasSubstr("unknown flag --nope"));
  EXPECT_THAT(P(kCmd, {"-x", "f", "-t", "o"}).status().message(),
              HasSubstr("unknown flag -x"));
  EXPECT_THAT(P(kCmd, {"-tv", "f"}).status().message(),
              HasSubstr("unknown flag -tv"));
  absl::StatusOr<Args> a = P(kCmd, {"--test-count=many", "f", "-t", "o"});
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(a.status().message(),
              HasSubstr("bad value \"many\" for --test-count"));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 1);
  EXPECT_THAT(P(kCmd, {"f", "-t"}).status().message(),
              HasSubstr("-t needs a value (OUT)"));
  EXPECT_THAT(
      P(kCmd, {"--test-verbose=maybe", "f", "-t", "o"}).status().message(),
      HasSubstr("bad value"));
}

TEST_F(CliTest, CountsArgumentsAndRequiredFlags) {
  EXPECT_THAT(P(kCmd, {"-t", "o"}).status().message(),
              HasSubstr("missing argument; usage: soccr frob"));
  EXPECT_THAT(P(kCmd, {"-t", "o", "a", "b"}).status().message(),
              HasSubstr("unexpected argument \"b\""));
  EXPECT_THAT(P(kCmd, {"a"}).status().message(),
              HasSubstr("missing --test-out OUT"));
  EXPECT_THAT(P(kCmd, {"-t", "o", "a", "--", "x"}).status().message(),
              HasSubstr("runs no command after \"--\""));
}

TEST_F(CliTest, CommandAfterDashes) {
  absl::StatusOr<Args> a =
      P(kRun, {"--test-verbose", "--", "prog", "--test-other", "-h", "--"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(a->help);  // -h after "--" is the command's
  EXPECT_THAT(a->command,
              ::testing::ElementsAre("prog", "--test-other", "-h", "--"));
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_other));
  EXPECT_THAT(P(kRun, {}).status().message(),
              HasSubstr("missing the command to run after \"--\""));
  EXPECT_THAT(P(kRun, {"--"}).status().message(),
              HasSubstr("missing the command"));
}

TEST_F(CliTest, HelpWinsOverErrors) {
  for (const char* h : {"--help", "-h"}) {
    absl::StatusOr<Args> a = P(kCmd, {"--nope", h});
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_TRUE(a->help);
  }
}

TEST_F(CliTest, UsageListsOnlyItsOwnFlags) {
  const std::string u = Usage(kCmd);
  EXPECT_THAT(u, HasSubstr("usage: soccr frob [--test-verbose]"));
  EXPECT_THAT(u, HasSubstr("Frobs FILE into OUT."));
  EXPECT_THAT(u, HasSubstr("  --test-verbose\n      Say more.\n"));
  EXPECT_THAT(u, HasSubstr("  --test-count N\n      How many.\n"
                           "      (default: 1)\n"));
  EXPECT_THAT(u, HasSubstr("  -t OUT, --test-out OUT\n      Where to.\n"
                           "      (required)\n"));
  EXPECT_THAT(u, Not(HasSubstr("test-other")));
}

TEST(DisplayNameTest, Dashes) {
  EXPECT_EQ(DisplayName("leave_paused"), "leave-paused");
}

}  // namespace
}  // namespace soccr::tools::cli
