#include "soccr/internal/best_effort.h"

#include <sys/socket.h>

#include "soccr/socket_options.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif

namespace soccr::internal {

bool IsBestEffortSetSockOpt(int level, int name) {
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_REUSEADDR:  // PausedSocket's resume (RestoreReuseAddr)
      case SO_SNDBUF:     // EnsureBuffer's wish, ApplyFinalBuffer
      case SO_RCVBUF:
      case SO_SNDBUFFORCE:
      case SO_RCVBUFFORCE:
      case SO_BUF_LOCK:  // ApplyBufferLocks
        return true;
      default:
        break;
    }
  }
  // PendingResume::Finish sets these once the data is queued, ignoring
  // errors: their values were validated when the restore was planned.
  const SockOptSpec* spec = FindSocketOption(level, name);
  return spec != nullptr && spec->phase == SockOptPhase::kAfterResume;
}

}  // namespace soccr::internal
