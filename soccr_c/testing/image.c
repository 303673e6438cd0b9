#include "soccr_c/testing/image.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ct_checkpoint(int fd, struct ct_image *img) {
  struct libsoccr_sk *h;
  union libsoccr_addr *a;
  int n;
  memset(img, 0, sizeof(*img));
  h = libsoccr_pause(fd);
  if (h == NULL) {
    fprintf(stderr, "ct_checkpoint: libsoccr_pause(%d) failed\n", fd);
    return -1;
  }
  n = libsoccr_save(h, &img->data, sizeof(img->data));
  if (n != (int)sizeof(img->data)) {
    fprintf(stderr, "ct_checkpoint: libsoccr_save returned %d\n", n);
    libsoccr_resume(h);
    return -1;
  }
  img->inq = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL);
  img->outq = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, SOCCR_MEM_EXCL);
  if (img->inq == NULL || img->outq == NULL) {
    fprintf(stderr, "ct_checkpoint: libsoccr_get_queue_bytes failed\n");
    ct_image_free(img);
    libsoccr_resume(h);
    return -1;
  }
  /* One address the library keeps, one the caller takes. */
  a = libsoccr_get_addr(h, 1, 0);
  if (a == NULL) {
    fprintf(stderr, "ct_checkpoint: libsoccr_get_addr(self) failed\n");
    ct_image_free(img);
    libsoccr_resume(h);
    return -1;
  }
  img->self = *a;
  a = libsoccr_get_addr(h, 0, SOCCR_MEM_EXCL);
  if (a == NULL) {
    fprintf(stderr, "ct_checkpoint: libsoccr_get_addr(peer) failed\n");
    ct_image_free(img);
    libsoccr_resume(h);
    return -1;
  }
  img->peer = *a;
  free(a);
  libsoccr_release(h);
  return 0;
}

int ct_restore(struct ct_image *img, unsigned queue_flags) {
  return ct_restore_then(img, queue_flags, NULL, NULL);
}

int ct_restore_then(struct ct_image *img, unsigned queue_flags,
                    int (*between)(int sk, void *arg), void *arg) {
  struct libsoccr_sk *h;
  const int sk = socket(img->self.sa.sa_family, SOCK_STREAM, IPPROTO_TCP);
  if (sk < 0) {
    perror("ct_restore: socket");
    return -1;
  }
  h = libsoccr_pause(sk);
  if (h == NULL) {
    fprintf(stderr, "ct_restore: libsoccr_pause failed\n");
    close(sk);
    return -1;
  }
  if (libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, img->inq, queue_flags) != 0 ||
      libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, img->outq, queue_flags) !=
          0) {
    fprintf(stderr, "ct_restore: libsoccr_set_queue_bytes failed\n");
    libsoccr_release(h);
    close(sk);
    return -1;
  }
  if (queue_flags & SOCCR_MEM_EXCL) img->inq = img->outq = NULL;
  if (libsoccr_set_addr(h, 1, &img->self, 0) != 0 ||
      libsoccr_set_addr(h, 0, &img->peer, 0) != 0) {
    fprintf(stderr, "ct_restore: libsoccr_set_addr failed\n");
    libsoccr_release(h);
    close(sk);
    return -1;
  }
  if (libsoccr_restore(h, &img->data, sizeof(img->data)) != 0) {
    fprintf(stderr, "ct_restore: libsoccr_restore failed\n");
    libsoccr_release(h);
    close(sk);
    return -1;
  }
  if (between != NULL && between(sk, arg) != 0) {
    fprintf(stderr, "ct_restore: the step between restore and resume failed\n");
    libsoccr_release(h);
    close(sk);
    return -1;
  }
  libsoccr_resume(h);
  return sk;
}

void ct_image_free(struct ct_image *img) {
  free(img->inq);
  free(img->outq);
  img->inq = img->outq = NULL;
}
