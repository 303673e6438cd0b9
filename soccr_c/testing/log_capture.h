/*
 * soccr_c/testing/log_capture.h: a libsoccr_set_log() function that keeps
 * what the library reports, for tests to look at. Thread-safe.
 *
 *   ct_log_capture(SOCCR_LOG_ERR);
 *   EXPECT(libsoccr_pause(-1) == NULL);
 *   EXPECT(ct_log_has(SOCCR_LOG_ERR, "not a descriptor"));
 */

#ifndef SOCCR_C_TESTING_LOG_CAPTURE_H_
#define SOCCR_C_TESTING_LOG_CAPTURE_H_

#ifdef __cplusplus
extern "C" {
#endif

/* The log function itself: formats and keeps the message. */
void ct_log_function(unsigned int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* libsoccr_set_log(level, ct_log_function), after forgetting earlier
 * messages. */
void ct_log_capture(unsigned int level);

/* Forgets the messages kept so far. */
void ct_log_clear(void);

/* Whether a message of `level` (0: any level) contains `text`. */
int ct_log_has(unsigned int level, const char *text);

/* How many messages of `level` (0: any level) were kept. */
int ct_log_count(unsigned int level);

/* How many messages did not end with exactly one newline. */
int ct_log_malformed(void);

/* The messages kept so far, one after the other, cut to `n` - 1 bytes and
 * NUL-terminated in `out`. */
void ct_log_text(char *out, unsigned long n);

/* Prints every message kept to stderr (to explain a failure). */
void ct_log_dump(void);

#ifdef __cplusplus
}
#endif

#endif /* SOCCR_C_TESTING_LOG_CAPTURE_H_ */
