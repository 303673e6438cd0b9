#include "soccr_c/testing/harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soccr_c/testing/netns.h"
#ifdef CT_UNPRIVILEGED
#include "soccr_c/testing/unprivileged.h"
#endif

static int current_failed;
static const char *current_name;

void ct_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s:%d: %s: failed: ", file, line,
          current_name ? current_name : "?");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  current_failed = 1;
}

int ct_failed(void) { return current_failed; }

/* Whether test `name` runs: it contains one of argv[1..] (or Bazel's
 * --test_filter), or no filter was given. */
static int selected(const char *name, int argc, char **argv) {
  const char *env = getenv("TESTBRIDGE_TEST_ONLY");
  int i;
  if (argc <= 1) return env == NULL || env[0] == '\0' || strstr(name, env);
  for (i = 1; i < argc; ++i) {
    if (argv[i][0] == '\0' || strstr(name, argv[i]) != NULL) return 1;
  }
  return 0;
}

int ct_main(int argc, char **argv, const struct ct_test *tests, size_t n) {
  const char *filter = argc > 1 ? argv[1] : getenv("TESTBRIDGE_TEST_ONLY");
  size_t i, ran = 0, failed = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef CT_UNPRIVILEGED
  if (ct_enter_unprivileged() != 0) return 1;
#else
  if (ct_enter_user_namespace() != 0) return 1;
#endif
  for (i = 0; i < n; ++i) {
    if (!selected(tests[i].name, argc, argv)) continue;
    current_name = tests[i].name;
    current_failed = 0;
    printf("[ RUN      ] %s\n", tests[i].name);
#ifdef CT_UNPRIVILEGED
    if (0) { /* every test shares the one unprivileged namespace */
#else
    if (ct_enter_network_namespace() != 0) {
#endif
      current_failed = 1;
    } else {
      tests[i].fn();
    }
    printf("%s %s\n", current_failed ? "[  FAILED  ]" : "[       OK ]",
           tests[i].name);
    ++ran;
    if (current_failed) ++failed;
  }
  current_name = NULL;
#ifdef CT_UNPRIVILEGED
  if (ct_stop_helper() != 0) {
    fprintf(stderr, "the repair helper did not exit cleanly\n");
    ++failed;
  }
#endif
  printf("%zu tests ran, %zu failed\n", ran, failed);
  if (ran == 0) {
    fprintf(stderr, "no test matches \"%s\"\n", filter ? filter : "");
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
