// lock_measure: wall-clock time to lock and unlock N connections, with
// soccr's NetworkLock (one netlink batch built with libnftnl + libmnl) and
// with libnftables (the same table, set, chains and rules as nft text,
// parsed by the library), in a private network namespace.
//
//   bazel run -c opt //soccr/netlock:lock_measure -- 10000 5
//
// Prints, per backend, family and size, the median and the fastest of the
// repetitions. A figure is the whole call a caller makes: building the
// request, the kernel's transaction, the answer. First calls in the process
// are included in the repetitions (the first one is shown apart).

#include <arpa/inet.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/address.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/netlock/netlock.h"

namespace soccr {
namespace {

std::vector<ConnectionKey> Keys(size_t n, bool v6) {
  std::vector<ConnectionKey> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const uint16_t peer_port = static_cast<uint16_t>(20000 + i % 40000);
    const uint16_t local_port = static_cast<uint16_t>(1000 + i / 40000);
    if (v6) {
      uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
      uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
      a[15] = 1;
      b[15] = 2;
      keys.push_back(
          {SocketAddress::V6(a, local_port), SocketAddress::V6(b, peer_port)});
    } else {
      keys.push_back({SocketAddress::V4(0xc0000201, local_port),
                      SocketAddress::V4(0xc0000202, peer_port)});
    }
  }
  return keys;
}

std::string Addr(const SocketAddress& a) {
  std::string s = a.ToString();  // "1.2.3.4:80" or "[v6]:80"
  s = s.substr(0, s.rfind(':'));
  if (!s.empty() && s[0] == '[') s = s.substr(1, s.size() - 2);
  return s;
}

// The same lock as nft text.
std::string NftScript(const std::vector<ConnectionKey>& keys, bool v6) {
  const char* type = v6 ? "ipv6_addr" : "ipv4_addr";
  const char* ip = v6 ? "ip6" : "ip";
  std::string s = "add table inet soccr_bench\n";
  absl::StrAppend(&s, "add set inet soccr_bench keys { type ", type,
                  " . inet_service . ", type, " . inet_service; }\n");
  s += "add element inet soccr_bench keys { ";
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StrAppend(&s, i ? ", " : "", Addr(keys[i].peer), " . ",
                    keys[i].peer.port(), " . ", Addr(keys[i].local), " . ",
                    keys[i].local.port());
  }
  s += " }\n";
  for (const char* chain : {"input", "output"}) {
    const bool in = chain[0] == 'i';
    absl::StrAppend(&s, "add chain inet soccr_bench ", chain,
                    " { type filter hook ", chain,
                    " priority -300; policy accept; }\n");
    absl::StrAppend(&s, "add rule inet soccr_bench ", chain,
                    " meta mark 0xc114 accept\n");
    absl::StrAppend(&s, "add rule inet soccr_bench ", chain, " ", ip,
                    in ? " saddr . tcp sport . " : " daddr . tcp dport . ", ip,
                    in ? " daddr . tcp dport" : " saddr . tcp sport",
                    " @keys drop\n");
  }
  return s;
}

struct Figures {
  std::vector<double> lock_ms, unlock_ms;
};

std::string Summary(std::vector<double> v) {
  const double first = v.front();
  std::sort(v.begin(), v.end());
  char buf[128];
  snprintf(buf, sizeof(buf), "median %7.2f ms  min %7.2f ms  first %7.2f ms",
           v[v.size() / 2], v.front(), first);
  return buf;
}

bool MeasureSoccr(const std::vector<ConnectionKey>& keys, Figures* f) {
  const absl::Time t0 = absl::Now();
  absl::StatusOr<NetworkLock> lock = NetworkLock::LockConnections(keys);
  const absl::Time t1 = absl::Now();
  if (!lock.ok()) {
    fprintf(stderr, "soccr lock: %s\n", lock.status().ToString().c_str());
    return false;
  }
  absl::Status s = std::move(*lock).Unlock();
  const absl::Time t2 = absl::Now();
  if (!s.ok()) {
    fprintf(stderr, "soccr unlock: %s\n", s.ToString().c_str());
    return false;
  }
  f->lock_ms.push_back(absl::ToDoubleMilliseconds(t1 - t0));
  f->unlock_ms.push_back(absl::ToDoubleMilliseconds(t2 - t1));
  return true;
}

// The script is built outside the timing (a caller of libnftables would
// have to build it too, but that is string formatting, not the library).
bool MeasureLibnftables(const std::string& script, Figures* f) {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  const absl::Time t0 = absl::Now();
  int r = nft_run_cmd_from_buffer(ctx, script.c_str());
  const absl::Time t1 = absl::Now();
  if (r != 0) {
    fprintf(stderr, "libnftables lock of %zu bytes of nft text: %s\n",
            script.size(), nft_ctx_get_error_buffer(ctx));
    nft_ctx_free(ctx);
    return false;
  }
  r = nft_run_cmd_from_buffer(ctx, "delete table inet soccr_bench\n");
  const absl::Time t2 = absl::Now();
  nft_ctx_free(ctx);
  if (r != 0) return false;
  f->lock_ms.push_back(absl::ToDoubleMilliseconds(t1 - t0));
  f->unlock_ms.push_back(absl::ToDoubleMilliseconds(t2 - t1));
  return true;
}

int Main(int argc, char** argv) {
  const size_t max_n = argc > 1 ? strtoul(argv[1], nullptr, 10) : 10000;
  const int reps = argc > 2 ? atoi(argv[2]) : 5;
  // A third argument "soccr" leaves libnftables out (for profiling).
  const bool with_nft = !(argc > 3 && std::string(argv[3]) == "soccr");
  if (absl::Status s = loopback::EnterPrivateNetns(); !s.ok()) {
    fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  printf("lock and unlock, wall clock, %d repetitions each\n", reps);
  for (size_t n : {size_t{1}, size_t{1000}, max_n}) {
    if (n > max_n) continue;
    for (bool v6 : {false, true}) {
      const std::vector<ConnectionKey> keys = Keys(n, v6);
      const std::string script = NftScript(keys, v6);
      Figures soccr_f, nft_f;
      bool nft_ok = with_nft;
      for (int i = 0; i < reps; ++i) {
        if (!MeasureSoccr(keys, &soccr_f)) return 1;
        if (nft_ok) nft_ok = MeasureLibnftables(script, &nft_f);
      }
      const char* fam = v6 ? "v6" : "v4";
      printf("%6zu %s  soccr (libnftnl+libmnl)  lock   %s\n", n, fam,
             Summary(soccr_f.lock_ms).c_str());
      printf("%6zu %s  soccr (libnftnl+libmnl)  unlock %s\n", n, fam,
             Summary(soccr_f.unlock_ms).c_str());
      if (!nft_ok) {
        printf("%6zu %s  libnftables (nft text)   failed (above)\n", n, fam);
        continue;
      }
      printf("%6zu %s  libnftables (nft text)   lock   %s\n", n, fam,
             Summary(nft_f.lock_ms).c_str());
      printf("%6zu %s  libnftables (nft text)   unlock %s\n", n, fam,
             Summary(nft_f.unlock_ms).c_str());
    }
  }
  return 0;
}

}  // namespace
}  // namespace soccr

int main(int argc, char** argv) { return soccr::Main(argc, argv); }
