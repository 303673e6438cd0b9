// soccr/restore_limits.h: the largest values PlanRestore() accepts where
// the kernel sets the limit.
//
//   if (state.inq_len > soccr::kMaxQueueBytes) {
//     // PlanRestore (and Restore) would refuse it: InvalidArgument
//   }

#ifndef SOCCR_RESTORE_LIMITS_H_
#define SOCCR_RESTORE_LIMITS_H_

#include <stdint.h>

namespace soccr {

// kMaxQueueBytes: the largest queue soccr restores; the kernel's queue
// lengths are ints.
inline constexpr uint32_t kMaxQueueBytes = 0x7fffffff;

// kMaxWindowScale: the largest window scale (RFC 7323).
inline constexpr uint8_t kMaxWindowScale = 14;

}  // namespace soccr

#endif  // SOCCR_RESTORE_LIMITS_H_
