// soccr/testing/perturbations.h: for every field of a ConnectionState, a
// state that differs from a given one in that field only, found from the
// field lists (soccr/field_list.h), recursively into TcpOptions, TcpWindow,
// SocketBuffers and the optionals. A test that must cover every field
// (equality, the image's round trip) loops over them, so that a field
// added to the struct and its list is covered without touching the test.
//
//   for (const soccr::testing::Perturbation& p :
//        soccr::testing::PerturbEachField(state)) {
//     EXPECT_NE(p.state, state) << p.field;
//   }

#ifndef SOCCR_TESTING_PERTURBATIONS_H_
#define SOCCR_TESTING_PERTURBATIONS_H_

#include <string>
#include <vector>

#include "soccr/connection_state.h"

namespace soccr::testing {

// A state that differs from its base in one field.
struct Perturbation {
  // The path of the field, its names joined by dots ("options.sack"), with
  // what was done to it where it is not a new value: "window (absent)",
  // "window (present)", "socket_options (one fewer)".
  std::string field;
  // The member of ConnectionState it is in ("options"): the one member in
  // which `state` differs from the base.
  std::string member;
  ConnectionState state;
};

// One Perturbation per field of `base`, in field-list order: a value
// other than the base's for each scalar (a bool negated, a number one less,
// or 1 if 0; another state; an address with another port; a queue with its
// first byte flipped, or one byte if empty); an optional made absent, then
// each of its fields changed (or, when absent, made present with the
// default value); a socket option list with its first option's value
// changed and with its last option dropped (or, when empty, one option).
// pending_error alternates between the errors a restore can recreate
// (ECONNRESET and EPIPE), so that it can stay valid.
//
// Each is different from `base`, but not always a state a restore takes:
// some fields must agree with others (inq_len with the receive queue).
std::vector<Perturbation> PerturbEachField(const ConnectionState& base);

// States that together let every field be perturbed into a state the
// restore takes (PlanRestore): an ESTABLISHED IPv4 connection with every
// optional present and window scaling, an IPv6 one without window
// scaling, a listener, and a closed connection with a pending error.
struct NamedState {
  std::string name;
  ConnectionState state;
};
std::vector<NamedState> PerturbationBases();

}  // namespace soccr::testing

#endif  // SOCCR_TESTING_PERTURBATIONS_H_
