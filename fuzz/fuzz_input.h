// fuzz/fuzz_input.h: reads typed values from a fuzzer's bytes, and builds
// arbitrary ConnectionStates from them.
//
//   soccr::fuzzing::FuzzInput in(data, size);
//   soccr::ConnectionState s = soccr::fuzzing::StateFromInput(in);
//
// Reads past the end give zeros, so every input gives a value. Lengths are
// bounded by the bytes that remain, never by a number read from the input.

#ifndef SOCCR_FUZZ_FUZZ_INPUT_H_
#define SOCCR_FUZZ_FUZZ_INPUT_H_

#include <stddef.h>
#include <stdint.h>

#include <string>

#include "soccr/connection_state.h"

namespace soccr::fuzzing {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  // Little-endian. Each read is its own statement: the operands of `|` are
  // unsequenced, and gcc and clang would read the bytes in different
  // orders, so that a corpus meant different things to the two builds.
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() {
    const uint16_t lo = U8();
    const uint16_t hi = U8();
    return static_cast<uint16_t>(lo | hi << 8);
  }
  uint32_t U32() {
    const uint32_t lo = U16();
    const uint32_t hi = U16();
    return lo | hi << 16;
  }
  bool Bit() { return (U8() & 1) != 0; }
  // Up to `max` bytes, as many as the next byte says and the input has.
  std::string Bytes(size_t max);
  size_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A state drawn from `in`. The first byte picks, per group of fields,
// whether they are shaped like what the kernel reports (so that most states
// from an all-zero input are restorable) or taken raw (so that every
// rejection is reached): bit 0 state (and the state-specific listen_backlog
// and pending_error), 1 addresses, 2 queue lengths, 3 TCP options, 4 window,
// 5 socket options. The shaping follows the kernel, never soccr's own
// validation: window sizes are left as drawn (the kernel keeps rcv_wnd
// beyond what the scale can advertise), any MSS a u16 holds, the relations
// tcp_repair_set_window() checks with cases exactly on its edges, and every
// error a closed socket can be left with.
ConnectionState StateFromInput(FuzzInput& in);

}  // namespace soccr::fuzzing

#endif  // SOCCR_FUZZ_FUZZ_INPUT_H_
