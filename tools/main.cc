// soccr: the command-line tool. Checks what the kernel can do, inspects
// images, checkpoints another process's connection, restores one for any
// program, and demonstrates a live migration.
//
//   ./bazelw run //tools:soccr -- demo
//   soccr check --private-netns
//   soccr inspect --json conn.soccr
//   soccr dump --pid 1234 --fd 5 -o conn.soccr --close
//   soccr restore conn.soccr -- ./server --resume
//
// `soccr --help` lists the subcommands and the exit statuses; each
// subcommand has its own --help.

#include <stdio.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/migrate/migrate.h"
#include "soccr/netaddr/netaddr.h"
#include "soccr/netlock/netlock.h"
#include "soccr/repair_helper/helper_sys.h"
#include "soccr/tcp_state.h"
#include "soccr_version.h"
#include "tools/check.h"
#include "tools/cli.h"
#include "tools/demo.h"
#include "tools/demo_hosts.h"
#include "tools/dump_command.h"
#include "tools/inspect.h"
#include "tools/json_reports.h"
#include "tools/locks.h"
#include "tools/migrate_cmd.h"
#include "tools/pidfd.h"
#include "tools/progress.h"
#include "tools/restore_command.h"
#include "tools/unix_command.h"

ABSL_FLAG(bool, private_netns, false,
          "Probe inside a new user and network namespace (only lo, up)\n"
          "instead of the current ones: shows what the kernel supports\n"
          "to an unprivileged user.");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of text.");
ABSL_FLAG(bool, skip_checksums, false,
          "Do not verify the XXH3 checksums (to look into a damaged\n"
          "image; every other check still runs).");
ABSL_FLAG(int32_t, pid, 0, "The process that owns the connection.");
ABSL_FLAG(int32_t, fd, -1, "The connection's descriptor in that process.");
ABSL_FLAG(std::string, output, "",
          "The image file to write (replaced atomically if it exists).");
ABSL_FLAG(bool, leave_paused, false,
          "Leave the socket in repair mode: frozen, and closing it sends\n"
          "nothing. Its addresses stay taken until its owner closes it.");
ABSL_FLAG(bool, close, false,
          "Disconnect the socket silently once the image is written: no\n"
          "FIN, no RST; the owner's next read or write fails with\n"
          "ECONNABORTED, and the addresses are free for a restore.");
ABSL_FLAG(std::string, repair_helper, "",
          "Switch repair mode through the soccr-repair service listening\n"
          "on this unix socket (soccr-repair --listen PATH, which holds\n"
          "CAP_NET_ADMIN): for use without the capability.");
ABSL_FLAG(std::string, reconnect, "",
          "A unix socket image of one end whose peer is outside: connect a\n"
          "new socket to the recorded peer address, or to PATH (@name: an\n"
          "abstract name) if given (the peer sees a new connection).");
ABSL_FLAG(std::string, reconnect_to, "", "The same as --reconnect PATH.");
ABSL_FLAG(uint32_t, index, 0, "Which connection of the image to restore.");
ABSL_FLAG(uint64_t, bytes, 8 << 20,
          "Bytes to stream in each direction (64 KiB to 1 GiB).");
ABSL_FLAG(std::string, to, "",
          "Where soccr receive listens: unix:PATH or HOST:PORT.");
ABSL_FLAG(bool, all, false,
          "Every connected TCP socket of the process (listeners and\n"
          "unconnected sockets stay).");
ABSL_FLAG(std::string, lock, "connections",
          "What to hold still during the move: connections (only the\n"
          "moved ones), namespace (every TCP packet of this network\n"
          "namespace but the control connection), or none.");
ABSL_FLAG(std::string, release_address, "",
          "Remove this address (ADDR/PREFIX) from --dev at the commit.");
ABSL_FLAG(std::string, take_address, "",
          "Add this address (ADDR/PREFIX) to --dev at the go-ahead and\n"
          "announce it (gratuitous ARP, unsolicited neighbour\n"
          "advertisement). Every connection received must be on it.");
ABSL_FLAG(std::string, dev, "", "The device of the moved address.");
ABSL_FLAG(std::string, listen, "",
          "Where to wait for soccr send: unix:PATH or HOST:PORT.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30),
          "How long to wait for the other side at each step (30s, 500ms).");
ABSL_FLAG(std::string, journal, "",
          "Record the move here for soccr recover after a crash (and the\n"
          "image at the commit in JOURNAL.image).");
ABSL_FLAG(bool, hosts, false,
          "Move live connections between simulated hosts instead: the\n"
          "whole soccr send / soccr receive, with the network lock and\n"
          "the service address.");
ABSL_FLAG(int32_t, connections, 4,
          "With --hosts: how many connections the service holds and\n"
          "moves (1 to 1000).");
ABSL_FLAG(std::string, image, "",
          "Write the image here and keep it (default: a temporary\n"
          "directory, removed afterwards).");

