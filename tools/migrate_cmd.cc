#include "tools/migrate_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "soccr/fd.h"
#include "soccr/internal/status_code.h"
#include "soccr/sys/sys.h"
#include "tools/cli.h"
#include "tools/json.h"
#include "tools/progress.h"

namespace soccr::tools {
namespace {

std::string Ms(absl::Duration d) {
  return absl::StrFormat("%.3f ms", absl::ToDoubleMilliseconds(d));
}

void Phase(JsonWriter& j, absl::string_view name, absl::Duration d) {
  j.Key(name);
  j.Uint(static_cast<uint64_t>(absl::ToInt64Microseconds(d)));
}

}  // namespace

std::string SendReportText(const SendReport& r) {
  const migrate::DestinationTimes& d = r.destination;
  return absl::StrCat(
      "soccr send: ", r.connections, " connections moved, ",
      FormatBytes(r.image_bytes), " of image\n", "  lock        ", Ms(r.lock),
      "\n", "  checkpoint  ", Ms(r.checkpoint), "\n", "  transfer    ",
      Ms(r.transfer), " (image out; destination locked in ", Ms(d.lock),
      ", restored in ", Ms(d.restore), ")\n", "  commit      ", Ms(r.commit),
      " (originals disconnected, go-ahead; destination took the address in ",
      Ms(d.takeover), ", resumed in ", Ms(d.resume), ", unlocked in ",
      Ms(d.unlock), ")\n", "  unlock      ", Ms(r.unlock), "\n",
      "  downtime    ", Ms(r.downtime),
      " (source lock to destination unlock)\n", "  total       ", Ms(r.total),
      "\n");
}

std::string SendReportJson(const SendReport& r) {
  JsonWriter j;
  j.BeginObject();
  j.Key("connections");
  j.Uint(r.connections);
  j.Key("image_bytes");
  j.Uint(r.image_bytes);
  j.Key("phases_us");
  j.BeginObject();
  Phase(j, "lock", r.lock);
  Phase(j, "checkpoint", r.checkpoint);
  Phase(j, "transfer", r.transfer);
  Phase(j, "commit", r.commit);
  Phase(j, "unlock", r.unlock);
  Phase(j, "downtime", r.downtime);
  Phase(j, "total", r.total);
  j.EndObject();
  j.Key("destination_us");
  j.BeginObject();
  Phase(j, "lock", r.destination.lock);
  Phase(j, "restore", r.destination.restore);
  Phase(j, "takeover", r.destination.takeover);
  Phase(j, "resume", r.destination.resume);
  Phase(j, "unlock", r.destination.unlock);
  j.EndObject();
  j.EndObject();
  return std::move(j).Take();
}

std::string ReceiveReportText(const ReceiveResult& r) {
  return absl::StrCat(
      "soccr receive: ", r.connections.size(), " connections, ",
      FormatBytes(r.image_bytes), " of image\n", "  lock        ",
      Ms(r.times.lock), "\n", "  restore     ", Ms(r.times.restore), "\n",
      "  takeover    ", Ms(r.times.takeover), "\n", "  resume      ",
      Ms(r.times.resume), "\n", "  unlock      ", Ms(r.times.unlock), "\n");
}

std::string ReceiveReportJson(const ReceiveResult& r) {
  JsonWriter j;
  j.BeginObject();
  j.Key("connections");
  j.Uint(r.connections.size());
  j.Key("image_bytes");
  j.Uint(r.image_bytes);
  j.Key("phases_us");
  j.BeginObject();
  Phase(j, "lock", r.times.lock);
  Phase(j, "restore", r.times.restore);
  Phase(j, "takeover", r.times.takeover);
  Phase(j, "resume", r.times.resume);
  Phase(j, "unlock", r.times.unlock);
  j.EndObject();
  j.EndObject();
  return std::move(j).Take();
}

std::string RecoverReportJson(const RecoverResult& r) {
  JsonWriter j;
  j.BeginObject();
  j.Key("committed");
  j.Bool(r.committed);
  j.Key("connections");
  j.Uint(r.connections);
  j.Key("resumed");
  j.Uint(r.resumed);
  j.Key("handed_over");
  j.Uint(r.handed_over);
  j.Key("to");
  if (r.handed_to.empty()) {
    j.Null();
  } else {
    j.String(r.handed_to);
  }
  j.Key("lock");
  if (r.lock.empty()) {
    j.Null();
  } else {
    j.String(r.lock);
  }
  j.Key("lock_removed");
  j.Bool(r.lock_removed);
  j.Key("image");
  if (r.image.empty()) {
    j.Null();
  } else {
    j.String(r.image);
  }
  j.Key("summary");
  j.String(r.summary);
  j.EndObject();
  return std::move(j).Take();
}

ExecFailure ExecWithConnections(std::vector<OwnedFd> connections,
                                const std::vector<std::string>& names,
                                const std::string& program,
                                const std::vector<std::string>& argv) {
  const int n = static_cast<int>(connections.size());
  constexpr int kFirst = 3;  // SD_LISTEN_FDS_START
  // Out of the way first, so that moving one onto 3+i never closes another.
  std::vector<OwnedFd> high;
  for (OwnedFd& c : connections) {
    OwnedFd h(::fcntl(c.get(), F_DUPFD_CLOEXEC, kFirst + n));
    if (!h) {
      return {cli::kExitFailed, internal::ErrnoStatus(errno, "receive: fcntl")};
    }
    c.reset();
    high.push_back(std::move(h));
  }
  for (int i = 0; i < n; ++i) {
    if (::dup2(high[i].get(), kFirst + i) < 0) {
      return {cli::kExitFailed, internal::ErrnoStatus(errno, "receive: dup2")};
    }
    // dup2 clears close-on-exec on the new descriptor.
    high[i].reset();
  }
  ::setenv("LISTEN_FDS", absl::StrCat(n).c_str(), 1);
  ::setenv("LISTEN_PID", absl::StrCat(::getpid()).c_str(), 1);
  ::setenv("LISTEN_FDNAMES", absl::StrJoin(names, ":").c_str(), 1);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  fflush(stdout);
  fflush(stderr);
  ::execv(program.c_str(), args.data());
  const int err = errno;
  // The connections are live; closing them would reset the peers. Put them
  // back in repair mode so that closing sends nothing (they are lost to
  // us either way, but the peers' connections are not torn down).
  // Best effort: nothing is left to do if it fails.
  for (int i = 0; i < n; ++i) {
    (void)sys::LinuxSys().SetRepair(BorrowedFd(kFirst + i),
                                    sys::RepairMode::kOn);
  }
  return {cli::kExitCannotExecute,
          internal::ErrnoStatus(err, absl::StrCat("execv ", program))};
}

}  // namespace soccr::tools
