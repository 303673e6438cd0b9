/*
 * libsoccr without CAP_NET_ADMIN and without SOCCR_REPAIR_HELPER: pausing
 * fails at once, the log says why and names the variable, and the socket
 * carries on untouched. (The unprivileged harness sets the variable; this
 * test removes it before the library's first pause reads it.)
 */

#include <soccr/soccr.h>
#include <stdlib.h>
#include <unistd.h>

#include "soccr_c/testing/harness.h"
#include "soccr_c/testing/log_capture.h"
#include "soccr_c/testing/tcp.h"

static void TestPauseFailsAndNamesTheVariable(void) {
  int client = -1, server = -1;
  char got[5];
  CHECK(unsetenv("SOCCR_REPAIR_HELPER") == 0);
  CHECK(ct_connected_pair(CT_V4, 0, &client, &server) == 0);
  ct_log_capture(SOCCR_LOG_ERR);
  EXPECT(libsoccr_pause(client) == NULL);
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "Operation not permitted"));
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "SOCCR_REPAIR_HELPER=PATH"));
  EXPECT(ct_log_has(SOCCR_LOG_ERR, "soccr-repair --listen"));
  EXPECT(ct_write_all(server, "ping", 4) == 0);
  EXPECT(ct_read_exactly(client, got, 4) == 0);
  close(client);
  close(server);
}

int main(int argc, char **argv) {
  static const struct ct_test tests[] = {
      CT_TEST(TestPauseFailsAndNamesTheVariable),
  };
  return ct_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
