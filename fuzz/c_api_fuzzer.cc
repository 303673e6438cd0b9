// Fuzzes the C API's checks of what a C caller hands in
// (soccr_c/convert.h): flags, queue ids, data sizes, addresses, the
// libsoccr_sk_data struct and the queue buffers it describes.
//
// Properties:
//   - each check rejects exactly what it should, with InvalidArgument;
//   - an address that is accepted comes back the same through AddressToC;
//   - StateFromSkData rejects with InvalidArgument or Unimplemented, never
//     reads a queue buffer beyond what the caller promised (ASan sees every
//     buffer at its exact size), and refers to the caller's bytes in place;
//   - every field it carries over comes back through SkDataFromState;
//   - the state then either fails PlanRestore with InvalidArgument or
//     Unimplemented, or passes with CheckPlanInvariants holding and survives
//     an image round trip.

#include <soccr/soccr.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/round_trip.h"
#include "soccr/internal/plan_invariants.h"
#include "soccr/restore_plan.h"
#include "soccr_c/convert.h"

namespace soccr::fuzzing {
namespace {

// Queues longer than this are given only as library-owned buffers of the
// real size, so that a caller-kept buffer is always as long as promised.
constexpr uint32_t kMaxCallerQueue = 1 << 16;

void CheckRejection(const absl::Status& st) {
  SOCCR_FUZZ_CHECK(st.code() == absl::StatusCode::kInvalidArgument ||
                   st.code() == absl::StatusCode::kUnimplemented)
      << st;
  SOCCR_FUZZ_CHECK(!st.message().empty());
}

// A number, often small: a random word shifted right by a random amount
// (two statements, so that the bytes are read in one order).
uint32_t Number(FuzzInput& in) {
  const uint32_t word = in.U32();
  const int shift = in.U8() % 32;
  return word >> shift;
}

void CheckArguments(FuzzInput& in) {
  const unsigned flags = Number(in);
  const absl::Status f = c_api::CheckMemFlags(flags);
  SOCCR_FUZZ_CHECK(f.ok() == ((flags & ~unsigned{SOCCR_MEM_EXCL}) == 0)) << f;
  if (!f.ok()) CheckRejection(f);

  const int queue_id = static_cast<int>(Number(in));
  const absl::StatusOr<sys::RepairQueue> q = c_api::QueueFromId(queue_id);
  SOCCR_FUZZ_CHECK(q.ok() ==
                   (queue_id == TCP_RECV_QUEUE || queue_id == TCP_SEND_QUEUE))
      << queue_id;
  if (!q.ok()) CheckRejection(q.status());

  const unsigned size = Number(in);
  const absl::Status d = c_api::CheckDataSize(size);
  SOCCR_FUZZ_CHECK(d.ok() == (size >= sizeof(struct libsoccr_sk_data)));
  if (!d.ok()) CheckRejection(d);
}

// An address from the caller: AF_INET, AF_INET6 or any family, then bytes.
SocketAddress Address(FuzzInput& in) {
  union libsoccr_addr a;
  uint8_t* bytes = reinterpret_cast<uint8_t*>(&a);
  for (size_t i = 0; i < sizeof(a); ++i) bytes[i] = in.U8();
  const uint8_t kind = in.U8() % 3;
  if (kind == 0) a.sa.sa_family = AF_INET;
  if (kind == 1) a.sa.sa_family = AF_INET6;
  absl::StatusOr<SocketAddress> got = c_api::AddressFromC(&a);
  const bool known = a.sa.sa_family == AF_INET || a.sa.sa_family == AF_INET6;
  SOCCR_FUZZ_CHECK(got.ok() == known) << got.status();
  if (!got.ok()) {
    CheckRejection(got.status());
    return SocketAddress();
  }
  const union libsoccr_addr back = c_api::AddressToC(*got);
  absl::StatusOr<SocketAddress> again = c_api::AddressFromC(&back);
  SOCCR_FUZZ_CHECK(again.ok() && *again == *got) << got->ToString();
  return *got;
}

// A queue buffer as the C API would hold it, at its exact size. Caller-kept
// buffers (SIZE_MAX: size unknown) are as long as `claimed`, as the API
// requires of callers; library-owned ones have the size the input gives.
c_api::QueueInput Queue(FuzzInput& in, uint32_t claimed,
                        std::unique_ptr<char[]>& storage, size_t& size) {
  c_api::QueueInput q;
  const uint8_t mode = in.U8() % 3;
  if (mode == 0) return q;  // never given
  if (mode == 1 && claimed <= kMaxCallerQueue) {
    size = claimed;
  } else {
    size = in.U16() % (kMaxCallerQueue + 1);
    q.known_size = size;
  }
  storage.reset(new char[size == 0 ? 1 : size]);
  for (size_t i = 0; i < size; ++i) storage[i] = static_cast<char>(in.U8());
  q.bytes = storage.get();
  return q;
}

void FuzzCApi(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  CheckArguments(in);

  // The struct: raw words, or (mode bit 0 clear) nudged towards states the
  // core accepts, so that both sides of every check are reached.
  const bool raw = in.U8() & 1;
  struct libsoccr_sk_data d;
  uint32_t* words = reinterpret_cast<uint32_t*>(&d);
  static_assert(sizeof(d) == 17 * sizeof(uint32_t), "seventeen u32 fields");
  for (int i = 0; i < 17; ++i) words[i] = in.U32();
  if (!raw) {
    static constexpr uint32_t kStates[] = {1, 1, 1, 1,  4,  5,
                                           7, 8, 9, 10, 11, 2};
    d.state = kStates[d.state % 12];
    d.flags &= SOCCR_FLAGS_WINDOW;
    d.opt_mask &= 0xbf;  // not TCPI_OPT_USEC_TS
    d.snd_wscale %= 15;
    d.rcv_wscale %= 15;
    d.inq_len %= 4096;
    d.outq_len %= 4096;
    d.unsq_len %= d.outq_len + 1;
  }

  c_api::RestoreInputs inputs;
  inputs.local = Address(in);
  inputs.peer = Address(in);
  std::unique_ptr<char[]> recv_storage, send_storage;
  size_t recv_size = 0, send_size = 0;
  inputs.recv = Queue(in, d.inq_len, recv_storage, recv_size);
  inputs.send = Queue(in, d.outq_len, send_storage, send_size);

  absl::StatusOr<ConnectionState> s = c_api::StateFromSkData(d, inputs);
  if (!s.ok()) {
    CheckRejection(s.status());
    return;
  }
  // In place: the state's queues are the caller's bytes.
  SOCCR_FUZZ_CHECK(s->recv_queue.empty() ||
                   s->recv_queue.data() ==
                       reinterpret_cast<const uint8_t*>(recv_storage.get()));
  SOCCR_FUZZ_CHECK(s->send_queue.empty() ||
                   s->send_queue.data() ==
                       reinterpret_cast<const uint8_t*>(send_storage.get()));
  SOCCR_FUZZ_CHECK(s->recv_queue.size() == d.inq_len &&
                   s->send_queue.size() == d.outq_len);

  // Back to the struct: what was carried over comes back unchanged.
  const struct libsoccr_sk_data again = c_api::SkDataFromState(*s);
  SOCCR_FUZZ_CHECK(
      again.state == d.state && again.inq_len == d.inq_len &&
      again.inq_seq == d.inq_seq && again.outq_len == d.outq_len &&
      again.outq_seq == d.outq_seq && again.unsq_len == d.unsq_len &&
      again.mss_clamp == d.mss_clamp && again.snd_wscale == d.snd_wscale &&
      again.rcv_wscale == d.rcv_wscale && again.flags == d.flags &&
      again.opt_mask == (d.opt_mask & 7))
      << "libsoccr_sk_data did not survive: " << s->ToString();
  SOCCR_FUZZ_CHECK(again.timestamp == ((d.opt_mask & 1) ? d.timestamp : 0));
  if (d.flags & SOCCR_FLAGS_WINDOW) {
    SOCCR_FUZZ_CHECK(again.snd_wl1 == d.snd_wl1 && again.snd_wnd == d.snd_wnd &&
                     again.max_window == d.max_window &&
                     again.rcv_wnd == d.rcv_wnd && again.rcv_wup == d.rcv_wup);
  }

  absl::StatusOr<RestorePlan> plan = PlanRestore(*s);
  if (!plan.ok()) {
    CheckRejection(plan.status());
    return;
  }
  const absl::Status invariants = internal::CheckPlanInvariants(*s, *plan);
  SOCCR_FUZZ_CHECK(invariants.ok()) << invariants << " for " << s->ToString();
  CheckRoundTrip({*s});
}

}  // namespace
}  // namespace soccr::fuzzing

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  soccr::fuzzing::FuzzCApi(data, size);
  return 0;
}
