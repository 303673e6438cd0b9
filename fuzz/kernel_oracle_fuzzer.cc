// Fuzzes PlanRestore against the kernel (soccr/testing/kernel_oracle.h):
// every state the generator draws (fuzz_input.h, the restore-plan fuzzer's
// input format, so the two share a corpus) is really restored in a private
// network namespace when PlanRestore accepts it, and handed to the kernel's
// bare repair calls when PlanRestore refuses it by a rule it attributes to
// the kernel.
//
// Property: they agree. A disagreement aborts with the state printed.

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/testing/kernel_oracle.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  absl::Status s = soccr::loopback::EnterPrivateNetns();
  if (s.ok()) s = soccr::testing::SetUpSinkNetwork();
  if (!s.ok()) {
    fprintf(stderr, "kernel_oracle_fuzzer: %s\n", s.ToString().c_str());
    abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  soccr::fuzzing::FuzzInput in(data, size);
  const soccr::ConnectionState s =
      soccr::testing::WithSinkAddresses(soccr::fuzzing::StateFromInput(in));
  soccr::testing::OracleCounts counts;
  const absl::Status agree = soccr::testing::CompareWithKernel(s, counts);
  SOCCR_FUZZ_CHECK(agree.ok()) << agree;
  return 0;
}
