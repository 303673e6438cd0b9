// live_migration: moves a live TCP connection from one process to another,
// in a private network namespace, and checks that no byte is lost or
// duplicated.
//
//   ./bazelw run //examples:live_migration
//
// A server streams to a client and the client streams back. Mid-stream, with
// data in both of the client's queues, the client's socket is paused,
// checkpointed and closed silently; a forked process restores it, finishes
// both streams, and every byte is compared on both sides.

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"

namespace {

using soccr::loopback::Pattern;

constexpr size_t kDown = 8 << 20;  // server -> client
constexpr size_t kUp = 8 << 20;    // client -> server

absl::Status Run() {
  if (absl::Status s = soccr::loopback::EnterPrivateNetns(); !s.ok()) return s;
  if (absl::Status s = soccr::loopback::RaiseTcpBuffers(16 << 20, 16 << 20);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<soccr::loopback::TcpPair> pair =
      soccr::loopback::ConnectedPair(soccr::loopback::Family::kV4, 0,
                                     256 << 10);
  if (!pair.ok()) return pair.status();
  const std::string down = Pattern(kDown, 1);
  const std::string up = Pattern(kUp, 2);

  // Half of the server's stream arrives and stays unread in the client's
  // receive queue; the client writes its whole stream, most of which stays
  // in its send queue behind the server's small receive window.
  if (absl::Status s = soccr::loopback::WriteAll(pair->server.borrow(),
                                                 down.substr(0, kDown / 2));
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          soccr::loopback::WaitInq(pair->client.borrow(), kDown / 2);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<size_t> up_written =
      soccr::loopback::WriteSome(pair->client.borrow(), up);
  if (!up_written.ok()) return up_written.status();
  for (auto fd : {pair->server.borrow(), pair->client.borrow()}) {
    if (absl::Status s = soccr::loopback::WaitNothingInFlight(fd); !s.ok()) {
      return s;
    }
  }

  // Checkpoint, then close the original silently.
  const absl::Time t0 = absl::Now();
  absl::StatusOr<soccr::PausedSocket> paused =
      soccr::PausedSocket::Pause(pair->client.borrow());
  if (!paused.ok()) return paused.status();
  absl::StatusOr<soccr::ConnectionState> state = soccr::Checkpoint(*paused);
  if (!state.ok()) return state.status();
  const absl::Duration checkpoint_time = absl::Now() - t0;
  std::move(*paused).LeaveInRepairMode();
  pair->client.reset();
  printf("checkpointed  %s\n", state->Endpoints().c_str());
  printf("  receive queue %u bytes, send queue %u bytes (%u unsent), in %s\n",
         state->inq_len, state->outq_len, state->unsent_len,
         absl::FormatDuration(checkpoint_time).c_str());
  fflush(stdout);

  // Until the connection exists again the server must stay quiet: a packet
  // for the closed socket would be answered with a reset. (In production a
  // firewall rule holds the peer's packets, as with CRIU's network lock.)
  int ready[2];
  if (pipe(ready) != 0) return absl::ErrnoToStatus(errno, "pipe");
  const pid_t child = fork();
  if (child < 0) return absl::ErrnoToStatus(errno, "fork");
  if (child == 0) {
    // The new owner of the connection.
    pair->server.reset();
    const absl::Time t1 = absl::Now();
    absl::StatusOr<soccr::RestoredSocket> restored = soccr::Restore(*state);
    if (!restored.ok()) {
      fprintf(stderr, "%s\n", restored.status().ToString().c_str());
      _exit(2);
    }
    absl::StatusOr<soccr::OwnedFd> fd = std::move(*restored).Resume();
    if (!fd.ok()) {
      fprintf(stderr, "%s\n", fd.status().ToString().c_str());
      _exit(2);
    }
    printf("restored      in process %d, in %s\n", getpid(),
           absl::FormatDuration(absl::Now() - t1).c_str());
    fflush(stdout);
    if (write(ready[1], "R", 1) != 1) _exit(2);
    // Finish both streams: the rest of ours, then read all of the server's.
    if (!soccr::loopback::WriteAll(fd->borrow(),
                                   absl::string_view(up).substr(*up_written))
             .ok()) {
      _exit(3);
    }
    absl::StatusOr<std::string> got =
        soccr::loopback::ReadExactly(fd->borrow(), kDown);
    if (!got.ok() || *got != down) {
      fprintf(stderr, "client: the server's stream differs\n");
      _exit(4);
    }
    printf(
        "client        received all %zu bytes of the server's stream, "
        "verified\n",
        kDown);
    fflush(stdout);
    _exit(0);
  }

  // The server never noticed: it finishes its stream and reads the client's.
  char c;
  if (read(ready[0], &c, 1) != 1) {
    return absl::InternalError("the restoring process failed");
  }
  if (absl::Status s = soccr::loopback::WriteAll(
          pair->server.borrow(), absl::string_view(down).substr(kDown / 2));
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> got =
      soccr::loopback::ReadExactly(pair->server.borrow(), kUp);
  if (!got.ok()) return got.status();
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError("the restored client failed");
  }
  if (*got != up) return absl::DataLossError("the client's stream differs");
  printf(
      "server        received all %zu bytes of the client's stream, "
      "verified\n",
      kUp);
  printf("OK: no byte lost, none duplicated\n");
  return absl::OkStatus();
}

}  // namespace

int main() {
  const absl::Status s = Run();
  if (!s.ok()) {
    fprintf(stderr, "live_migration: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
