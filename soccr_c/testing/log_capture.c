#include "soccr_c/testing/log_capture.h"

#include <pthread.h>
#include <soccr/soccr.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT_MAX_MESSAGES 4096

struct message {
  unsigned int level;
  char *text;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct message messages[CT_MAX_MESSAGES]; /* guarded by mu */
static int count;                                /* guarded by mu */
static int malformed;                            /* guarded by mu */

void ct_log_function(unsigned int level, const char *fmt, ...) {
  va_list ap;
  char *text = NULL;
  int n;
  size_t len;
  va_start(ap, fmt);
  n = vasprintf(&text, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  len = strlen(text);
  pthread_mutex_lock(&mu);
  if (len == 0 || text[len - 1] != '\n' || (len > 1 && text[len - 2] == '\n')) {
    ++malformed;
  }
  if (count < CT_MAX_MESSAGES) {
    messages[count].level = level;
    messages[count].text = text;
    ++count;
    text = NULL;
  }
  pthread_mutex_unlock(&mu);
  free(text);
}

void ct_log_clear(void) {
  int i;
  pthread_mutex_lock(&mu);
  for (i = 0; i < count; ++i) free(messages[i].text);
  count = 0;
  malformed = 0;
  pthread_mutex_unlock(&mu);
}

void ct_log_capture(unsigned int level) {
  ct_log_clear();
  libsoccr_set_log(level, ct_log_function);
}

int ct_log_has(unsigned int level, const char *text) {
  int i, found = 0;
  pthread_mutex_lock(&mu);
  for (i = 0; i < count && !found; ++i) {
    if ((level == 0 || messages[i].level == level) &&
        strstr(messages[i].text, text) != NULL) {
      found = 1;
    }
  }
  pthread_mutex_unlock(&mu);
  return found;
}

int ct_log_count(unsigned int level) {
  int i, n = 0;
  pthread_mutex_lock(&mu);
  for (i = 0; i < count; ++i) {
    if (level == 0 || messages[i].level == level) ++n;
  }
  pthread_mutex_unlock(&mu);
  return n;
}

int ct_log_malformed(void) {
  int n;
  pthread_mutex_lock(&mu);
  n = malformed;
  pthread_mutex_unlock(&mu);
  return n;
}

void ct_log_text(char *out, unsigned long n) {
  int i;
  size_t used = 0;
  if (n == 0) return;
  out[0] = '\0';
  pthread_mutex_lock(&mu);
  for (i = 0; i < count && used + 1 < n; ++i) {
    const size_t len = strlen(messages[i].text);
    const size_t take = len < n - 1 - used ? len : n - 1 - used;
    memcpy(out + used, messages[i].text, take);
    used += take;
  }
  out[used] = '\0';
  pthread_mutex_unlock(&mu);
}

void ct_log_dump(void) {
  int i;
  pthread_mutex_lock(&mu);
  for (i = 0; i < count; ++i) {
    fprintf(stderr, "  log[%u]: %s", messages[i].level, messages[i].text);
  }
  pthread_mutex_unlock(&mu);
}
