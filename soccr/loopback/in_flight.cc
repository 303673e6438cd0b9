#include "soccr/loopback/in_flight.h"

#include <string.h>
#include <sys/socket.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "soccr/checkpoint.h"
#include "soccr/paused_socket.h"
#include "soccr/status_macros.h"

namespace soccr::loopback {
namespace {

// Seed of the client->server stream, so that a caller can tell bytes apart.
constexpr uint64_t kStreamSeed = 12;

int N(TcpState s) { return static_cast<int>(s); }

// Sends `data` from `from` and reads all of it at `to`, interleaved, so that
// neither side's buffers need to hold it all.
absl::Status Exchange(BorrowedFd from, BorrowedFd to, const std::string& data) {
  size_t written = 0;
  std::string got;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (got.size() < data.size()) {
    if (written < data.size()) {
      absl::StatusOr<size_t> w =
          WriteSome(from, absl::string_view(data).substr(written));
      if (!w.ok()) return w.status();
      written += *w;
    }
    absl::StatusOr<std::string> r = ReadAvailable(to, 1 << 20);
    if (!r.ok()) return r.status();
    got += *r;
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("exchange: ", got.size(), " of ", data.size(), " read"));
    }
    if (r->empty()) absl::SleepFor(absl::Microseconds(200));
  }
  if (got != data) return absl::DataLossError("exchange: bytes differ");
  return absl::OkStatus();
}

absl::StatusOr<ConnectionState> CheckpointAndCloseClient(OwnedFd client) {
  absl::StatusOr<PausedSocket> paused = PausedSocket::Pause(client.borrow());
  if (!paused.ok()) return paused.status();
  absl::StatusOr<ConnectionState> s = Checkpoint(*paused);
  if (!s.ok()) return s.status();
  std::move(*paused).LeaveInRepairMode();
  client.reset();  // in repair mode: nothing reaches the server
  return s;
}

// Waits until `fd` has sent its FIN and has nothing else unacknowledged.
absl::Status WaitOnlyFinInFlight(BorrowedFd fd) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (OutqLen(fd) != 1 || UnsentLen(fd) != 0) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("outq ", OutqLen(fd), ", unsent ", UnsentLen(fd)));
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

// Sends the client's FIN and has the server drop it; with `closing`, the
// server's FIN then crosses it and the client acknowledges that.
absl::Status FinDroppedByServer(BorrowedFd client, BorrowedFd server,
                                bool closing) {
  SOCCR_RETURN_IF_ERROR(DropIncomingFin(server));
  if (::shutdown(client.get(), SHUT_WR) != 0) {
    return absl::ErrnoToStatus(errno, "shutdown(client)");
  }
  SOCCR_RETURN_IF_ERROR(WaitOnlyFinInFlight(client));
  if (!closing) return absl::OkStatus();
  if (::shutdown(server.get(), SHUT_WR) != 0) {
    return absl::ErrnoToStatus(errno, "shutdown(server)");
  }
  SOCCR_RETURN_IF_ERROR(WaitTcpState(client, N(TcpState::kClosing)));
  return WaitTcpState(server, N(TcpState::kFinWait2));
}

}  // namespace

std::string PeerHasName(PeerHas p) {
  switch (p) {
    case PeerHas::kNone:
      return "none";
    case PeerHas::kAll:
      return "all";
    case PeerHas::kPrefix:
      return "prefix";
  }
  return "?";
}

absl::Status InFlightConnection::ReleasePeer() {
  if (!server_drops_fin) return absl::OkStatus();
  server_drops_fin = false;
  return AcceptIncoming(server.borrow());
}

