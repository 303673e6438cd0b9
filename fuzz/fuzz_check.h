// fuzz/fuzz_check.h: property checks in fuzz targets.
//
//   SOCCR_FUZZ_CHECK(parsed == state)
//       << "round trip changed " << state.ToString();
//
// A failed check prints where and why and aborts, which libFuzzer (and the
// replaying corpus test) reports as a crash with the input that caused it.
// Checks are always on: they are the point of the fuzzer.

#ifndef SOCCR_FUZZ_FUZZ_CHECK_H_
#define SOCCR_FUZZ_FUZZ_CHECK_H_

#include <stdio.h>
#include <stdlib.h>

#include <sstream>
#include <string>

namespace soccr::fuzzing {

// Collects the message of a failed check; aborts when destroyed.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition) {
    stream_ << file << ":" << line << ": property violated: " << condition
            << ": ";
  }
  [[noreturn]] ~CheckFailure() {
    fprintf(stderr, "%s\n", stream_.str().c_str());
    fflush(stderr);
    abort();
  }
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

}  // namespace soccr::fuzzing

#define SOCCR_FUZZ_CHECK(condition) \
  if (condition) {                  \
  } else                            \
    ::soccr::fuzzing::CheckFailure(__FILE__, __LINE__, #condition).stream()

#endif  // SOCCR_FUZZ_FUZZ_CHECK_H_
