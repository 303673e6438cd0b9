/*
 * soccr_c/testing/image.h: a checkpoint taken and restored through the
 * libsoccr C API, the way a libsoccr caller would do it.
 *
 *   struct ct_image img;
 *   if (ct_checkpoint(client, &img) != 0) ...;  // client left in repair mode
 *   close(client);                                // sends nothing
 *   int restored = ct_restore(&img, 0);           // a new, live socket
 *   ct_image_free(&img);
 */

#ifndef SOCCR_C_TESTING_IMAGE_H_
#define SOCCR_C_TESTING_IMAGE_H_

#include <soccr/soccr.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ct_image {
  struct libsoccr_sk_data data;
  char *inq; /* malloc()-ed (SOCCR_MEM_EXCL); the image's */
  char *outq;
  union libsoccr_addr self;
  union libsoccr_addr peer;
};

/* Pauses `fd`, saves the connection and both queues (taken with
 * SOCCR_MEM_EXCL) and its addresses, and releases the handle: `fd` stays in
 * repair mode, so closing it sends nothing. 0 or -1. */
int ct_checkpoint(int fd, struct ct_image *img);

/* Restores `img` onto a new plain socket (blocking, default buffers) and
 * resumes it; returns the socket, or -1 (the new socket closed silently).
 * `queue_flags` is passed to libsoccr_set_queue_bytes: with SOCCR_MEM_EXCL
 * the queues become the library's and img->inq/outq are set to NULL. */
int ct_restore(struct ct_image *img, unsigned queue_flags);

/* As ct_restore, calling `between(sk, arg)` after libsoccr_restore and
 * before libsoccr_resume, where CRIU sets the socket's options (buffer
 * sizes among them). A non-zero return from `between` fails the restore. */
int ct_restore_then(struct ct_image *img, unsigned queue_flags,
                    int (*between)(int sk, void *arg), void *arg);

/* Frees the queues the image still owns. */
void ct_image_free(struct ct_image *img);

#ifdef __cplusplus
}
#endif

#endif /* SOCCR_C_TESTING_IMAGE_H_ */
