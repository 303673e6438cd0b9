#include "soccr_c/kept_sock_diag.h"

#include <soccr/move.h>

#include <memory>

namespace soccr::c_api {
namespace {

// One per thread that asked: the session's netlink socket is used by one
// checkpoint at a time, and a thread's checkpoints run one after another.
// Destroyed (its socket closed) when the thread exits.
thread_local std::unique_ptr<SockDiagSession> kept;

}  // namespace

SockDiagSession* KeptSockDiag() { return kept.get(); }

int KeepSockDiag(int keep) {
  const int was = kept != nullptr ? 1 : 0;
  if (keep != 0 && kept == nullptr) {
    kept = std::make_unique<SockDiagSession>();
  } else if (keep == 0) {
    kept.reset();
  }
  return was;
}

}  // namespace soccr::c_api

extern "C" int soccr_sock_diag_keep(int keep) {
  return soccr::c_api::KeepSockDiag(keep);
}
