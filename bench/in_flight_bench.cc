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
//
// Two links: loopback, and a veth link through a bridge between two lab
// hosts (network namespaces, soccr/testing/lab.h): "app" (192.0.2.1),
// where the connection is checkpointed, restored and resumed, and "peer"
// (192.0.2.2). Both get the in-flight namespace's settings: buffers raised
// as the other large-queue benchmarks have them, no cached RTT.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/fixtures.h"
#include "bench/registry.h"
#include "benchmark/benchmark.h"
#include "soccr/loopback/in_flight.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/status_macros.h"
#include "soccr/tcp_state.h"
#include "soccr/testing/lab.h"

namespace soccr::bench {
namespace {

using loopback::PeerHas;
using testing::Host;
using testing::HostScope;
using testing::Lab;

enum class Link { kLoopback, kVeth };

constexpr char kAppAddress[] = "192.0.2.1";
constexpr char kPeerAddress[] = "192.0.2.2";

struct VethLab {
  Lab lab;
  Host* app = nullptr;
  Host* peer = nullptr;
};

absl::StatusOr<VethLab*> MakeVethLab() {
  SOCCR_RETURN_IF_ERROR(UseInFlightNamespace());
  absl::StatusOr<Lab> lab = Lab::Create();
  if (!lab.ok()) return lab.status();
  auto v = std::make_unique<VethLab>(VethLab{*std::move(lab)});
  absl::StatusOr<Host*> app =
      v->lab.AddHost("app", {absl::StrCat(kAppAddress, "/24")});
  if (!app.ok()) return app.status();
  absl::StatusOr<Host*> peer =
      v->lab.AddHost("peer", {absl::StrCat(kPeerAddress, "/24")});
  if (!peer.ok()) return peer.status();
  v->app = *app;
  v->peer = *peer;
  for (Host* h : {v->app, v->peer}) {
    HostScope in(*h);
    if (!in.ok()) return absl::InternalError("setns into a lab host");
    if (absl::Status s = loopback::RaiseTcpBuffers(kSocketBufferBytes,
                                                   2 * kSocketBufferBytes);
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            loopback::SetSysctl("net/ipv4/tcp_no_metrics_save", "1");
        !s.ok()) {
      return s;
    }
  }
  return v.release();
}

// The lab, made on first use and kept for the process.
absl::StatusOr<VethLab*> SharedVethLab() {
  static absl::StatusOr<VethLab*>* const lab =
      new absl::StatusOr<VethLab*>(MakeVethLab());
  return *lab;
}

absl::StatusOr<OwnedFd> TcpSocket() {
  OwnedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return absl::ErrnoToStatus(errno, "socket");
  return fd;
}

// A pair over the veth link: the server listens in "peer", the client
// connects from the calling thread's namespace ("app").
absl::StatusOr<loopback::TcpPair> VethPair(const VethLab& lab) {
  OwnedFd listener;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, kPeerAddress, &addr.sin_addr);
  {
    HostScope in(*lab.peer);
    if (!in.ok()) return absl::InternalError("setns into the peer host");
    absl::StatusOr<OwnedFd> l = TcpSocket();
    if (!l.ok()) return l.status();
    listener = *std::move(l);
  }
  socklen_t len = sizeof(addr);
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listener.get(), 1) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) !=
          0) {
    return absl::ErrnoToStatus(errno, "listen in the peer host");
  }
  absl::StatusOr<OwnedFd> client = TcpSocket();
  if (!client.ok()) return client.status();
  if (::connect(client->get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return absl::ErrnoToStatus(errno, "connect over the veth link");
  }
  OwnedFd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!server) return absl::ErrnoToStatus(errno, "accept in the peer host");
  return loopback::TcpPair{*std::move(client), std::move(server)};
}

