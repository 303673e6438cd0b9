/*
 * soccr_c/testing/harness.h: a small test harness for tests written in C.
 *
 * Each test is a void function; CHECK* end it on the first failure, EXPECT*
 * record a failure and carry on. ct_main() enters a private user namespace
 * once, then gives every test a fresh network namespace with only `lo` up,
 * so nothing needs root and nothing reaches the host's network:
 *
 *   static void TestSomething(void) { CHECK_EQ(1 + 1, 2); }
 *   int main(int argc, char **argv) {
 *     static const struct ct_test tests[] = {CT_TEST(TestSomething)};
 *     return ct_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
 *   }
 *
 * A test is skipped unless its name contains argv[1] (or Bazel's
 * --test_filter), when either is given.
 */

#ifndef SOCCR_C_TESTING_HARNESS_H_
#define SOCCR_C_TESTING_HARNESS_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ct_test {
  const char *name;
  void (*fn)(void);
};
#define CT_TEST(fn) \
  { #fn, fn }

/* Records a failure of the current test (printf-style message). */
void ct_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether the current test has failed so far. */
int ct_failed(void);

#define EXPECT(cond)                                       \
  do {                                                     \
    if (!(cond)) ct_fail(__FILE__, __LINE__, "%s", #cond); \
  } while (0)

#define CHECK(cond)                             \
  do {                                          \
    if (!(cond)) {                              \
      ct_fail(__FILE__, __LINE__, "%s", #cond); \
      return;                                   \
    }                                           \
  } while (0)

#define EXPECT_EQ(a, b)                                                    \
  do {                                                                     \
    const long long ct_a_ = (long long)(a), ct_b_ = (long long)(b);        \
    if (ct_a_ != ct_b_) {                                                  \
      ct_fail(__FILE__, __LINE__, "%s == %s: %lld vs %lld", #a, #b, ct_a_, \
              ct_b_);                                                      \
    }                                                                      \
  } while (0)

#define CHECK_EQ(a, b)                                                     \
  do {                                                                     \
    const long long ct_a_ = (long long)(a), ct_b_ = (long long)(b);        \
    if (ct_a_ != ct_b_) {                                                  \
      ct_fail(__FILE__, __LINE__, "%s == %s: %lld vs %lld", #a, #b, ct_a_, \
              ct_b_);                                                      \
      return;                                                              \
    }                                                                      \
  } while (0)

/* Runs the tests (see the file comment); returns main's exit status. */
int ct_main(int argc, char **argv, const struct ct_test *tests, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* SOCCR_C_TESTING_HARNESS_H_ */
