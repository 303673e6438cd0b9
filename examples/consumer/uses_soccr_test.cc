// Builds against @soccr and moves a connection: proof that soccr works as a
// Bazel dependency of another workspace.

#include <stdio.h>

#include <string>
#include <utility>

#include "soccr/loopback/private_netns.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"

int main() {
  absl::Status s = soccr::loopback::EnterPrivateNetns();
  if (!s.ok()) {
    fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  auto pair = soccr::loopback::ConnectedPair(soccr::loopback::Family::kV6);
  if (!pair.ok()) return 2;
  auto paused = soccr::PausedSocket::Pause(pair->client.borrow());
  if (!paused.ok()) return 3;
  auto state = soccr::Checkpoint(*paused);
  if (!state.ok()) return 4;
  std::move(*paused).LeaveInRepairMode();
  pair->client.reset();
  auto restored = soccr::Restore(*state);
  if (!restored.ok()) return 5;
  auto fd = std::move(*restored).Resume();
  if (!fd.ok()) return 6;
  const std::string hello = "hello from the restored socket";
  if (!soccr::loopback::WriteAll(fd->borrow(), hello).ok()) return 7;
  auto got = soccr::loopback::ReadExactly(pair->server.borrow(), hello.size());
  if (!got.ok() || *got != hello) return 8;
  printf("consumer: moved %s\n", state->Endpoints().c_str());
  return 0;
}
