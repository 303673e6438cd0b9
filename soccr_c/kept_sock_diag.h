// soccr_c/kept_sock_diag.h: the calling thread's kept netlink socket for
// the C API's checkpoints (soccr_sock_diag_keep() of <soccr/move.h>).
//
//   soccr::CheckpointOptions options;
//   options.sock_diag = soccr::c_api::KeptSockDiag();  // nullptr: none kept

#ifndef SOCCR_C_KEPT_SOCK_DIAG_H_
#define SOCCR_C_KEPT_SOCK_DIAG_H_

#include "soccr/sock_diag_session.h"

namespace soccr::c_api {

// The session soccr_sock_diag_keep(1) made for the calling thread, or
// nullptr (none asked for, or dropped since).
SockDiagSession* KeptSockDiag();

// soccr_sock_diag_keep(): makes (keep != 0) or drops (0) the calling
// thread's session; returns whether it had one before.
int KeepSockDiag(int keep);

}  // namespace soccr::c_api

#endif  // SOCCR_C_KEPT_SOCK_DIAG_H_