namespace soccr::tools {
namespace {

using cli::Command;

const Command kCheck = {
    "check",
    "check [--private-netns] [--json]",
    "probe what this kernel and this process can do",
    "Probes, for real, what soccr needs from the kernel and the process in\n"
    "the current network namespace: repair mode, repair queues, options,\n"
    "window and timestamps, leaving repair mode without a window probe,\n"
    "raising socket buffers, raw packet injection, TCP-AO repair, and a\n"
    "whole checkpoint and restore of a loopback connection. One line per\n"
    "feature: ok, missing (with the failing call, its errno and what that\n"
    "means) or skipped. Exits 1 if a basic feature (*) is missing.\n"
    "\n"
    "--json prints one object instead: context, basics_present, and\n"
    "features[], each with feature, basic, result (ok, missing or skipped)\n"
    "and detail (docs/json-output.md); the exit status is the same.",
    {{"private_netns"}, {"json"}},
    0,
    0,
};

const Command kInspect = {
    "inspect",
    "inspect [--json] [--skip-checksums] IMAGE",
    "show the connections in an image file",
    "Reads IMAGE as a restore would, checksums and every field checked, and\n"
    "shows the format version, the checksum status, and for each\n"
    "connection its state, addresses, sequence numbers, queue sizes (with\n"
    "their first bytes), negotiated options, window, buffers and socket\n"
    "options. A damaged image gets the parser's precise error and exit\n"
    "status 1.\n"
    "\n"
    "--json prints one object: path, file_bytes, format_version,\n"
    "checksums_verified, and connections[], each with the fields of\n"
    "soccr::ConnectionState (state, local, peer, inq_seq, inq_len,\n"
    "outq_seq, outq_len, unsent_len, options, timestamp, window, buffers,\n"
    "socket_options, listen_backlog, pending_error) plus\n"
    "recv_queue_head_hex and send_queue_head_hex. Strings hold bytes:\n"
    "anything outside printable ASCII is written as \\u00XX.",
    {{"json"}, {"skip_checksums"}},
    1,
    1,
};

const Command kDump = {
    "dump",
    "dump --pid PID --fd FD [--fd FD2] -o IMAGE [--leave-paused | --close] "
    "[--json]",
    "checkpoint another process's TCP connection into an image",
    "Takes a copy of descriptor FD of process PID (pidfd_getfd: needs\n"
    "ptrace access to it), pauses the connection (repair mode), checkpoints\n"
    "it and writes IMAGE safely (a temporary file in the same directory,\n"
    "fsync, rename); with -o - it writes the image to standard output\n"
    "(a pipe, a socket) and the report to standard error. Needs\n"
    "CAP_NET_ADMIN over the socket's network namespace, or\n"
    "--repair-helper PATH: a `soccr-repair --listen PATH` service that has\n"
    "it switches repair mode (see soccr-repair --help).\n"
    "\n"
    "By default the connection then resumes and the process carries on\n"
    "untouched. While it is paused the connection sends and acknowledges\n"
    "nothing, and the owner's own reads and writes on it fail: stop the\n"
    "owner (SIGSTOP, a cgroup freezer) if it may use the socket then. To\n"
    "migrate, hold the peer's packets back (a firewall rule) and use\n"
    "--close (or --leave-paused and let the owner exit): the original then\n"
    "never sends a FIN or a reset, and `soccr restore` continues it.\n"
    "\n"
    "A closed connection's pending error (ECONNRESET after a reset, ...) is\n"
    "taken from the original, also without --close: the kernel shows it\n"
    "only by clearing it and cannot set it again on a closed socket, so the\n"
    "owner no longer sees it; the image has it. Connections signed with\n"
    "TCP-MD5 or TCP-AO keys, or running kTLS, are refused: a restored copy\n"
    "could not carry the keys or the TLS state.\n"
    "\n"
    "--json prints the report as one object (on standard error with -o -):\n"
    "pid, fd, image, image_bytes, repair, original (resumed, left_paused,\n"
    "closed or not_paused), checkpoint_us, write_us, paused_us and\n"
    "connection, as in soccr inspect --json (docs/json-output.md).\n"
    "\n"
    "A unix domain socket (stream, seqpacket, dgram) is checkpointed\n"
    "without pausing anything: its receive queue is peeked, messages and\n"
    "their boundaries kept, and the owner carries on untouched (--close and\n"
    "--leave-paused do not apply). Give --fd twice for both ends of a pair\n"
    "the process holds (a socketpair, or both ends of a named connection).\n"
    "Descriptors in flight (SCM_RIGHTS) and listeners with connections\n"
    "waiting are refused. Run soccr in the socket's network namespace.",
    {{"pid", "PID", 0, true},
     {"fd", "FD", 0, true},
     {"output", "IMAGE", 'o', true},
     {"leave_paused"},
     {"close"},
     {"json"},
     {"repair_helper", "PATH"}},
    0,
    0,
};

const Command kRestore = {
    "restore",
    "restore [--index N] [--json] [--reconnect [PATH]] "
    "IMAGE|- -- CMD [ARGS...]",
    "restore a connection and run a program with it as fd 3",
    "Restores connection N (default 0) of IMAGE (-: the one image on\n"
    "standard input, restored once the stream ends), resumes it, and\n"
    "executes\n"
    "CMD in this process with the live, blocking socket as descriptor 3\n"
    "(the convention of libsoccr's tcp-constructor example); CMD finds its\n"
    "addresses with getsockname/getpeername. Needs CAP_NET_ADMIN over the\n"
    "current network namespace, or --repair-helper PATH (a `soccr-repair\n"
    "--listen PATH` service that has it), and CAP_NET_RAW for half-closed\n"
    "connections. CMD is looked up first (in PATH unless it has a '/'):\n"
    "if it cannot run, nothing is restored (exit status 127 or 126).\n"
    "\n"
    "--json prints what was restored on standard error, once it is live\n"
    "and just before CMD runs (standard output stays CMD's): one object\n"
    "with image, index, fd (3), program and connection, as in soccr\n"
    "inspect --json (docs/json-output.md).\n"
    "\n"
    "An image of unix sockets (soccr dump of one): both ends of a pair are\n"
    "re-created and given to CMD as descriptors 3 and 4, each end's unread\n"
    "messages queued again. An image of one end whose peer was outside\n"
    "(a client of a server) needs --reconnect [PATH]: a new socket\n"
    "connected to the peer's address (or PATH) is descriptor 3, and the\n"
    "messages that were queued for the old one, which the new connection\n"
    "cannot carry, are in descriptor 4 (a sealed memfd: the bytes for a\n"
    "stream, each message as a u32 little-endian length and its bytes\n"
    "otherwise; SOCCR_UNREAD_MESSAGES says how many).",
    {{"index", "N"},
     {"json"},
     {"repair_helper", "PATH"},
     {"reconnect", "PATH", 0, false, /*optional_value=*/true},
     {"reconnect_to", "PATH"}},
    1,
    1,
    /*takes_command=*/true,
};

const Command kDemo = {
    "demo",
    "demo [--bytes N] [--image PATH | --hosts [--connections N]] [--json]",
    "move a live connection between two processes, every byte checked",
    "In a private user and network namespace (nothing on the host is\n"
    "touched): a peer and a client stream to each other; mid-stream, with\n"
    "data in both of the client's queues, the client's socket is\n"
    "checkpointed into an image file and closed silently; a new process\n"
    "restores it from the file; both streams finish and every byte is\n"
    "compared on both sides. Prints the queue sizes, the checkpoint,\n"
    "image and restore figures, and exits 1 on any difference.\n"
    "\n"
    "--json prints the figures as one object: connection, inq_len,\n"
    "outq_len, unsent_len, checkpoint_us, image_bytes, write_us, image,\n"
    "restored_pid, restore_us, down_verified and up_verified\n"
    "(docs/json-output.md).\n"
    "\n"
    "--hosts shows a whole live migration between hosts instead, still in\n"
    "a private user namespace: hosts src (192.0.2.1), dst (192.0.2.2) and\n"
    "peer (192.0.2.10), network namespaces joined by veth pairs and a\n"
    "bridge. An echo service on src holds N connections (--connections,\n"
    "default 4) on 192.0.2.100:8000 while the peer streams --bytes (default\n"
    "1 MiB here) each way on each and checks every byte that comes back.\n"
    "Mid-stream the service stops itself and the connections move with\n"
    "their address through soccr send's and soccr receive's own code (on\n"
    "src with the connections' lock and --release-address, on dst with\n"
    "--take-address, each in a process of its own): lock, checkpoint,\n"
    "transfer, restore, commit, unlock; the service carries on at dst.\n"
    "Prints each phase's time, the downtime, the longest gap the peer saw\n"
    "between two bytes, the bytes counted each way, and where the address\n"
    "and soccr's locks are afterwards. Exits 0 only if the move happened,\n"
    "every byte arrived intact, and only dst has the address, with no lock\n"
    "left on either host. A failed move exits\n"
    "1 with the report: before the commit it rolls back and the\n"
    "connections carry on at src, every byte still checked. --json: one\n"
    "object (docs/json-output.md).",
    {{"bytes", "N"},
     {"image", "PATH"},
     {"json"},
     {"hosts"},
     {"connections", "N"}},
    0,
    0,
};

const Command kLocks = {
    "locks",
    "locks [--json]",
    "list soccr's network locks in this network namespace",
    "Lists the network locks soccr holds in the current network namespace\n"
    "(nftables tables named soccr_lock_ID), oldest first, one line each:\n"
    "ID, scope (connections or namespace), how many connections it holds\n"
    "(for the namespace scope: how many it exempts), the process that took\n"
    "it, when (UTC), and its note. Prints nothing when there are none. A\n"
    "lock outlives the process that took it: one left by a process that\n"
    "died holds its connections until `soccr unlock ID`. Needs\n"
    "CAP_NET_ADMIN over the network namespace.",
    {{"json"}},
    0,
    0,
};

const Command kUnlock = {
    "unlock",
    "unlock [--json] ID",
    "remove a network lock",
    "Removes the network lock ID (as `soccr locks` prints it) from the\n"
    "current network namespace in one transaction: the connections it held\n"
    "flow again (their peers retransmit what was dropped). Exits 1 if there\n"
    "is no such lock. Needs CAP_NET_ADMIN over the network namespace.\n"
    "\n"
    "--json prints one object: unlocked (the ID) and lock, the lock as\n"
    "soccr locks --json listed it just before (docs/json-output.md).",
    {{"json"}},
    1,
    1,
};

const Command kSend = {
    "send",
    "send --pid PID (--fd FD ... | --all) --to unix:PATH|HOST:PORT\n"
    "             [--lock connections|namespace|none]\n"
    "             [--release-address ADDR/PREFIX --dev DEV] [--journal FILE]\n"
    "             [--timeout D] [--json]",
    "move another process's connections live to soccr receive",
    "Locks the connections (a network lock, see soccr locks), checkpoints\n"
    "them from process PID (pidfd_getfd, as soccr dump does), streams the\n"
    "image to soccr receive, and waits until it has restored them all,\n"
    "behind its own lock. Only then it commits: the originals are\n"
    "disconnected silently (their owner sees ECONNABORTED),\n"
    "--release-address is removed, and the destination is told to go\n"
    "ahead; it unlocks and confirms, and the source unlocks. Any failure "
    "before the\n"
    "commit (a restore error, a refused connection, a timeout, the other\n"
    "side gone) resumes every original and unlocks: the peers see a\n"
    "pause. Prints one line per phase (--json: one object). After a crash:\n"
    "soccr recover JOURNAL (docs/migration.md).",
    {{"pid", "PID", 0, true},
     {"fd", "FD"},
     {"all"},
     {"to", "unix:PATH|HOST:PORT", 0, true},
     {"lock", "MODE"},
     {"release_address", "ADDR/PREFIX"},
     {"dev", "DEV"},
     {"journal", "FILE"},
     {"timeout", "D"},
     {"json"}},
    0,
    0,
};

const Command kReceive = {
    "receive",
    "receive --listen unix:PATH|HOST:PORT\n"
    "             [--take-address ADDR/PREFIX --dev DEV] [--timeout D]\n"
    "             [--json] -- CMD [ARGS...]",
    "take connections from soccr send and run a program with them",
    "Waits for one soccr send, locks its connections here, restores and\n"
    "resumes them all behind that lock and reports back; at the go-ahead\n"
    "takes --take-address (and announces it), unlocks, and\n"
    "executes CMD with the connections as descriptors 3, 4, ... and\n"
    "LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES (fd5:fd6, the source's\n"
    "descriptor numbers) set as systemd's socket activation does. Prints\n"
    "one line per phase on stderr (--json: one object). Without the\n"
    "go-ahead nothing is left behind. On a unix socket only this user or\n"
    "root may send.",
    {{"listen", "unix:PATH|HOST:PORT", 0, true},
     {"take_address", "ADDR/PREFIX"},
     {"dev", "DEV"},
     {"timeout", "D"},
     {"json"}},
    0,
    0,
    /*takes_command=*/true,
};

const Command kRecover = {
    "recover",
    "recover JOURNAL [--to unix:PATH|HOST:PORT] [--timeout D]",
    "finish or undo a soccr send that was killed",
    "Reads the journal soccr send --journal left. Before the commit: resumes\n"
    "every original (pidfd_getfd from the recorded process) and removes the\n"
    "source's lock; the connections stay at the source. After it:\n"
    "disconnects the originals if they are not yet, releases the address,\n"
    "and with --to hands the connections (the image saved at the commit)\n"
    "to a soccr receive there. Run it in the source's network namespace.",
    {{"to", "unix:PATH|HOST:PORT"}, {"timeout", "D"}, {"json"}},
    1,
    1,
};

const Command* const kCommands[] = {&kCheck, &kInspect, &kDump,    &kRestore,
                                    &kDemo,  &kSend,    &kReceive, &kRecover,
                                    &kLocks, &kUnlock};

std::string TopUsage() {
  std::string s =
      "usage: soccr SUBCOMMAND [FLAGS] [ARGS]\n"
      "\n"
      "soccr checkpoints and restores live TCP connections (Linux TCP repair\n"
      "mode).\n"
      "\n"
      "subcommands:\n";
  for (const Command* c : kCommands) {
    absl::StrAppendFormat(&s, "  %-9s %s\n", c->name, c->summary);
  }
  absl::StrAppend(
      &s,
      "\n"
      "`soccr SUBCOMMAND --help` describes a subcommand and its flags;\n"
      "`soccr --version` prints soccr's version.\n"
      "\n"
      "exit status:\n"
      "  0    success\n"
      "  1    the operation failed (the reason is on stderr); check: a basic\n"
      "       feature is missing; demo: a byte differs\n"
      "  2    usage error: unknown subcommand or flag, bad value, missing or\n"
      "       extra argument\n"
      "  126  restore: CMD cannot be executed (nothing was restored)\n"
      "  127  restore: CMD was not found (nothing was restored)\n");
  return s;
}

// One line on stderr: "soccr dump: <message>".
int Fail(absl::string_view command, const absl::Status& status,
         int exit_status = cli::kExitFailed) {
  const std::string message =
      absl::StrReplaceAll(status.message(), {{"\n", " "}});
  fprintf(stderr, "soccr %s: %s\n", std::string(command).c_str(),
          message.c_str());
  return exit_status;
}

// --repair-helper: the Sys to use (LinuxSys() without it). `*owned` keeps
// the helper's alive.
absl::StatusOr<const sys::Sys*> RepairSys(
    std::unique_ptr<repair_helper::RepairHelperSys>* owned) {
  const std::string path = absl::GetFlag(FLAGS_repair_helper);
  if (path.empty()) return &sys::LinuxSys();
  absl::StatusOr<std::unique_ptr<repair_helper::RepairHelperSys>> helper =
      repair_helper::RepairHelperSys::Connect(path);
  if (!helper.ok()) {
    return absl::Status(
        helper.status().code(),
        absl::StrCat("--repair-helper ", path, ": ", helper.status().message(),
                     " (is `soccr-repair --listen ", path, "` running?)"));
  }
  *owned = *std::move(helper);
  return owned->get();
}

// A failure to enter repair mode, with what to do about it.
absl::Status WithRepairHint(const absl::Status& s) {
  if (s.ok() || !absl::StrContains(s.message(), "repair mode")) return s;
  const std::string path = absl::GetFlag(FLAGS_repair_helper);
  if (!path.empty()) {
    return absl::Status(
        s.code(), absl::StrCat(s.message(), " (through --repair-helper ", path,
                               ": does the helper have CAP_NET_ADMIN, and "
                               "serve this user?)"));
  }
  if (s.code() != absl::StatusCode::kPermissionDenied) return s;
  return absl::Status(
      s.code(), absl::StrCat(s.message(),
                             " (without CAP_NET_ADMIN: run `soccr-repair "
                             "--listen PATH` with the capability and pass "
                             "--repair-helper PATH)"));
}

std::string Millis(absl::Duration d) {
  return absl::StrFormat("%.2f ms", absl::ToDoubleMilliseconds(d));
}

int RunCheck() {
  if (absl::GetFlag(FLAGS_private_netns)) {
    if (absl::Status s = loopback::EnterPrivateNetns(); !s.ok()) {
      return Fail("check", s);
    }
  }
  const CheckReport report = RunChecks();
  printf("%s", absl::GetFlag(FLAGS_json) ? CheckReportJson(report).c_str()
                                         : FormatCheckReport(report).c_str());
  return report.BasicsPresent() ? cli::kExitOk : cli::kExitFailed;
}

int RunInspect(const cli::Args& args) {
  if (absl::StatusOr<bool> is_unix = IsUnixImageFile(args.args[0]);
      is_unix.ok() && *is_unix) {
    const bool verify = !absl::GetFlag(FLAGS_skip_checksums);
    absl::StatusOr<std::string> text =
        absl::GetFlag(FLAGS_json) ? InspectUnixImageJson(args.args[0], verify)
                                  : InspectUnixImage(args.args[0], verify);
    if (!text.ok()) return Fail("inspect", text.status());
    fwrite(text->data(), 1, text->size(), stdout);
    return cli::kExitOk;
  }
  Progress progress = Progress::OnStderr("soccr inspect");
  absl::StatusOr<InspectedImage> image = InspectImage(
      args.args[0], !absl::GetFlag(FLAGS_skip_checksums), progress);
  if (!image.ok()) return Fail("inspect", image.status());
  const std::string out =
      absl::GetFlag(FLAGS_json) ? InspectJson(*image) : InspectText(*image);
  fwrite(out.data(), 1, out.size(), stdout);
  return cli::kExitOk;
}

// `soccr dump` of unix sockets: when --fd is given twice, or names one.
int RunUnixDump(const std::vector<int>& fds) {
  if (absl::GetFlag(FLAGS_leave_paused) || absl::GetFlag(FLAGS_close)) {
    return Fail("dump",
                absl::InvalidArgumentError(
                    "--leave-paused and --close do not apply to unix "
                    "sockets (their checkpoint leaves them untouched)"),
                cli::kExitUsage);
  }
  UnixDumpOptions options;
  options.pid = absl::GetFlag(FLAGS_pid);
  options.fds = fds;
  options.output = absl::GetFlag(FLAGS_output);
  absl::StatusOr<UnixDumpResult> r = DumpUnixSockets(options);
  if (!r.ok()) return Fail("dump", r.status());
  const std::string report = absl::GetFlag(FLAGS_json)
                                 ? UnixDumpReportJson(options, *r)
                                 : UnixDumpReport(options, *r);
  fprintf(options.output == "-" ? stderr : stdout, "%s", report.c_str());
  return cli::kExitOk;
}

int RunDump(const cli::Args& args) {
  std::vector<int> fds;
  if (auto it = args.values.find("fd"); it != args.values.end()) {
    for (const std::string& v : it->second) {
      int fd = -1;
      if (!absl::SimpleAtoi(v, &fd)) fd = -1;
      fds.push_back(fd);
    }
  }
  if (fds.size() > 2) {
    return Fail("dump",
                absl::InvalidArgumentError(
                    "--fd: one descriptor, or two (both ends of a unix pair)"),
                cli::kExitUsage);
  }
  if (fds.size() == 2) return RunUnixDump(fds);
  if (absl::StatusOr<OwnedFd> copy =
          TakeDescriptor(absl::GetFlag(FLAGS_pid), absl::GetFlag(FLAGS_fd));
      copy.ok() && IsUnixSocket(copy->borrow())) {
    return RunUnixDump({absl::GetFlag(FLAGS_fd)});
  }
  if (absl::GetFlag(FLAGS_leave_paused) && absl::GetFlag(FLAGS_close)) {
    return Fail("dump",
                absl::InvalidArgumentError(
                    "--leave-paused and --close exclude each other"),
                cli::kExitUsage);
  }
  DumpOptions options;
  options.pid = absl::GetFlag(FLAGS_pid);
  options.fd = absl::GetFlag(FLAGS_fd);
  options.output = absl::GetFlag(FLAGS_output);
  options.after = absl::GetFlag(FLAGS_close)          ? AfterDump::kClose
                  : absl::GetFlag(FLAGS_leave_paused) ? AfterDump::kLeavePaused
                                                      : AfterDump::kResume;
  std::unique_ptr<repair_helper::RepairHelperSys> helper;
  absl::StatusOr<const sys::Sys*> sys = RepairSys(&helper);
  if (!sys.ok()) return Fail("dump", sys.status());
  Progress progress = Progress::OnStderr("soccr dump");
  absl::StatusOr<DumpResult> r = DumpConnection(options, progress, **sys);
  if (!r.ok()) return Fail("dump", WithRepairHint(r.status()));
  const ConnectionState& s = r->state;
  // With -o -, standard output carries the image: the report goes to
  // standard error.
  FILE* out = options.output == "-" ? stderr : stdout;
  if (absl::GetFlag(FLAGS_json)) {
    fprintf(out, "%s", DumpReportJson(options, *r).c_str());
    return cli::kExitOk;
  }
  fprintf(out, "dumped fd %d of process %d: %s %s\n", options.fd, options.pid,
          std::string(TcpStateName(s.state)).c_str(), s.Endpoints().c_str());
  fprintf(out,
          "  queues    receive %u bytes, send %u bytes (%u not sent yet)\n",
          s.inq_len, s.outq_len, s.unsent_len);
  fprintf(out, "  image     %s, %s, written and flushed in %s\n",
          options.output.c_str(), FormatBytes(r->image_bytes).c_str(),
          Millis(r->write_time).c_str());
  fprintf(out, "  paused    for %s (checkpoint %s)\n",
          Millis(r->paused_time).c_str(), Millis(r->checkpoint_time).c_str());
  if (!r->repair) {
    fprintf(out, "  original  %s: never in repair mode, carries on%s\n",
            s.state == TcpState::kListen ? "a listener" : "not connected",
            options.after == AfterDump::kClose && s.state == TcpState::kListen
                ? " (but stopped listening, --close)"
                : "");
    return cli::kExitOk;
  }
  switch (options.after) {
    case AfterDump::kResume:
      fprintf(out, "  original  resumed: the process carries on\n");
      break;
    case AfterDump::kLeavePaused:
      fprintf(out,
              "  original  left in repair mode: frozen; closing it sends "
              "nothing\n");
      break;
    case AfterDump::kClose:
      fprintf(out,
              "  original  closed silently: nothing sent to the peer; the "
              "owner's next read or write fails with ECONNABORTED\n");
      break;
  }
  return cli::kExitOk;
}

int RunRestore(const cli::Args& args) {
  std::string reconnect_path = absl::GetFlag(FLAGS_reconnect);
  if (!absl::GetFlag(FLAGS_reconnect_to).empty()) {
    if (!reconnect_path.empty() &&
        reconnect_path != absl::GetFlag(FLAGS_reconnect_to)) {
      return Fail("restore",
                  absl::InvalidArgumentError(
                      "--reconnect PATH and --reconnect-to PATH disagree"),
                  cli::kExitUsage);
    }
    reconnect_path = absl::GetFlag(FLAGS_reconnect_to);
  }
  const bool reconnect =
      args.values.count("reconnect") != 0 || !reconnect_path.empty();
  if (args.args[0] != "-") {
    absl::StatusOr<bool> is_unix = IsUnixImageFile(args.args[0]);
    if (is_unix.ok() && *is_unix) {
      UnixRestoreCommand command;
      command.image = args.args[0];
      command.reconnect = reconnect;
      if (!reconnect_path.empty()) command.reconnect_path = reconnect_path;
      command.json = absl::GetFlag(FLAGS_json);
      command.argv = args.command;
      fflush(stdout);
      const ExecFailure failure = RestoreUnixAndExec(command);
      return Fail("restore", failure.status, failure.exit_status);
    }
  }
  if (reconnect) {
    return Fail(
        "restore",
        absl::InvalidArgumentError("--reconnect is for unix socket images"),
        cli::kExitUsage);
  }
  RestoreCommand command;
  command.image = args.args[0];
  command.index = absl::GetFlag(FLAGS_index);
  command.argv = args.command;
  std::unique_ptr<repair_helper::RepairHelperSys> helper;
  absl::StatusOr<const sys::Sys*> sys = RepairSys(&helper);
  if (!sys.ok()) return Fail("restore", sys.status());
  if (absl::GetFlag(FLAGS_json)) {
    command.before_exec = [&](const ImageRecord& record,
                              const std::string& program) {
      fprintf(stderr, "%s",
              RestoreReportJson(command.image, command.index, record, program)
                  .c_str());
      fflush(stderr);
    };
  }
  Progress progress = Progress::OnStderr("soccr restore");
  fflush(stdout);
  const ExecFailure failure = RestoreAndExec(command, progress, **sys);
  return Fail("restore", WithRepairHint(failure.status), failure.exit_status);
}

int RunHostsDemo(const cli::Args& args) {
  if (args.values.count("image") != 0) {
    return Fail("demo",
                absl::InvalidArgumentError(
                    "--image is not for --hosts (the image streams from src "
                    "to dst)"),
                cli::kExitUsage);
  }
  HostsDemoOptions options;
  // --bytes' own default (8 MiB) is for one connection; a few stream 1 MiB.
  if (args.values.count("bytes") != 0) {
    options.bytes = absl::GetFlag(FLAGS_bytes);
    if (options.bytes < (64 << 10) || options.bytes > (1 << 30)) {
      return Fail("demo",
                  absl::InvalidArgumentError(
                      "--bytes must be between 65536 (64 KiB) and "
                      "1073741824 (1 GiB)"),
                  cli::kExitUsage);
    }
  }
  options.connections = absl::GetFlag(FLAGS_connections);
  if (options.connections < 1 || options.connections > 1000) {
    return Fail(
        "demo",
        absl::InvalidArgumentError("--connections must be between 1 and 1000"),
        cli::kExitUsage);
  }
  Progress progress = Progress::OnStderr("soccr demo");
  absl::StatusOr<HostsDemoReport> r =
      soccr::tools::RunHostsDemo(options, progress);
  if (!r.ok()) return Fail("demo", r.status());
  const std::string out = absl::GetFlag(FLAGS_json) ? HostsDemoReportJson(*r)
                                                    : HostsDemoReportText(*r);
  fwrite(out.data(), 1, out.size(), stdout);
  fflush(stdout);
  if (!r->moved) {
    return Fail("demo",
                absl::AbortedError(absl::StrCat(
                    "the move failed",
                    r->AllBytesArrived() ? " and was rolled back: " : ": ",
                    r->move_error)));
  }
  if (!r->AllBytesArrived()) {
    return Fail("demo", absl::DataLossError("not every byte arrived intact"));
  }
  if (!r->LeftClean()) {
    return Fail("demo", absl::InternalError(
                            "the move left the service address or a network "
                            "lock where it should not be (see afterwards)"));
  }
  return cli::kExitOk;
}

int RunDemo(const cli::Args& args) {
  if (absl::GetFlag(FLAGS_hosts)) return RunHostsDemo(args);
  if (args.values.count("connections") != 0) {
    return Fail("demo",
                absl::InvalidArgumentError("--connections needs --hosts"),
                cli::kExitUsage);
  }
  constexpr uint64_t kMin = 64 << 10, kMax = 1 << 30;
  if (absl::GetFlag(FLAGS_bytes) < kMin || absl::GetFlag(FLAGS_bytes) > kMax) {
    return Fail("demo",
                absl::InvalidArgumentError(
                    absl::StrCat("--bytes must be between ", kMin,
                                 " (64 KiB) and ", kMax, " (1 GiB)")),
                cli::kExitUsage);
  }
  DemoOptions options;
  options.bytes = absl::GetFlag(FLAGS_bytes);
  options.image = absl::GetFlag(FLAGS_image);
  Progress progress = Progress::OnStderr("soccr demo");
  absl::StatusOr<DemoReport> r = soccr::tools::RunDemo(options, progress);
  if (!r.ok()) return Fail("demo", r.status());
  if (absl::GetFlag(FLAGS_json)) {
    printf("%s", DemoReportJson(*r).c_str());
    return cli::kExitOk;
  }
  auto both = [](uint64_t n) {
    return absl::StrCat(FormatBytes(n), " (", n, " bytes)");
  };
  printf("soccr demo: a live TCP connection moved between two processes\n");
  printf("  connection      %s, in a private network namespace\n",
         r->endpoints.c_str());
  printf("  receive queue   %s unread at the checkpoint\n",
         both(r->inq_len).c_str());
  printf("  send queue      %s, %s of it not sent yet\n",
         both(r->outq_len).c_str(), FormatBytes(r->unsent_len).c_str());
  printf("  checkpoint      %s (pause, both queues copied)\n",
         Millis(r->checkpoint_time).c_str());
  printf("  image           %s, written and flushed in %s%s%s\n",
         both(r->image_bytes).c_str(), Millis(r->write_time).c_str(),
         r->image_path.empty() ? " (removed afterwards)" : ", kept at ",
         r->image_path.c_str());
  printf(
      "  restore         %s in process %d (image read, socket rebuilt, "
      "resumed)\n",
      Millis(r->restore_time).c_str(), r->restored_pid);
  printf("  peer -> client  %s, every byte checked by the new process\n",
         both(r->down_verified).c_str());
  printf("  client -> peer  %s, every byte checked by the peer\n",
         both(r->up_verified).c_str());
  printf("OK: no byte lost, none duplicated\n");
  return cli::kExitOk;
}

int RunSend(const cli::Args& args) {
  SendOptions o;
  o.pid = absl::GetFlag(FLAGS_pid);
  auto it = args.values.find("fd");
  if (it != args.values.end()) {
    for (const std::string& v : it->second) {
      int fd = -1;
      if (!absl::SimpleAtoi(v, &fd) || fd < 0) {
        return Fail("send", absl::InvalidArgumentError("bad --fd " + v),
                    cli::kExitUsage);
      }
      o.fds.push_back(fd);
    }
  }
  o.all = absl::GetFlag(FLAGS_all);
  if (o.all == !o.fds.empty()) {
    return Fail("send", absl::InvalidArgumentError("give --fd FD ... or --all"),
                cli::kExitUsage);
  }
  o.to = absl::GetFlag(FLAGS_to);
  const std::string lock = absl::GetFlag(FLAGS_lock);
  if (lock == "connections") {
    o.lock = LockMode::kConnections;
  } else if (lock == "namespace") {
    o.lock = LockMode::kNamespace;
  } else if (lock == "none") {
    o.lock = LockMode::kNone;
  } else {
    return Fail("send",
                absl::InvalidArgumentError(
                    "--lock must be connections, namespace or none"),
                cli::kExitUsage);
  }
  if (!absl::GetFlag(FLAGS_release_address).empty()) {
    absl::StatusOr<InterfaceAddress> a =
        InterfaceAddress::Parse(absl::GetFlag(FLAGS_release_address));
    if (!a.ok()) return Fail("send", a.status(), cli::kExitUsage);
    o.release_address = *a;
    o.dev = absl::GetFlag(FLAGS_dev);
    if (o.dev.empty()) {
      return Fail("send",
                  absl::InvalidArgumentError("--release-address needs --dev"),
                  cli::kExitUsage);
    }
  }
  o.timeout = absl::GetFlag(FLAGS_timeout);
  o.journal = absl::GetFlag(FLAGS_journal);
  absl::StatusOr<SendReport> r = Send(o);
  if (!r.ok()) return Fail("send", r.status());
  const std::string out =
      absl::GetFlag(FLAGS_json) ? SendReportJson(*r) : SendReportText(*r);
  fwrite(out.data(), 1, out.size(), stdout);
  return cli::kExitOk;
}

int RunReceive(const cli::Args& args) {
  ExecFailure failure{cli::kExitFailed, absl::OkStatus()};
  // The program first: a mistyped command fails before anything moves.
  absl::StatusOr<std::string> program = FindProgram(args.command[0], &failure);
  if (!program.ok())
    return Fail("receive", failure.status, failure.exit_status);
  ReceiveOptions o;
  o.listen = absl::GetFlag(FLAGS_listen);
  if (!absl::GetFlag(FLAGS_take_address).empty()) {
    absl::StatusOr<InterfaceAddress> a =
        InterfaceAddress::Parse(absl::GetFlag(FLAGS_take_address));
    if (!a.ok()) return Fail("receive", a.status(), cli::kExitUsage);
    o.take_address = *a;
    o.dev = absl::GetFlag(FLAGS_dev);
    if (o.dev.empty()) {
      return Fail("receive",
                  absl::InvalidArgumentError("--take-address needs --dev"),
                  cli::kExitUsage);
    }
  }
  o.timeout = absl::GetFlag(FLAGS_timeout);
  absl::StatusOr<ReceiveResult> r = Receive(o);
  if (!r.ok()) return Fail("receive", r.status());
  const std::string report =
      absl::GetFlag(FLAGS_json) ? ReceiveReportJson(*r) : ReceiveReportText(*r);
  fwrite(report.data(), 1, report.size(), stderr);
  const ExecFailure f = ExecWithConnections(std::move(r->connections), r->names,
                                            *program, args.command);
  return Fail("receive", f.status, f.exit_status);
}

int RunRecover(const cli::Args& args) {
  absl::StatusOr<RecoverResult> r = Recover(
      args.args[0], absl::GetFlag(FLAGS_to), absl::GetFlag(FLAGS_timeout));
  if (!r.ok()) return Fail("recover", r.status());
  if (absl::GetFlag(FLAGS_json)) {
    fputs(RecoverReportJson(*r).c_str(), stdout);
  } else {
    printf("%s\n", r->summary.c_str());
  }
  return cli::kExitOk;
}

int RunLocks() {
  absl::StatusOr<std::vector<LockInfo>> locks = NetworkLock::List();
  if (!locks.ok()) return Fail("locks", locks.status());
  const std::string out =
      absl::GetFlag(FLAGS_json) ? FormatLocksJson(*locks) : FormatLocks(*locks);
  fwrite(out.data(), 1, out.size(), stdout);
  return cli::kExitOk;
}

int RunUnlock(const cli::Args& args) {
  const std::string& id = args.args[0];
  std::optional<LockInfo> lock;
  if (absl::GetFlag(FLAGS_json)) {
    // What it was, for the report (a failed List shows in the unlock).
    absl::StatusOr<std::vector<LockInfo>> locks = NetworkLock::List();
    for (const LockInfo& l : locks.ok() ? *locks : std::vector<LockInfo>()) {
      if (l.id == id) lock = l;
    }
  }
  if (absl::Status s = NetworkLock::UnlockById(id); !s.ok()) {
    return Fail("unlock", s);
  }
  if (absl::GetFlag(FLAGS_json)) {
    printf("%s", FormatUnlockedJson(id, lock).c_str());
    return cli::kExitOk;
  }
  printf("unlocked %s\n", id.c_str());
  return cli::kExitOk;
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "%s", TopUsage().c_str());
    return cli::kExitUsage;
  }
  const absl::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    if (argc == 3) {
      for (const Command* c : kCommands) {
        if (c->name == argv[2]) {
          printf("%s", cli::Usage(*c).c_str());
          return cli::kExitOk;
        }
      }
    }
    printf("%s", TopUsage().c_str());
    return cli::kExitOk;
  }
  if (name == "--version" && argc == 2) {
    printf("soccr %s\n", SOCCR_VERSION);
    return cli::kExitOk;
  }
  const Command* command = nullptr;
  for (const Command* c : kCommands) {
    if (c->name == name) command = c;
  }
  if (command == nullptr) {
    fprintf(stderr, "soccr: unknown subcommand \"%s\" (see: soccr --help)\n",
            argv[1]);
    return cli::kExitUsage;
  }
  absl::StatusOr<cli::Args> args =
      cli::Parse(*command, absl::Span<const char* const>(argv + 2, argc - 2));
  if (!args.ok()) return Fail(name, args.status(), cli::kExitUsage);
  if (args->help) {
    printf("%s", cli::Usage(*command).c_str());
    return cli::kExitOk;
  }
  if (command == &kCheck) return RunCheck();
  if (command == &kInspect) return RunInspect(*args);
  if (command == &kDump) return RunDump(*args);
  if (command == &kRestore) return RunRestore(*args);
  if (command == &kSend) return RunSend(*args);
  if (command == &kReceive) return RunReceive(*args);
  if (command == &kRecover) return RunRecover(*args);
  if (command == &kLocks) return RunLocks();
  if (command == &kUnlock) return RunUnlock(*args);
  return RunDemo(*args);
}

}  // namespace
}  // namespace soccr::tools

int main(int argc, char** argv) { return soccr::tools::Main(argc, argv); }
