// soccr/internal/merge_pending.h: checkpointing a restored socket that is
// not resumed yet.
//
// Such a socket holds back, until Resume(), part of what it will be: the
// state the resume's steps reach, the unsent data (and what was in flight),
// the final buffer sizes and some options. What the kernel reports of it
// is merged with that, so that the checkpoint is the connection's, not the
// half-restored socket's:
//
//   internal::MergePending(*pending, options.socket_options, state);

#ifndef SOCCR_INTERNAL_MERGE_PENDING_H_
#define SOCCR_INTERNAL_MERGE_PENDING_H_

#include "soccr/connection_state.h"
#include "soccr/internal/pending_resume.h"

namespace soccr::internal {

// Merges into `s` (what the kernel reports) what `p` holds back.
// `socket_options`: whether the checkpoint saves options and buffer sizes
// (CheckpointOptions::socket_options).
void MergePending(const PendingResume& p, bool socket_options,
                  ConnectionState& s);

}  // namespace soccr::internal

#endif  // SOCCR_INTERNAL_MERGE_PENDING_H_
