#include "soccr/sock_diag_session.h"

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#include "soccr/internal/sock_diag.h"
#include "soccr/internal/sock_diag_session_scope.h"

namespace soccr {
namespace {

// How many fork()s this process is away from the one that first made a
// session: a child's copy of a session holds the parent's netlink socket
// (one open file shared by both), which it must not use, since the
// kernel's replies to the two processes would land in one queue.
std::atomic<uint64_t> fork_generation{0};

void CountForks() {
  static std::once_flag once;
  std::call_once(once, [] {
    // The child handler runs in the child alone, right after fork(): an
    // atomic increment is all it does.
    (void)::pthread_atfork(nullptr, nullptr, [] {
      fork_generation.fetch_add(1, std::memory_order_relaxed);
    });
  });
}

}  // namespace

struct SockDiagSession::State {
  internal::SockDiagSocket socket;
  // Taken by the one checkpoint using the session.
  std::atomic<bool> busy{false};
  // fork_generation when `socket` was last used.
  uint64_t generation = 0;
};

SockDiagSession::SockDiagSession() : state_(std::make_unique<State>()) {
  CountForks();
  state_->generation = fork_generation.load(std::memory_order_relaxed);
}

SockDiagSession::SockDiagSession(SockDiagSession&& other) noexcept = default;
SockDiagSession& SockDiagSession::operator=(SockDiagSession&& other) noexcept =
    default;
SockDiagSession::~SockDiagSession() = default;

bool SockDiagSession::is_open() const {
  return state_ != nullptr && state_->socket.is_open();
}

namespace internal {

SockDiagSessionScope::SockDiagSessionScope(SockDiagSession* session) {
  if (session == nullptr || session->state_ == nullptr) return;
  SockDiagSession::State* state = session->state_.get();
  if (state->busy.exchange(true, std::memory_order_acquire)) return;
  held_ = state;
  const uint64_t now = fork_generation.load(std::memory_order_relaxed);
  if (state->generation != now) {
    // A fork since: the descriptor is this process's copy of the parent's
    // socket. Closing the copy leaves the parent's open.
    state->socket.Close();
    state->generation = now;
  }
  scope_.emplace(&state->socket);
}

SockDiagSessionScope::~SockDiagSessionScope() {
  scope_.reset();
  if (held_ != nullptr) held_->busy.store(false, std::memory_order_release);
}

}  // namespace internal
}  // namespace soccr
