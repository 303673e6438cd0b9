// The differential test of issue 11: the kernel, not soccr's own code, says
// which states are restorable. States come from the fuzzers' generator
// (fuzz/fuzz_input.h), which shapes values like the kernel's and never
// clamps them to soccr's rules; each one PlanRestore accepts is really
// restored and resumed in a private network namespace, and each one it
// refuses by a rule it attributes to the kernel is handed to the kernel
// with the bare repair calls, which must fail too. Any disagreement fails
// the test with the state printed.
//
// Addresses are the namespace's own (soccr/testing/kernel_oracle.h), kind for
// kind, so that whether a state restores depends on the state, not on
// routes the namespace happens to lack.

#include "soccr/testing/kernel_oracle.h"

#include <stdint.h>

#include <iostream>
#include <random>
#include <string>

#include "fuzz/fuzz_input.h"
#include "gtest/gtest.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/restore_plan.h"
#include "soccr/testing/status_macros.h"

namespace soccr::testing {
namespace {

// Bytes for the generator: the first one (which field groups are raw) is
// mostly 0, so that most states are shaped like the kernel's and reach the
// kernel-checked fields; the rest are uniform.
std::string GeneratorBytes(std::mt19937_64& rng) {
  std::string bytes(160 + rng() % 400, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  const uint64_t mode = rng() % 8;
  bytes[0] = mode < 5 ? 0 : static_cast<char>(1u << (rng() % 6));
  // Queue lengths (a U16 each) small most of the time.
  return bytes;
}

TEST(KernelOracleTest, PlanRestoreAgreesWithTheKernel) {
  constexpr int kStates = 3000;
  constexpr int kStatesPerNamespace = 250;
  std::mt19937_64 rng(20260611);
  OracleCounts counts;
  int disagreements = 0;
  for (int i = 0; i < kStates; ++i) {
    if (i % kStatesPerNamespace == 0) {
      ASSERT_OK(loopback::EnterPrivateNetns());
      ASSERT_OK(SetUpSinkNetwork());
    }
    const std::string bytes = GeneratorBytes(rng);
    fuzzing::FuzzInput in(reinterpret_cast<const uint8_t*>(bytes.data()),
                          bytes.size());
    const ConnectionState s = WithSinkAddresses(fuzzing::StateFromInput(in));
    const absl::Status agree = CompareWithKernel(s, counts);
    if (!agree.ok()) {
      ADD_FAILURE() << "state " << i << ": " << agree;
      if (++disagreements >= 10) break;
    }
  }
  std::cout << "differential test: " << kStates
            << " states: " << counts.ToString() << "\n";
  // The generator reaches every outcome, not only soccr's refusals.
  EXPECT_GT(counts.accepted, kStates / 5u);
  EXPECT_GT(counts.kernel_refused, kStates / 50u);
}

}  // namespace
}  // namespace soccr::testing
