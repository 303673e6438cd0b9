// soccr_c/convert.h: the boundary between libsoccr's C types and soccr's C++
// values.
//
// Every value a C caller hands to the library (flags, queue ids, sizes,
// addresses, the libsoccr_sk_data struct and the queue buffers it describes)
// is checked here, and only here, before the C++ core sees it. Nothing in
// this file touches the kernel, so a fuzzer can drive it directly:
//
//   soccr::c_api::RestoreInputs in;
//   in.local = *soccr::c_api::AddressFromC(&self);
//   in.recv = {inq_bytes, /*owner=*/nullptr, /*known_size=*/inq_len};
//   absl::StatusOr<soccr::ConnectionState> s =
//       soccr::c_api::StateFromSkData(data, in);
//   if (s.ok()) {
//     // PlanRestore(*s), CheckPlanInvariants(...), and the round trip:
//     libsoccr_sk_data again = soccr::c_api::SkDataFromState(*s);
//   }

#ifndef SOCCR_C_CONVERT_H_
#define SOCCR_C_CONVERT_H_

#include <soccr/soccr.h>
#include <stddef.h>
#include <stdint.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "soccr/address.h"
#include "soccr/connection_state.h"
#include "soccr/sys/sys.h"

namespace soccr::c_api {

// The bytes of one queue as a C caller gave them: a pointer whose length
// the libsoccr_sk_data passed to libsoccr_restore() states.
struct QueueInput {
  // nullptr: never given.
  const char* bytes = nullptr;
  // Keeps `bytes` alive; frees them when the library owns them
  // (SOCCR_MEM_EXCL). Null when the caller keeps them.
  std::shared_ptr<const void> owner;
  // How many bytes are known to be there (malloc_usable_size() of memory the
  // library owns), or SIZE_MAX when the caller keeps the memory and its size
  // cannot be known.
  size_t known_size = SIZE_MAX;
};

// What libsoccr_set_addr() and libsoccr_set_queue_bytes() gave a handle.
struct RestoreInputs {
  SocketAddress local;  // empty: never given
  SocketAddress peer;
  QueueInput recv;
  QueueInput send;
};

// SOCCR_MEM_EXCL is the only flag of the get and set calls.
inline constexpr unsigned kKnownMemFlags = SOCCR_MEM_EXCL;
// SOCCR_FLAGS_WINDOW is the only flag of libsoccr_sk_data.flags.
inline constexpr uint32_t kKnownDataFlags = SOCCR_FLAGS_WINDOW;

// InvalidArgument unless `flags` holds only SOCCR_MEM_EXCL.
[[nodiscard]] absl::Status CheckMemFlags(unsigned flags);

// The queue behind TCP_RECV_QUEUE or TCP_SEND_QUEUE; InvalidArgument for
// any other id.
[[nodiscard]] absl::StatusOr<sys::RepairQueue> QueueFromId(int queue_id);

// InvalidArgument unless a caller's buffer of `data_size` bytes holds a whole
// struct libsoccr_sk_data.
[[nodiscard]] absl::Status CheckDataSize(unsigned data_size);

// Reads the address `addr` points to: only as many bytes as its family
// (sa.sa_family, AF_INET or AF_INET6) needs. InvalidArgument otherwise.
[[nodiscard]] absl::StatusOr<SocketAddress> AddressFromC(
    const union libsoccr_addr* addr);

// `addr` as a libsoccr_addr (zero-filled beyond its family's size).
union libsoccr_addr AddressToC(const SocketAddress& addr);

// Fills libsoccr's struct from a checkpoint, with libsoccr's conventions:
// inq_seq and outq_seq are the kernel's rcv_nxt and write_seq, which count
// a FIN received or queued (ConnectionState's end the data; the lengths
// count data only in both), opt_mask holds TCPI_OPT_* bits, flags
// SOCCR_FLAGS_WINDOW when the window was saved (its fields are zero
// otherwise). What the struct has no field for is lost: socket options,
// buffer sizes, a listener's backlog, a closed socket's pending error.
struct libsoccr_sk_data SkDataFromState(const ConnectionState& state);

// Builds the ConnectionState `data` and `inputs` describe, checking every
// field that cannot be carried over as it is (unknown state numbers, flag
// or option bits, window scales beyond 14, queues that were not given or
// are shorter than the lengths claim). PlanRestore() checks the rest. The
// queues refer to the caller's memory without copying it. A listener gets
// the backlog SOMAXCONN (the struct has none). `data` is trusted to point
// at a whole struct (see CheckDataSize).
[[nodiscard]] absl::StatusOr<ConnectionState> StateFromSkData(
    const struct libsoccr_sk_data& data, const RestoreInputs& inputs);

}  // namespace soccr::c_api

#endif  // SOCCR_C_CONVERT_H_
