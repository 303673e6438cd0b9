/*
 * The configuration sweep (soccr_c/testing/sweep.h) through the libsoccr C
 * API: libsoccr_pause/save/get_queue_bytes/get_addr on the original, which
 * is then closed while paused, and libsoccr_pause/set_queue_bytes/set_addr/
 * restore/resume on a plain new socket, as a libsoccr caller does it.
 */

#include "soccr_c/testing/sweep.h"

#include <soccr/soccr.h>
#include <string.h>
#include <unistd.h>

#include "soccr_c/testing/image.h"
#include "soccr_c/testing/log_capture.h"

static void move(int fd, struct ct_move_result *result) {
  struct ct_image img;
  ct_log_capture(SOCCR_LOG_ERR);
  if (ct_checkpoint(fd, &img) != 0) {
    result->outcome = CT_MOVE_FAILED;
    ct_log_text(result->message, sizeof(result->message));
    close(fd);
    return;
  }
  close(fd); /* in repair mode: sends nothing */
  result->fd = ct_restore(&img, SOCCR_MEM_EXCL);
  ct_image_free(&img);
  if (result->fd >= 0) {
    result->outcome = CT_MOVED;
    return;
  }
  ct_log_text(result->message, sizeof(result->message));
  result->outcome = strstr(result->message, "FAILED_PRECONDITION") != NULL
                        ? CT_FAILED_FAST
                        : CT_MOVE_FAILED;
}

int main(int argc, char **argv) {
  return ct_sweep_main(argc, argv, "C API", move);
}
