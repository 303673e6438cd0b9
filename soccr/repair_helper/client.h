// soccr/repair_helper/client.h: the unprivileged side of the repair helper.
//
// Hands sockets to a `soccr-repair` helper (protocol.h) to switch their
// repair mode, up to 253 per round trip:
//
//   absl::StatusOr<soccr::repair_helper::RepairHelperClient> helper =
//       soccr::repair_helper::RepairHelperClient::Connect("/run/soccr-repair");
//   std::vector<int> errs = helper->SetRepair(fds, kCommandOn);  // 0: done
//
// The protocol says nothing about which socket of a refused request was at
// fault (the helper just closes the connection), so a refused batch is
// asked again one socket at a time, over a new connection each time the
// helper closes one: every socket gets its own answer, and asking twice is
// harmless (switching repair mode on or off is idempotent).
//
// Blocking: each round trip waits at most `timeout` for the reply.
// Thread-safety: none; one caller at a time (RepairHelperSys locks).

#ifndef SOCCR_REPAIR_HELPER_CLIENT_H_
#define SOCCR_REPAIR_HELPER_CLIENT_H_

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "soccr/fd.h"

namespace soccr::repair_helper {

class RepairHelperClient {
 public:
  // Connects to a `soccr-repair --listen PATH` service. Later connections
  // (after the service closed one: a refusal, its idle timeout) are made
  // to the same path. Errors: the failed connect(), e.g. NotFound when no
  // service listens at `path`.
  [[nodiscard]] static absl::StatusOr<RepairHelperClient> Connect(
      std::string path, absl::Duration timeout = absl::Seconds(10));

  // Like Connect(), but connects at the first request instead (and then
  // reports a failure to connect per socket, as that errno): for callers
  // that set up before the service may be running.
  static RepairHelperClient ForPath(std::string path,
                                    absl::Duration timeout = absl::Seconds(10));

  // A connection made otherwise, e.g. a helper that connected to us
  // (passt-repair's direction). Once the helper closes it, every request
  // fails with ENOTCONN.
  static RepairHelperClient FromConnection(
      OwnedFd conn, absl::Duration timeout = absl::Seconds(10));

  RepairHelperClient(RepairHelperClient&&) = default;
  RepairHelperClient& operator=(RepairHelperClient&&) = default;

  // Sets TCP_REPAIR to `command` (kCommandOn, kCommandOff,
  // kCommandOffNoWindowProbe) on every socket of `fds`. Result i is 0 when
  // fds[i] was switched, otherwise an errno: EPERM when the helper refused
  // or failed it, ETIMEDOUT when it did not answer in time, EPROTO for a
  // wrong answer, or why the helper could not be reached.
  std::vector<int> SetRepair(absl::Span<const BorrowedFd> fds, int8_t command);

  // Round trips made so far (requests sent).
  uint64_t round_trips() const { return round_trips_; }

 private:
  RepairHelperClient(std::string path, OwnedFd conn, absl::Duration timeout)
      : path_(std::move(path)), conn_(std::move(conn)), timeout_(timeout) {}
  // 0 or an errno: the connection, made again if it was closed.
  int EnsureConnected();
  // One request and its reply: 0 or an errno (see SetRepair).
  int RoundTrip(absl::Span<const BorrowedFd> fds, int8_t command);

  std::string path_;  // empty: no reconnecting
  OwnedFd conn_;
  absl::Duration timeout_;
  uint64_t round_trips_ = 0;
};

}  // namespace soccr::repair_helper

#endif  // SOCCR_REPAIR_HELPER_CLIENT_H_