absl::StatusOr<InFlightConnection> MakeInFlight(const InFlightSpec& spec) {
  const bool fin = spec.state != TcpState::kEstablished;
  if (fin && spec.state != TcpState::kFinWait1 &&
      spec.state != TcpState::kClosing && spec.state != TcpState::kLastAck) {
    return absl::InvalidArgumentError(
        absl::StrCat("no in-flight data in ", TcpStateName(spec.state)));
  }
  absl::StatusOr<TcpPair> pair =
      spec.connect ? spec.connect() : ConnectedPair(spec.family);
  if (!pair.ok()) return pair.status();
  const BorrowedFd client = pair->client.borrow();
  const BorrowedFd server = pair->server.borrow();

  // Everything written before the checkpoint: the server reads all of it,
  // so it has acknowledged all of it.
  const size_t before = spec.bytes + (64 << 10);
  const std::string written = Pattern(before, kStreamSeed);
  SOCCR_RETURN_IF_ERROR(Exchange(client, server, written));
  SOCCR_RETURN_IF_ERROR(WaitNothingInFlight(client));

  InFlightConnection c;
  c.fin = fin;
  const bool peer_has_fin = fin && spec.peer_has == PeerHas::kAll;
  if (spec.state == TcpState::kLastAck) {
    // The server closes first; the client acknowledges its FIN.
    if (::shutdown(server.get(), SHUT_WR) != 0) {
      return absl::ErrnoToStatus(errno, "shutdown(server)");
    }
    if (absl::Status s = WaitTcpState(client, N(TcpState::kCloseWait));
        !s.ok()) {
      return s;
    }
    SOCCR_RETURN_IF_ERROR(WaitNothingInFlight(server));
  }
  const bool closing = spec.state == TcpState::kClosing;
  if (fin && (!peer_has_fin || closing)) {
    // Our FIN is sent and dropped at the server (for CLOSING the server's
    // FIN crosses it and is acknowledged).
    SOCCR_RETURN_IF_ERROR(FinDroppedByServer(client, server, closing));
    c.server_drops_fin = true;
  }
  if (peer_has_fin) {
    // The server gets our FIN (for CLOSING, the client's retransmission of
    // it); its ACK is dropped at the client.
    SOCCR_RETURN_IF_ERROR(DropIncoming(client));
    if (closing) {
      SOCCR_RETURN_IF_ERROR(AcceptIncoming(server));
      c.server_drops_fin = false;
    } else if (::shutdown(client.get(), SHUT_WR) != 0) {
      return absl::ErrnoToStatus(errno, "shutdown(client)");
    }
    // FIN_WAIT1: the server reads end-of-file. LAST_ACK and CLOSING: it
    // reaches TIME_WAIT, which its descriptor shows as CLOSE.
    if (absl::Status s = spec.state == TcpState::kFinWait1
                             ? ExpectEof(server)
                             : WaitTcpState(server, N(TcpState::kClose));
        !s.ok()) {
      return s;
    }
  }
  if (TcpStateNumber(client) != N(spec.state)) {
    return absl::InternalError(absl::StrCat("client is in state ",
                                            TcpStateNumber(client), ", not ",
                                            N(spec.state)));
  }

  absl::StatusOr<ConnectionState> s =
      CheckpointAndCloseClient(std::move(pair->client));
  if (!s.ok()) return s.status();
  if (s->state != spec.state || s->outq_len != 0) {
    return absl::InternalError(
        absl::StrCat("unexpected checkpoint: ", s->ToString()));
  }

  // The edit: `again` acknowledged bytes re-added as unacknowledged, `more`
  // bytes appended as sent that the server never got.
  size_t again = 0;
  switch (spec.peer_has) {
    case PeerHas::kNone:
      break;
    case PeerHas::kAll:
      again = spec.bytes;
      break;
    case PeerHas::kPrefix:
      again = spec.bytes / 2;
      break;
  }
  const size_t more = spec.bytes - again;
  c.to_server = Pattern(more, kStreamSeed, before);
  const std::string queue = written.substr(before - again) + c.to_server;
  uint8_t* out = nullptr;
  s->send_queue = QueueBytes::Allocate(queue.size(), &out);
  if (!queue.empty()) memcpy(out, queue.data(), queue.size());
  s->outq_len = static_cast<uint32_t>(queue.size());
  s->unsent_len = 0;
  s->outq_seq += static_cast<uint32_t>(more);
  c.state = *std::move(s);
  c.server = std::move(pair->server);
  return c;
}

}  // namespace soccr::loopback
