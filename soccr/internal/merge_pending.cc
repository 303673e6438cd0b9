#include "soccr/internal/merge_pending.h"

#include <string.h>

#include "absl/types/span.h"

namespace soccr::internal {

void MergePending(const PendingResume& p, bool socket_options,
                  ConnectionState& s) {
  s.state = p.state;
  if (p.connect) {
    s.peer = p.peer;
    s.outq_seq = p.syn_seq + 1;
  }
  if (p.listen_backlog.has_value()) {
    s.listen_backlog = static_cast<uint32_t>(*p.listen_backlog);
  }
  if (socket_options) {
    if (p.final_buffers.has_value()) s.buffers = p.final_buffers;
    for (const SocketOption& pending : p.after_resume) {
      bool replaced = false;
      for (SocketOption& o : s.socket_options) {
        if (o.level == pending.level && o.name == pending.name) {
          o = pending;
          replaced = true;
        }
      }
      if (!replaced) s.socket_options.push_back(pending);
    }
  }
  // The send queue goes on with what the restore holds back: the data in
  // flight not written yet (sent), then what the peer lacks of it and the
  // data never sent (both unsent: the peer has neither).
  const absl::Span<const uint8_t> held =
      p.in_flight.data.span().subspan(p.in_flight.written);
  const size_t unsent = p.requeue.size() + p.unsent.size();
  if (!held.empty() || unsent > 0) {
    uint8_t* out = nullptr;
    const size_t kernel_len = s.send_queue.size();
    QueueBytes all =
        QueueBytes::Allocate(kernel_len + held.size() + unsent, &out);
    for (absl::Span<const uint8_t> part :
         {s.send_queue.span(), held, p.requeue.span(), p.unsent.span()}) {
      if (!part.empty()) memcpy(out, part.data(), part.size());
      out += part.size();
    }
    s.send_queue = std::move(all);
    s.outq_len += static_cast<uint32_t>(held.size() + unsent);
    s.unsent_len += static_cast<uint32_t>(unsent);
    s.outq_seq += static_cast<uint32_t>(held.size() + unsent);
  }
}

}  // namespace soccr::internal
