// The probes of `soccr check` through a FaultInjectingSys: each failure a
// kernel could give turns into the line a user would read, deterministically
// (check_test.sh runs the binary against whatever kernel it finds).

#include <errno.h>
#include <netinet/tcp.h>

#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "soccr/sys/fault_injecting_sys.h"
#include "soccr/testing/netns.h"
#include "tools/check.h"

#ifndef TCP_AO_INFO
#define TCP_AO_INFO 40
#endif

namespace soccr::tools {
namespace {

using sys::FaultInjectingSys;
using sys::Op;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CheckTest : public soccr::testing::NetnsTest {};

const Probe& Line(const CheckReport& report, absl::string_view feature) {
  for (const Probe& p : report.probes) {
    if (p.feature == feature) return p;
  }
  ADD_FAILURE() << "no line for " << feature;
  return report.probes.front();
}

// The index of the first call that `matches` (given the calls before it),
// in a run without failures.
template <typename Matches>
std::optional<size_t> FirstCall(FaultInjectingSys& sys, Matches matches) {
  sys.Reset();
  (void)RunChecks(sys);
  const std::vector<FaultInjectingSys::Call> calls = sys.calls();
  for (size_t i = 0; i < calls.size(); ++i) {
    if (matches(absl::MakeConstSpan(calls).subspan(0, i + 1))) return i;
  }
  return std::nullopt;
}

// RunChecks with the first call that `matches` failing with `err`.
template <typename Matches>
CheckReport RunFailing(Matches matches, int err) {
  FaultInjectingSys sys;
  const std::optional<size_t> i = FirstCall(sys, matches);
  EXPECT_TRUE(i.has_value());
  sys.Reset();
  if (i.has_value()) sys.FailCallAt(*i, err);
  return RunChecks(sys);
}

using Calls = absl::Span<const FaultInjectingSys::Call>;

// The last call is the one that matters.
template <typename Is>
auto Last(Is is) {
  return [is](Calls calls) { return is(calls.back()); };
}

// The AO probe's getsockopt(TCP_AO_INFO), on the socket it just opened
// (checkpoints read the option too, on their connections).
bool IsAoProbe(Calls calls) {
  const FaultInjectingSys::Call& c = calls.back();
  return c.op == Op::kGetSockOpt && c.level == SOL_TCP &&
         c.name == TCP_AO_INFO && calls.size() >= 2 &&
         calls[calls.size() - 2].op == Op::kSocket;
}

TEST_F(CheckTest, EveryBasicFeatureInAPrivateNamespace) {
  FaultInjectingSys sys;
  const CheckReport report = RunChecks(sys);
  EXPECT_TRUE(report.BasicsPresent()) << FormatCheckReport(report);
  EXPECT_EQ(Line(report, "checkpoint and restore").outcome,
            Probe::Outcome::kOk);
  // The probes made their kernel calls through `sys`.
  EXPECT_GT(sys.calls().size(), 30u);
}

TEST_F(CheckTest, RepairModeRefused) {
  const CheckReport report =
      RunFailing(Last([](const FaultInjectingSys::Call& c) {
                   return c.op == Op::kSetRepair;
                 }),
                 EPERM);
  EXPECT_FALSE(report.BasicsPresent());
  const Probe& repair = Line(report, "repair mode (TCP_REPAIR)");
  EXPECT_EQ(repair.outcome, Probe::Outcome::kMissing);
  EXPECT_EQ(repair.detail,
            "setsockopt(TCP_REPAIR): Operation not permitted (needs "
            "CAP_NET_ADMIN over this network namespace; `soccr check "
            "--private-netns` shows what the kernel supports)");
  const Probe& queues = Line(report, "repair queues (TCP_REPAIR_QUEUE)");
  EXPECT_EQ(queues.outcome, Probe::Outcome::kSkipped);
  EXPECT_EQ(queues.detail, "needs repair mode");
  EXPECT_THAT(FormatCheckReport(report),
              HasSubstr("basic features (*) missing: repair mode"));
}

TEST_F(CheckTest, KernelWithoutTcpAo) {
  const CheckReport report = RunFailing(IsAoProbe, ENOPROTOOPT);
  const Probe& ao = Line(report, "TCP-AO connections refused");
  EXPECT_EQ(ao.outcome, Probe::Outcome::kMissing);
  EXPECT_EQ(ao.detail,
            "getsockopt(TCP_AO_INFO): Protocol not available (a kernel "
            "without CONFIG_TCP_AO: no connection here can carry TCP-AO "
            "keys)");
  // Not a basic feature.
  EXPECT_TRUE(report.BasicsPresent());
}

TEST_F(CheckTest, KernelWithTcpAoAndNoKey) {
  const CheckReport report = RunFailing(IsAoProbe, ENOENT);
  const Probe& ao = Line(report, "TCP-AO connections refused");
  EXPECT_EQ(ao.outcome, Probe::Outcome::kOk);
  EXPECT_THAT(ao.detail, StartsWith("the kernel has TCP-AO: "));
}

TEST_F(CheckTest, NoSocketForTheRepairProbe) {
  const CheckReport report =
      RunFailing(Last([](const FaultInjectingSys::Call& c) {
                   return c.op == Op::kSocket;
                 }),
                 EPERM);
  // The first socket() of the probes is the repair socket's.
  const Probe& options = Line(report, "repair options (TCP_REPAIR_OPTIONS)");
  EXPECT_EQ(options.outcome, Probe::Outcome::kMissing);
  EXPECT_EQ(options.detail,
            "socket(AF_INET, SOCK_STREAM): Operation not permitted");
}

TEST_F(CheckTest, InjectionWithoutCapNetRaw) {
  FaultInjectingSys sys;
  // The third socket() is the raw one (after the repair and buffer probes').
  const std::optional<size_t> raw = [&]() -> std::optional<size_t> {
    sys.Reset();
    (void)RunChecks(sys);
    int sockets = 0;
    const std::vector<FaultInjectingSys::Call> calls = sys.calls();
    for (size_t i = 0; i < calls.size(); ++i) {
      if (calls[i].op == Op::kSocket && ++sockets == 3) return i;
    }
    return std::nullopt;
  }();
  ASSERT_TRUE(raw.has_value());
  sys.Reset();
  sys.FailCallAt(*raw, EPERM);
  const CheckReport report = RunChecks(sys);
  const Probe& injection = Line(report, "raw packet injection (CAP_NET_RAW)");
  EXPECT_EQ(injection.outcome, Probe::Outcome::kMissing);
  EXPECT_THAT(injection.detail,
              StartsWith("socket(AF_INET, SOCK_RAW): Operation not permitted "
                         "(needs CAP_NET_RAW); connections in FIN_WAIT1"));
}

}  // namespace
}  // namespace soccr::tools
