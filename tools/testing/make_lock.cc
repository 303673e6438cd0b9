// make_lock: takes a network lock in the current network namespace, leaves
// it in place and prints its id, for the tests of `soccr locks`.
//
//   make_lock connections NOTE LOCAL PEER [LOCAL PEER...]
//   make_lock namespace NOTE

#include <stdio.h>
#include <string.h>

#include <vector>

#include "soccr/address.h"
#include "soccr/netlock/netlock.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: make_lock connections|namespace NOTE ...\n");
    return 2;
  }
  soccr::LockOptions options;
  options.note = argv[2];
  absl::StatusOr<soccr::NetworkLock> lock;
  if (strcmp(argv[1], "namespace") == 0) {
    lock = soccr::NetworkLock::LockNamespace(options);
  } else {
    std::vector<soccr::ConnectionKey> keys;
    for (int i = 3; i + 1 < argc; i += 2) {
      absl::StatusOr<soccr::SocketAddress> local =
          soccr::SocketAddress::Parse(argv[i]);
      absl::StatusOr<soccr::SocketAddress> peer =
          soccr::SocketAddress::Parse(argv[i + 1]);
      if (!local.ok() || !peer.ok()) {
        fprintf(stderr, "make_lock: bad address\n");
        return 2;
      }
      keys.push_back({*local, *peer});
    }
    lock = soccr::NetworkLock::LockConnections(keys, options);
  }
  if (!lock.ok()) {
    fprintf(stderr, "make_lock: %s\n", lock.status().ToString().c_str());
    return 1;
  }
  printf("%s\n", std::move(*lock).LeaveInPlace().c_str());
  return 0;
}
