#include "soccr/migrate/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "soccr/fd.h"
#include "soccr/internal/status_code.h"

namespace soccr::migrate {
namespace {

std::string Dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash + 1);
}

}  // namespace

absl::Status WriteFileDurably(const std::string& path, const std::string& bytes,
                              int mode) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  OwnedFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return internal::ErrnoStatus(errno, absl::StrCat("create ", tmp));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      (void)::unlink(tmp.c_str());
      return internal::ErrnoStatus(err, absl::StrCat("write ", tmp));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    (void)::unlink(tmp.c_str());
    return internal::ErrnoStatus(err, absl::StrCat("fsync and rename ", path));
  }
  OwnedFd dir(::open(Dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) (void)::fsync(dir.get());
  return absl::OkStatus();
}

absl::Status WriteJournal(const std::string& path, const Journal& j) {
  std::string text = absl::StrCat(
      "soccr-journal 1\nphase ", j.phase, "\nsession ", j.session, "\npid ",
      j.pid, "\nfds ", absl::StrJoin(j.fds, ","), "\nlock ", j.lock, "\nto ",
      j.to, "\nrelease_address ", j.release_address, "\ndev ", j.dev,
      "\nimage ", j.image, "\n");
  return WriteFileDurably(path, text, 0600);
}

absl::StatusOr<Journal> ReadJournal(const std::string& path) {
  OwnedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return internal::ErrnoStatus(errno, absl::StrCat("open ", path));
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1 << 20)) {
      return absl::DataLossError(absl::StrCat(path, ": too large"));
    }
  }
  Journal j;
  bool magic = false;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits(' ', 1));
    const std::string& v = kv.second;
    if (kv.first == "soccr-journal") {
      magic = v == "1";
    } else if (kv.first == "phase") {
      j.phase = v;
    } else if (kv.first == "session") {
      j.session = v;
    } else if (kv.first == "pid") {
      if (!absl::SimpleAtoi(v, &j.pid)) return absl::DataLossError("pid");
    } else if (kv.first == "fds") {
      for (absl::string_view f : absl::StrSplit(v, ',', absl::SkipEmpty())) {
        int fdn = -1;
        if (!absl::SimpleAtoi(f, &fdn)) return absl::DataLossError("fds");
        j.fds.push_back(fdn);
      }
    } else if (kv.first == "lock") {
      j.lock = v;
    } else if (kv.first == "to") {
      j.to = v;
    } else if (kv.first == "release_address") {
      j.release_address = v;
    } else if (kv.first == "dev") {
      j.dev = v;
    } else if (kv.first == "image") {
      j.image = v;
    }
  }
  if (!magic || (j.phase != "locked" && j.phase != "committed")) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a soccr send journal"));
  }
  return j;
}

}  // namespace soccr::migrate
