// soccr/testing/checkpoint_util.h: checkpoint-and-compare helpers for
// tests of whole connections.
//
//   absl::StatusOr<ConnectionState> s = CheckpointAndClose(std::move(fd));
//   absl::StatusOr<RestoredSocket> r = Restore(*s);
//   ExpectSameState(*s, *Checkpoint(r->paused()));

#ifndef SOCCR_TESTING_CHECKPOINT_UTIL_H_
#define SOCCR_TESTING_CHECKPOINT_UTIL_H_

#include "absl/status/statusor.h"
#include "soccr/soccr.h"

namespace soccr::testing {

// Pauses `fd`, checkpoints it and closes it still paused, so that nothing
// reaches the peer.
[[nodiscard]] absl::StatusOr<ConnectionState> CheckpointAndClose(
    OwnedFd fd, const CheckpointOptions& options = {});

// Expects `b` (a checkpoint of the socket restored from `a`) to equal `a`
// in everything but what moves by itself: the timestamp clock, the window,
// and IPV6_V6ONLY (bind() to a specific IPv6 address sets it, and it cannot
// be cleared after bind()).
void ExpectSameState(const ConnectionState& a, const ConnectionState& b);

}  // namespace soccr::testing

#endif  // SOCCR_TESTING_CHECKPOINT_UTIL_H_
