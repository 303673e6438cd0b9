// ResumeInFlight: how long after Resume() the peer has every byte the
// original had in flight, per amount in flight and per case (the peer got
// none of it, all of it with its ACKs lost, or the first half), with the
// in-flight probe (the default) and with the plain repair-off path
// (ResumeOptions::in_flight_probe_timeout = 0).
//
// Each iteration builds a fresh connection with its checkpoint edited to
// hold the bytes in flight (soccr/loopback/in_flight.h), restores it (not
// timed), then times, wall-clock, Resume() plus a 1 KiB write the
// application makes right after it, until the peer (read in this thread)
// has read the last of those bytes. The 1 KiB makes the "all" case
// meaningful: there the peer had every byte already, and what the stall
// delays is the application's next data. Counter: the restored socket's
// tcpi_total_retrans (segments retransmitted), averaged over iterations.

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/fixtures.h"
#include "bench/registry.h"
#include "benchmark/benchmark.h"
#include "soccr/loopback/in_flight.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"

namespace soccr::bench {
namespace {

using loopback::PeerHas;

// One timed resume: seconds from Resume() until the peer has read the last
// byte, and the restored socket's total_retrans.
absl::Status ResumeOnce(size_t bytes, PeerHas peer_has, bool probe,
                        double* seconds, double* retrans) {
  loopback::InFlightSpec spec;
  spec.bytes = bytes;
  spec.peer_has = peer_has;
  absl::StatusOr<loopback::InFlightConnection> c = loopback::MakeInFlight(spec);
  if (!c.ok()) return c.status();
  absl::StatusOr<RestoredSocket> restored = Restore(c->state);
  if (!restored.ok()) return restored.status();
  if (absl::Status s = c->ReleasePeer(); !s.ok()) return s;
  ResumeOptions options;
  if (!probe) options.in_flight_probe_timeout = absl::ZeroDuration();
  const std::string tail = loopback::Pattern(1024, 77);

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<OwnedFd> fd = std::move(*restored).Resume(options);
  if (!fd.ok()) return fd.status();
  if (absl::Status s = loopback::WriteAll(fd->borrow(), tail); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> got = loopback::ReadExactly(
      c->server.borrow(), c->to_server.size() + tail.size(), absl::Seconds(60));
  const auto end = std::chrono::steady_clock::now();
  if (!got.ok()) return got.status();
  if (*got != c->to_server + tail) {
    return absl::DataLossError("the peer read other bytes");
  }
  *seconds = std::chrono::duration<double>(end - start).count();
  struct tcp_info info = {};
  socklen_t len = sizeof(info);
  if (::getsockopt(fd->get(), SOL_TCP, TCP_INFO, &info, &len) != 0) {
    return absl::ErrnoToStatus(errno, "TCP_INFO");
  }
  *retrans = info.tcpi_total_retrans;
  return absl::OkStatus();
}

void BM_ResumeInFlight(benchmark::State& state) {
  if (absl::Status s = UseInFlightNamespace(); !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  const size_t bytes = static_cast<size_t>(state.range(0));
  const PeerHas peer_has = static_cast<PeerHas>(state.range(1));
  const bool probe = state.range(2) != 0;
  double retrans_sum = 0;
  for (auto _ : state) {
    double seconds = 0;
    double retrans = 0;
    if (absl::Status s = ResumeOnce(bytes, peer_has, probe, &seconds, &retrans);
        !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    state.SetIterationTime(seconds);
    retrans_sum += retrans;
  }
  if (state.iterations() > 0) {
    state.counters["total_retrans"] =
        retrans_sum / static_cast<double>(state.iterations());
  }
  state.SetLabel(absl::StrCat(loopback::PeerHasName(peer_has), ", ",
                              probe ? "probe" : "plain repair-off"));
}

}  // namespace

void RegisterInFlightBenchmarks(const Config& config) {
  // The plain path waits for the retransmission timer (seconds): it gets
  // fewer iterations, so it is registered apart (Iterations() applies to
  // a whole registration).
  for (int64_t probe : {1, 0}) {
    auto* b = benchmark::RegisterBenchmark("ResumeInFlight", BM_ResumeInFlight)
                  ->ArgNames({"bytes", "peer_has", "probe"})
                  ->Unit(benchmark::kMillisecond)
                  ->UseManualTime()
                  ->Iterations(probe ? config.in_flight_iterations
                                     : config.in_flight_plain_iterations);
    for (int64_t bytes : config.in_flight_bytes) {
      for (PeerHas has : {PeerHas::kNone, PeerHas::kAll, PeerHas::kPrefix}) {
        b->Args({bytes, static_cast<int64_t>(has), probe});
      }
    }
  }
}

}  // namespace soccr::bench
