/*
 * soccr_c/testing/unprivileged.h: C tests without CAP_NET_ADMIN, through
 * the repair helper.
 *
 * The harness built with CT_UNPRIVILEGED (//soccr_c/testing:unprivileged)
 * calls ct_enter_unprivileged() instead of giving each test a network
 * namespace of its own: one private user and network namespace (lo up),
 * the real `soccr-repair --listen` started in it (it keeps CAP_NET_ADMIN
 * there), SOCCR_REPAIR_HELPER set to its socket, and the test process
 * moved into a nested user namespace without any capability over that
 * network namespace. Every test then runs in that one namespace, as an
 * ordinary user would, with libsoccr going through the helper.
 *
 * Each call returns 0, or -1 after printing why to stderr.
 */

#ifndef SOCCR_C_TESTING_UNPRIVILEGED_H_
#define SOCCR_C_TESTING_UNPRIVILEGED_H_

#ifdef __cplusplus
extern "C" {
#endif

/* See the file comment. The process must be single-threaded. The helper
 * binary is tools/soccr-repair in the test's runfiles. */
int ct_enter_unprivileged(void);

/* Stops the helper; returns its exit status (0: clean), or -1. */
int ct_stop_helper(void);

#ifdef __cplusplus
}
#endif

#endif /* SOCCR_C_TESTING_UNPRIVILEGED_H_ */
