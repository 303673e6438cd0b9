// The configuration sweep (soccr_c/testing/sweep.h) through the C++ API:
// PausedSocket::Pause and Checkpoint on the original, which is then closed
// while paused, and Restore and Resume on a new socket.

#include "soccr_c/testing/sweep.h"

#include <string.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "soccr/soccr.h"
#include "soccr/testing/checkpoint_util.h"

namespace {

void SetMessage(const absl::Status& status, ct_move_result* result) {
  const std::string text = status.ToString();
  snprintf(result->message, sizeof(result->message), "%s", text.c_str());
}

void Move(int fd, ct_move_result* result) {
  absl::StatusOr<soccr::ConnectionState> state =
      soccr::testing::CheckpointAndClose(soccr::OwnedFd(fd));
  if (!state.ok()) {
    result->outcome = CT_MOVE_FAILED;
    SetMessage(state.status(), result);
    return;
  }
  absl::StatusOr<soccr::RestoredSocket> restored = soccr::Restore(*state);
  if (!restored.ok()) {
    result->outcome = absl::IsFailedPrecondition(restored.status())
                          ? CT_FAILED_FAST
                          : CT_MOVE_FAILED;
    SetMessage(restored.status(), result);
    return;
  }
  absl::StatusOr<soccr::OwnedFd> live = std::move(*restored).Resume();
  if (!live.ok()) {
    result->outcome = CT_MOVE_FAILED;
    SetMessage(live.status(), result);
    return;
  }
  result->outcome = CT_MOVED;
  result->fd = live->release();
}

}  // namespace

int main(int argc, char** argv) {
  return ct_sweep_main(argc, argv, "C++ API", Move);
}
