#include "bench/registry.h"

namespace soccr::bench {

Config Config::Full() {
  Config c;
  for (int64_t n = int64_t{64} << 10; n <= int64_t{256} << 20; n *= 4) {
    c.queue_bytes.push_back(n);
  }
  for (int64_t n = int64_t{64} << 10; n <= int64_t{64} << 20; n *= 4) {
    c.cold_queue_bytes.push_back(n);
  }
  c.first_call_bytes = {int64_t{1} << 20, int64_t{16} << 20};
  c.first_call_iterations = 10;
  c.batch_connections = {1000, 10000};
  c.batch_threads = {1, 2};
  c.in_flight_bytes = {int64_t{64} << 10, int64_t{1} << 20, int64_t{16} << 20};
  c.in_flight_iterations = 10;
  c.in_flight_plain_iterations = 3;
  return c;
}

Config Config::Smoke() {
  Config c;
  c.queue_bytes = {int64_t{64} << 10, int64_t{256} << 10};
  c.cold_queue_bytes = c.queue_bytes;
  c.first_call_bytes = {int64_t{64} << 10};
  c.first_call_iterations = 1;
  c.batch_connections = {64};
  c.batch_threads = {1, 2};
  c.in_flight_bytes = {int64_t{64} << 10};
  return c;
}

}  // namespace soccr::bench
