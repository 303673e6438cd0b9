// Fuzzes the image reader with arbitrary bytes.
//
// Properties: every error is DataLoss, Unimplemented or InvalidArgument
// from the reader; with checksums skipped (so that mutations get past them)
// every connection the reader accepts has its queues in place and survives
// parse(serialize(x)) == x with stable bytes; and when the checksums hold,
// the checked read agrees with the unchecked one. Read as the migration's
// receiver reads (check_restorable off: its restore plans each state), a
// record reads exactly when it reads with the check, or the check alone
// refused it, and then PlanRestore still refuses it with the same code.

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "fuzz/round_trip.h"
#include "soccr/image/image.h"
#include "soccr/restore_plan.h"

namespace soccr::fuzzing {
namespace {

void FuzzImage(const uint8_t* data, size_t size) {
  // As a restore would read an untrusted file: checksums verified.
  absl::StatusOr<std::vector<ConnectionState>> verified =
      ParseImage(absl::Span<const uint8_t>(data, size));
  if (!verified.ok()) CheckImageError(verified.status());

  auto owner = std::make_shared<const std::vector<uint8_t>>(data, data + size);
  const absl::Span<const uint8_t> bytes(*owner);
  ImageReadOptions unchecked;
  unchecked.verify_checksums = false;
  absl::StatusOr<ImageReader> reader =
      ImageReader::Open(bytes, owner, unchecked);
  if (!reader.ok()) {
    CheckImageError(reader.status());
    SOCCR_FUZZ_CHECK(!verified.ok()) << "only the checked read accepted it";
    return;
  }
  ImageReadOptions unplanned = unchecked;
  unplanned.check_restorable = false;
  absl::StatusOr<ImageReader> for_restore =
      ImageReader::Open(bytes, owner, unplanned);
  SOCCR_FUZZ_CHECK(for_restore.ok())
      << "opening depends on check_restorable: " << for_restore.status();
  for (size_t i = 0; i < reader->size(); ++i) {
    absl::StatusOr<ConnectionState> checked = reader->Read(i);
    absl::StatusOr<ConnectionState> later = for_restore->Read(i);
    if (checked.ok()) {
      SOCCR_FUZZ_CHECK(later.ok() && *later == *checked)
          << "the check off changed a restorable record";
    } else if (later.ok()) {
      const absl::Status planned = PlanRestore(*later).status();
      SOCCR_FUZZ_CHECK(!planned.ok() &&
                       planned.code() == checked.status().code())
          << "the check off let through what only PlanRestore refused ("
          << checked.status() << "), but PlanRestore says " << planned;
    } else {
      SOCCR_FUZZ_CHECK(later.status() == checked.status())
          << "the check off changed a form error: " << checked.status() << " / "
          << later.status();
    }
  }
  std::vector<ConnectionState> accepted;
  bool all = true;
  for (size_t i = 0; i < reader->size(); ++i) {
    absl::StatusOr<ConnectionState> s = reader->Read(i);
    if (!s.ok()) {
      CheckImageError(s.status());
      all = false;
      continue;
    }
    for (const QueueBytes* q : {&s->recv_queue, &s->send_queue}) {
      SOCCR_FUZZ_CHECK(q->empty() || (q->data() >= bytes.data() &&
                                      q->data() + q->size() <= bytes.end()))
          << "a queue was copied or points outside the image";
    }
    CheckRoundTrip({*s});
    accepted.push_back(*std::move(s));
  }
  if (all && !accepted.empty()) CheckRoundTrip(accepted);
  if (verified.ok()) {
    SOCCR_FUZZ_CHECK(all && *verified == accepted)
        << "checked and unchecked reads disagree";
  }
}

}  // namespace
}  // namespace soccr::fuzzing

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  soccr::fuzzing::FuzzImage(data, size);
  return 0;
}