// One timed resume: seconds from Resume() until the peer has read the last
// byte, and the restored socket's total_retrans.
absl::Status ResumeOnce(size_t bytes, PeerHas peer_has, bool probe, Link link,
                        TcpState tcp_state, double* seconds, double* retrans) {
  loopback::InFlightSpec spec;
  spec.bytes = bytes;
  spec.peer_has = peer_has;
  spec.state = tcp_state;
  std::optional<HostScope> in_app;
  if (link == Link::kVeth) {
    absl::StatusOr<VethLab*> lab = SharedVethLab();
    if (!lab.ok()) return lab.status();
    in_app.emplace(*(*lab)->app);
    if (!in_app->ok()) return absl::InternalError("setns into the app host");
    spec.connect = [lab = *lab] { return VethPair(*lab); };
  }
  absl::StatusOr<loopback::InFlightConnection> c = loopback::MakeInFlight(spec);
  if (!c.ok()) return c.status();
  absl::StatusOr<RestoredSocket> restored = Restore(c->state);
  if (!restored.ok()) return restored.status();
  SOCCR_RETURN_IF_ERROR(c->ReleasePeer());
  ResumeOptions options;
  if (!probe) options.in_flight_probe_timeout = absl::ZeroDuration();
  // With our FIN in flight the application can send nothing more: the
  // peer reads the bytes, then end-of-file.
  const std::string tail = c->fin ? "" : loopback::Pattern(1024, 77);

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<OwnedFd> fd = std::move(*restored).Resume(options);
  if (!fd.ok()) return fd.status();
  SOCCR_RETURN_IF_ERROR(loopback::WriteAll(fd->borrow(), tail));
  absl::StatusOr<std::string> got = loopback::ReadExactly(
      c->server.borrow(), c->to_server.size() + tail.size(), absl::Seconds(60));
  if (got.ok() && c->fin) {
    if (absl::Status s =
            loopback::ExpectEof(c->server.borrow(), absl::Seconds(60));
        !s.ok()) {
      return s;
    }
  }
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
  const Link link = static_cast<Link>(state.range(3));
  const TcpState tcp_state = static_cast<TcpState>(state.range(4));
  double retrans_sum = 0;
  for (auto _ : state) {
    double seconds = 0;
    double retrans = 0;
    if (absl::Status s = ResumeOnce(bytes, peer_has, probe, link, tcp_state,
                                    &seconds, &retrans);
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
                              probe ? "probe" : "plain repair-off", ", ",
                              link == Link::kVeth ? "veth" : "loopback", ", ",
                              TcpStateName(tcp_state)));
}

}  // namespace

void RegisterInFlightBenchmarks(const Config& config) {
  // The plain path waits for the retransmission timer (seconds): it gets
  // fewer iterations, so it is registered apart (Iterations() applies to
  // a whole registration).
  for (int64_t probe : {1, 0}) {
    auto* b = benchmark::RegisterBenchmark("ResumeInFlight", BM_ResumeInFlight)
                  ->ArgNames({"bytes", "peer_has", "probe", "link", "state"})
                  ->Unit(benchmark::kMillisecond)
                  ->UseManualTime()
                  ->Iterations(probe ? config.in_flight_iterations
                                     : config.in_flight_plain_iterations);
    // Our FIN in flight too (FIN_WAIT1, LAST_ACK), with the probe only:
    // the plain path waits 3 to 13 s there (docs/tcp-states.md).
    const std::vector<TcpState> states =
        probe ? std::vector<TcpState>{TcpState::kEstablished,
                                      TcpState::kFinWait1, TcpState::kLastAck}
              : std::vector<TcpState>{TcpState::kEstablished};
    for (TcpState tcp_state : states) {
      for (Link link : {Link::kLoopback, Link::kVeth}) {
        for (int64_t bytes : config.in_flight_bytes) {
          for (PeerHas has :
               {PeerHas::kNone, PeerHas::kAll, PeerHas::kPrefix}) {
            b->Args({bytes, static_cast<int64_t>(has), probe,
                     static_cast<int64_t>(link),
                     static_cast<int64_t>(tcp_state)});
          }
        }
      }
    }
  }
}

}  // namespace soccr::bench
