#include "soccr/internal/queue_buffer_size.h"

#include <algorithm>

namespace soccr::internal {
namespace {

// Data per skb: at most 64 KiB (a TSO/GSO super-segment, or 17 pages when
// written into a receive queue in repair mode), at least TCP_MIN_SND_MSS.
constexpr uint64_t kLargeSkbPayload = 65536;
constexpr uint64_t kMinSkbPayload = 48;

}  // namespace

uint64_t BufferSizeForQueue(uint64_t bytes, uint64_t skb_payload) {
  if (bytes == 0) return 0;
  if (skb_payload == 0) skb_payload = 1;
  // The kernel charges each skb about 830 bytes of bookkeeping on top of
  // its data (measured with SO_MEMINFO on Linux 6.18); 1 KiB per skb, plus
  // slack for the last, partly filled ones.
  const uint64_t skbs = (bytes + skb_payload - 1) / skb_payload;
  return bytes + skbs * 1024 + (uint64_t{256} << 10);
}

uint64_t SendBufferSizeForQueue(uint64_t sent, uint64_t unsent,
                                const std::optional<TcpWindow>& window) {
  if (sent + unsent == 0) return 0;
  // The unsent part is written by an ordinary send once repair mode is off,
  // in skbs no bigger than half the largest window the peer offered
  // (rounded down to whole segments, so perhaps half that again); the sent
  // part, written in repair mode before the window is restored, in skbs of
  // up to 64 KiB.
  const uint64_t max_window = window.has_value() ? window->max_window : 65535;
  const uint64_t unsent_skb = std::max<uint64_t>(
      kMinSkbPayload, std::min<uint64_t>(kLargeSkbPayload, max_window / 2) / 2);
  return BufferSizeForQueue(sent, kLargeSkbPayload / 4) +
         BufferSizeForQueue(unsent, unsent_skb);
}

}  // namespace soccr::internal
