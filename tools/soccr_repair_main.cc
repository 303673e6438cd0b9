// soccr-repair: switches TCP repair mode on sockets handed to it, for
// programs without CAP_NET_ADMIN. See kUsage and
// soccr/repair_helper/protocol.h.

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "soccr/repair_helper/server.h"
#include "soccr_version.h"

namespace {

// GNU's form ("Usage:", "  or:"), which help2man turns into the SYNOPSIS
// of soccr-repair(8).
constexpr char kUsage[] = R"(Usage: soccr-repair [OPTIONS] PATH
  or:  soccr-repair --listen [OPTIONS] PATH

Switches TCP repair mode (setsockopt TCP_REPAIR) on the sockets that
programs without CAP_NET_ADMIN hand it, so that they can checkpoint and
restore their own connections. It speaks passt-repair(1)'s protocol: each
request is one signed byte (1: repair on, 0: off, -1: off without window
probe) carrying 1 to 253 sockets as SCM_RIGHTS over a unix stream socket;
the reply is the same byte once all are switched; on any failure the
helper closes the connection instead.

  soccr-repair PATH           connect to the program listening on PATH (as
                              passt-repair does) and serve it until it
                              closes the connection
  soccr-repair --listen PATH  a service: listen on PATH and serve every
                              program that connects, each on its own
                              connection (`soccr --repair-helper PATH`,
                              SOCCR_REPAIR_HELPER=PATH for libsoccr)

Options:
  --uid UID        serve peers of this uid (SO_PEERCRED; repeatable).
                   Default: the owner of PATH when connecting; the helper's
                   own effective uid (the owner of the socket it creates)
                   with --listen
  --any-netns      serve sockets of every network namespace the helper holds
                   CAP_NET_ADMIN in (default: only its own)
  --timeout SECS   close a connection with no request for this long
                   (default 60)
  --help           this text
  --version        the version

It accepts only TCP sockets that are not listening; anything else (a unix
socket, a file, a listener, another namespace's socket, a malformed
request, more than 253 descriptors) is refused, logged on stderr, the
connection closed and every descriptor received closed.

The helper needs CAP_NET_ADMIN in the sockets' network namespace: run it as
root, or grant the binary the capability once:

  sudo setcap cap_net_admin+ep /usr/local/bin/soccr-repair

(anyone who may execute it can then switch repair mode on sockets they
own: limit that with the file's group and mode).
)";

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

int Fail(absl::string_view message) {
  fprintf(stderr, "soccr-repair: %.*s\n", static_cast<int>(message.size()),
          message.data());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  soccr::repair_helper::Policy policy;
  bool listen = false;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    if (arg == "--help" || arg == "-h") {
      fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--version") {
      printf("soccr-repair %s\n", SOCCR_VERSION);
      return 0;
    } else if (arg == "--listen") {
      listen = true;
    } else if (arg == "--any-netns") {
      policy.any_netns = true;
    } else if (arg == "--uid") {
      const char* v = value();
      uint32_t uid;
      if (v == nullptr || !absl::SimpleAtoi(v, &uid)) {
        return Fail("--uid needs a numeric uid");
      }
      policy.allowed_uids.push_back(static_cast<uid_t>(uid));
    } else if (arg == "--timeout") {
      const char* v = value();
      double secs;
      if (v == nullptr || !absl::SimpleAtod(v, &secs) || !(secs > 0) ||
          secs > 1e6) {
        return Fail("--timeout needs a number of seconds > 0");
      }
      policy.idle_timeout = absl::Seconds(secs);
    } else if (!arg.empty() && arg[0] == '-') {
      return Fail(absl::StrCat("unknown option ", arg, " (see --help)"));
    } else if (path.empty()) {
      path = std::string(arg);
    } else {
      return Fail("one PATH only (see --help)");
    }
  }
  if (path.empty()) {
    fputs(kUsage, stderr);
    return 2;
  }
  absl::StatusOr<soccr::repair_helper::NetnsId> netns =
      soccr::repair_helper::CurrentNetns();
  if (!netns.ok()) return Fail(netns.status().message());
  policy.netns = *netns;
  signal(SIGPIPE, SIG_IGN);

  if (!listen) {
    const absl::Status s = soccr::repair_helper::ConnectAndServe(path, policy);
    if (!s.ok()) return Fail(s.message());
    return 0;
  }
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: poll() returns at once
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  const absl::Status s = soccr::repair_helper::ListenAndServe(
      path, policy,
      [](absl::string_view line) {
        fprintf(stderr, "soccr-repair: %.*s\n", static_cast<int>(line.size()),
                line.data());
      },
      g_stop);
  if (!s.ok()) return Fail(s.message());
  return 0;
}
