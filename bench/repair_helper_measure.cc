// repair_helper_measure: idle checkpoint + restore through the soccr-repair
// helper against the direct path (issue 15), wall clock, per connection.
//
//   bazel run -c opt //bench:repair_helper_measure -- [REPETITIONS] [SIZES...]
//   bazel run -c opt //bench:repair_helper_measure -- 5 1 10000
//
// In a private user + network namespace it starts the real
// `soccr-repair --listen` (tools/soccr-repair), then for each size N and
// repetition makes N fresh idle loopback connections and times, with
// LinuxSys() ("direct") and with a RepairHelperSys connected for the
// occasion ("helper", the connect included):
//   checkpoint  CheckpointAndCloseMany (pause, checkpoint, close silently)
//   restore     RestoreAndResumeMany (new sockets, restored and resumed)
// Every connection is then checked (a byte each way). The two paths
// alternate within a repetition; the figures are medians. This process
// holds CAP_NET_ADMIN in its namespace for the direct path; the helper path
// does exactly what it does for an unprivileged caller (the capability
// changes no cost: the kernel checks it once per TCP_REPAIR call).

#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/batch.h"
#include "soccr/fd.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/repair_helper/helper_sys.h"

namespace soccr {
namespace {

struct Times {
  double checkpoint_us = 0, restore_us = 0;
  uint64_t round_trips = 0;
};

// Closes without TIME_WAIT (a reset), so that repetitions do not run out
// of ports.
void Abort(OwnedFd& fd) {
  const struct linger l = {1, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  fd.reset();
}

int Fail(const std::string& what) {
  fprintf(stderr, "repair_helper_measure: %s\n", what.c_str());
  return 1;
}

bool Round(size_t n, bool helper, const std::string& socket_path, Times* t,
           std::string* error) {
  std::vector<OwnedFd> clients, servers;
  clients.reserve(n);
  servers.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    absl::StatusOr<loopback::TcpPair> p =
        loopback::ConnectedPair(loopback::Family::kV4);
    if (!p.ok()) {
      *error = p.status().ToString();
      return false;
    }
    clients.push_back(std::move(p->client));
    servers.push_back(std::move(p->server));
  }
  const absl::Time t0 = absl::Now();
  std::unique_ptr<repair_helper::RepairHelperSys> helper_sys;
  if (helper) {
    absl::StatusOr<std::unique_ptr<repair_helper::RepairHelperSys>> s =
        repair_helper::RepairHelperSys::Connect(socket_path);
    if (!s.ok()) {
      *error = s.status().ToString();
      return false;
    }
    helper_sys = *std::move(s);
  }
  const sys::Sys& sys =
      helper ? static_cast<const sys::Sys&>(*helper_sys) : sys::LinuxSys();
  std::vector<absl::StatusOr<ConnectionState>> states =
      CheckpointAndCloseMany(absl::MakeSpan(clients), {}, sys);
  const absl::Time t1 = absl::Now();
  std::vector<ConnectionState> ok;
  ok.reserve(n);
  for (auto& s : states) {
    if (!s.ok()) {
      *error = s.status().ToString();
      return false;
    }
    ok.push_back(*std::move(s));
  }
  const absl::Time t1b = absl::Now();
  std::vector<absl::StatusOr<OwnedFd>> resumed =
      RestoreAndResumeMany(ok, {}, sys);
  const absl::Time t2 = absl::Now();
  std::vector<OwnedFd> live;
  live.reserve(n);
  for (auto& r : resumed) {
    if (!r.ok()) {
      *error = r.status().ToString();
      return false;
    }
    live.push_back(*std::move(r));
  }
  t->checkpoint_us = absl::ToDoubleMicroseconds(t1 - t0) / n;
  t->restore_us = absl::ToDoubleMicroseconds(t2 - t1b) / n;
  t->round_trips = helper ? helper_sys->round_trips() : 0;
  // Every connection carries on.
  for (size_t i = 0; i < n; ++i) {
    absl::Status s = loopback::WriteAll(servers[i].borrow(), "x");
    absl::StatusOr<std::string> got =
        s.ok() ? loopback::ReadExactly(live[i].borrow(), 1)
               : absl::StatusOr<std::string>(s);
    if (!got.ok() || *got != "x") {
      *error = absl::StrCat("connection ", i, " does not carry on");
      return false;
    }
  }
  for (auto& fd : live) Abort(fd);
  for (auto& fd : servers) Abort(fd);
  return true;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Main(int argc, char** argv) {
  int reps = 3;
  std::vector<size_t> sizes;
  if (argc > 1 && !absl::SimpleAtoi(argv[1], &reps)) return Fail("REPETITIONS");
  for (int i = 2; i < argc; ++i) {
    size_t n;
    if (!absl::SimpleAtoi(argv[i], &n) || n == 0) return Fail("SIZES");
    sizes.push_back(n);
  }
  if (sizes.empty()) sizes = {1, 10000};
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (absl::Status s = loopback::EnterPrivateNetns(); !s.ok()) {
    return Fail(s.ToString());
  }
  // More ephemeral ports than the default range holds for 10,000 pairs
  // and their restores.
  (void)loopback::SetSysctl("net/ipv4/ip_local_port_range", "1024 65000");
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return Fail("getcwd");
  const std::string binary = absl::StrCat(cwd, "/tools/soccr-repair");
  char dir[] = "/tmp/soccr-repair-measure-XXXXXX";
  if (mkdtemp(dir) == nullptr) return Fail("mkdtemp");
  const std::string path = absl::StrCat(dir, "/sock");
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execl(binary.c_str(), binary.c_str(), "--listen", path.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 5000 && access(path.c_str(), F_OK) != 0; ++i) {
    usleep(1000);
  }

  printf("%-6s %-7s %14s %14s %14s %12s\n", "conns", "path", "checkpoint_us",
         "restore_us", "total_us", "round_trips");
  int status = 0;
  for (size_t n : sizes) {
    std::vector<double> c[2], r[2], total[2];
    uint64_t trips = 0;
    for (int rep = 0; rep < reps && status == 0; ++rep) {
      for (int k = 0; k < 2; ++k) {
        const bool helper = ((rep + k) % 2) == 1;
        Times t;
        std::string error;
        if (!Round(n, helper, path, &t, &error)) {
          status = Fail(
              absl::StrCat(helper ? "helper" : "direct", " ", n, ": ", error));
          break;
        }
        c[helper].push_back(t.checkpoint_us);
        r[helper].push_back(t.restore_us);
        total[helper].push_back(t.checkpoint_us + t.restore_us);
        if (helper) trips = t.round_trips;
      }
    }
    if (status != 0) break;
    for (int helper = 0; helper < 2; ++helper) {
      printf("%-6zu %-7s %14.2f %14.2f %14.2f %12s\n", n,
             helper ? "helper" : "direct", Median(c[helper]), Median(r[helper]),
             Median(total[helper]), helper ? absl::StrCat(trips).c_str() : "-");
    }
    fflush(stdout);
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  unlink(path.c_str());
  rmdir(dir);
  return status;
}

}  // namespace
}  // namespace soccr

int main(int argc, char** argv) { return soccr::Main(argc, argv); }
