// soccr/internal/pending_resume.h: what a restored socket still has to do
// when it leaves repair mode.

#ifndef SOCCR_INTERNAL_PENDING_RESUME_H_
#define SOCCR_INTERNAL_PENDING_RESUME_H_

#include <optional>
#include <vector>

#include "soccr/connection_state.h"
#include "soccr/queue_bytes.h"
#include "soccr/socket_options.h"

namespace soccr::internal {

struct PendingResume {
  // Data the original had not sent yet: written once repair mode is off, so
  // that it leaves under the restored window and options.
  QueueBytes unsent;
  // Applied after `unsent` is queued (TCP_NOTSENT_LOWAT would hold it back).
  std::vector<SocketOption> after_resume;
  // The checkpointed buffer sizes, if known.
  std::optional<SocketBuffers> final_buffers;
  // Whether the restore raised the send/receive buffer (and so locked it).
  bool sndbuf_raised = false;
  bool rcvbuf_raised = false;
};

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_PENDING_RESUME_H_
