/*
 * soccr_version() from C, linked with libsoccr.so.1: the version in the
 * top-level VERSION file (argv[1]), MAJOR.MINOR.PATCH.
 *   version_test VERSION
 */

#include <soccr/move.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: version_test VERSION\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  char want[64] = {0};
  if (f == NULL || fgets(want, sizeof(want), f) == NULL) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  fclose(f);
  want[strcspn(want, "\n")] = '\0';
  const char *got = soccr_version();
  if (got == NULL || strcmp(got, want) != 0) {
    fprintf(stderr, "soccr_version() = \"%s\", VERSION has \"%s\"\n",
            got ? got : "(null)", want);
    return 1;
  }
  unsigned major, minor, patch;
  char rest;
  if (sscanf(got, "%u.%u.%u%c", &major, &minor, &patch, &rest) != 3) {
    fprintf(stderr, "soccr_version() = \"%s\": not MAJOR.MINOR.PATCH\n", got);
    return 1;
  }
  printf("soccr_version() = %s: ok\n", got);
  return 0;
}
