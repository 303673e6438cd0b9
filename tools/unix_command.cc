#include "tools/unix_command.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "soccr/image/image.h"
#include "soccr/internal/status_code.h"
#include "soccr/unix/checkpoint.h"
#include "soccr/unix/image.h"
#include "soccr/unix/restore.h"
#include "tools/cli.h"
#include "tools/image_file.h"
#include "tools/json.h"
#include "tools/pidfd.h"

namespace soccr::tools {
namespace {

absl::Status Prefixed(absl::string_view prefix, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(prefix, ": ", s.message()));
}

absl::Status Errno(int err, absl::string_view what) {
  return internal::ErrnoStatus(err, what);
}

std::string Flags(const UnixSocketState& s) {
  std::string out;
  if (s.shutdown_receive) absl::StrAppend(&out, " shut-rd");
  if (s.shutdown_send) absl::StrAppend(&out, " shut-wr");
  if (s.pass_credentials) absl::StrAppend(&out, " SO_PASSCRED");
  if (s.pass_security) absl::StrAppend(&out, " SO_PASSSEC");
  return out;
}

absl::string_view UnixStateName(UnixSocketState::State state) {
  switch (state) {
    case UnixSocketState::State::kUnconnected:
      return "unconnected";
    case UnixSocketState::State::kListening:
      return "listening";
    case UnixSocketState::State::kConnected:
      return "connected";
  }
  return "unknown";
}

absl::string_view UnixKindName(UnixAddress::Kind kind) {
  switch (kind) {
    case UnixAddress::Kind::kUnnamed:
      return "unnamed";
    case UnixAddress::Kind::kPath:
      return "path";
    case UnixAddress::Kind::kAbstract:
      return "abstract";
  }
  return "unknown";
}

void JsonUnixAddress(JsonWriter& j, absl::string_view key,
                     const UnixAddress& a) {
  j.Key(key);
  if (!a.named()) {
    j.Null();
    return;
  }
  j.BeginObject();
  j.Key("kind");
  j.String(UnixKindName(a.kind));
  j.Key("name");
  j.String(a.name);
  j.Key("text");
  j.String(a.ToString());
  j.EndObject();
}

// One socket of an image or a dump, every field the checkpoint recorded.
void JsonUnixSocket(JsonWriter& j, size_t index, const UnixSocketState& s) {
  j.BeginObject();
  j.Key("index");
  j.Uint(index);
  j.Key("type");
  j.String(UnixTypeName(s.type));
  j.Key("state");
  j.String(UnixStateName(s.state));
  JsonUnixAddress(j, "local", s.local);
  JsonUnixAddress(j, "peer", s.peer);
  j.Key("inode");
  j.Uint(s.inode);
  j.Key("peer_inode");
  j.Uint(s.peer_inode);
  j.Key("shutdown_receive");
  j.Bool(s.shutdown_receive);
  j.Key("shutdown_send");
  j.Bool(s.shutdown_send);
  j.Key("pass_credentials");
  j.Bool(s.pass_credentials);
  j.Key("pass_security");
  j.Bool(s.pass_security);
  j.Key("sndbuf");
  j.Int(s.send_buffer);
  j.Key("rcvbuf");
  j.Int(s.receive_buffer);
  j.Key("peek_offset");
  j.Int(s.peek_offset);
  j.Key("backlog");
  j.Uint(s.backlog);
  j.Key("queued_bytes");
  j.Uint(s.QueuedBytes());
  j.Key("messages");
  j.BeginArray();
  for (const UnixMessage& m : s.queue) {
    j.BeginObject();
    j.Key("bytes");
    j.Uint(m.data.size());
    j.Key("head_hex");
    j.String(absl::BytesToHexString(absl::string_view(m.data).substr(0, 32)));
    j.Key("credentials");
    if (m.credentials.has_value()) {
      j.BeginObject();
      j.Key("pid");
      j.Int(m.credentials->pid);
      j.Key("uid");
      j.Uint(m.credentials->uid);
      j.Key("gid");
      j.Uint(m.credentials->gid);
      j.EndObject();
    } else {
      j.Null();
    }
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
}

absl::StatusOr<std::vector<UnixSocketState>> ReadUnixImageFile(
    const std::string& path, bool verify_checksums) {
  absl::StatusOr<ImageFile> file = ImageFile::Read(path);
  if (!file.ok()) return file.status();
  ImageReadOptions options;
  options.verify_checksums = verify_checksums;
  absl::StatusOr<std::vector<UnixSocketState>> sockets =
      ParseUnixImage(file->bytes(), options);
  if (!sockets.ok()) return Prefixed(path, sockets.status());
  return sockets;
}

// A read-only memfd holding `queue` as RestoreUnixAndExec documents.
absl::StatusOr<OwnedFd> UnreadMemfd(const UnixSocketState& s) {
  OwnedFd fd(::memfd_create("soccr-unread", MFD_ALLOW_SEALING));
  if (!fd) return Errno(errno, "memfd_create");
  std::string bytes;
  for (const UnixMessage& m : s.queue) {
    if (s.type != UnixType::kStream) {
      const uint32_t n = static_cast<uint32_t>(m.data.size());
      for (int i = 0; i < 4; ++i)
        bytes.push_back(static_cast<char>(n >> (8 * i)));
    }
    bytes += m.data;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, "write(memfd)");
    }
    done += static_cast<size_t>(n);
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return Errno(errno, "lseek(memfd)");
  if (::fcntl(fd.get(), F_ADD_SEALS,
              F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
    return Errno(errno, "fcntl(F_ADD_SEALS)");
  }
  return fd;
}

// Moves `fd` to descriptor `target`, inheritable.
absl::Status PlaceAt(OwnedFd& fd, int target) {
  if (fd.get() != target) {
    if (::dup2(fd.get(), target) < 0) {
      return Errno(errno, absl::StrCat("dup2(", target, ")"));
    }
    fd.reset();
    return absl::OkStatus();
  }
  const int flags = ::fcntl(target, F_GETFD);
  if (flags < 0 || ::fcntl(target, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
    return Errno(errno, "fcntl(F_SETFD)");
  }
  (void)fd.release();
  return absl::OkStatus();
}

}  // namespace

bool IsUnixSocket(BorrowedFd fd) {
  int domain = 0;
  socklen_t len = sizeof(domain);
  return ::getsockopt(fd.get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
         domain == AF_UNIX;
}

absl::StatusOr<UnixDumpResult> DumpUnixSockets(const UnixDumpOptions& o) {
  if (o.fds.empty() || o.fds.size() > 2) {
    return absl::InvalidArgumentError(
        "give one --fd, or two for both ends of a pair");
  }
  std::vector<OwnedFd> copies;
  for (int fd : o.fds) {
    const std::string what = absl::StrCat("fd ", fd, " of process ", o.pid);
    absl::StatusOr<OwnedFd> copy = TakeDescriptor(o.pid, fd);
    if (!copy.ok()) return copy.status();
    if (!IsUnixSocket(copy->borrow())) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": not a unix socket"));
    }
    copies.push_back(*std::move(copy));
  }
  UnixDumpResult result;
  if (copies.size() == 2) {
    absl::StatusOr<UnixPairState> pair =
        CheckpointUnixPair(copies[0].borrow(), copies[1].borrow());
    if (!pair.ok()) {
      return Prefixed(absl::StrCat("fds ", o.fds[0], " and ", o.fds[1],
                                   " of process ", o.pid),
                      pair.status());
    }
    result.sockets = {pair->a, pair->b};
  } else {
    absl::StatusOr<UnixSocketState> s =
        CheckpointUnixSocket(copies[0].borrow());
    if (!s.ok()) {
      return Prefixed(absl::StrCat("fd ", o.fds[0], " of process ", o.pid),
                      s.status());
    }
    result.sockets = {*std::move(s)};
  }
  if (o.output == "-") {
    absl::StatusOr<std::string> bytes = SerializeUnixImage(result.sockets);
    if (!bytes.ok()) return bytes.status();
    result.image_bytes = bytes->size();
    if (absl::Status s =
            WriteUnixImage(BorrowedFd(STDOUT_FILENO), result.sockets);
        !s.ok()) {
      return s;
    }
  } else {
    absl::StatusOr<uint64_t> written = WriteFileSafely(
        o.output, absl::StrCat("write image ", o.output),
        [&](BorrowedFd fd) { return WriteUnixImage(fd, result.sockets); });
    if (!written.ok()) return written.status();
    result.image_bytes = *written;
  }
  return result;
}

std::string UnixDumpReport(const UnixDumpOptions& o, const UnixDumpResult& r) {
  std::string out;
  for (size_t i = 0; i < r.sockets.size(); ++i) {
    const UnixSocketState& s = r.sockets[i];
    absl::StrAppend(&out, "dumped fd ", o.fds[i], " of process ", o.pid, ": ",
                    s.Describe(), Flags(s), "\n");
    absl::StrAppend(&out, "  queue     ", s.queue.size(), " message(s), ",
                    s.QueuedBytes(), " bytes\n");
  }
  absl::StrAppend(&out, "  image     ", o.output, ", ", r.image_bytes,
                  " bytes\n");
  absl::StrAppend(&out,
                  "  original  untouched: the queues were peeked, the "
                  "process carries on\n");
  return out;
}

std::string UnixDumpReportJson(const UnixDumpOptions& o,
                               const UnixDumpResult& r) {
  JsonWriter j;
  j.BeginObject();
  j.Key("pid");
  j.Int(o.pid);
  j.Key("fds");
  j.BeginArray();
  for (int fd : o.fds) j.Int(fd);
  j.EndArray();
  j.Key("image");
  j.String(o.output);
  j.Key("image_bytes");
  j.Uint(r.image_bytes);
  j.Key("original");
  j.String("untouched");
  j.Key("sockets");
  j.BeginArray();
  for (size_t i = 0; i < r.sockets.size(); ++i) {
    JsonUnixSocket(j, i, r.sockets[i]);
  }
  j.EndArray();
  j.EndObject();
  return std::move(j).Take();
}

absl::StatusOr<bool> IsUnixImageFile(const std::string& path) {
  absl::StatusOr<ImageFile> file = ImageFile::Read(path);
  if (!file.ok()) return file.status();
  ImageReadOptions options;
  options.verify_checksums = false;  // the real read checks them
  absl::StatusOr<ImageReader> reader =
      ImageReader::Open(file->bytes(), nullptr, options);
  if (!reader.ok() || reader->size() == 0) return false;
  absl::StatusOr<bool> is_unix = IsUnixRecord(*reader, 0);
  return is_unix.ok() && *is_unix;
}

absl::StatusOr<std::string> InspectUnixImage(const std::string& path,
                                             bool verify_checksums) {
  absl::StatusOr<std::vector<UnixSocketState>> sockets =
      ReadUnixImageFile(path, verify_checksums);
  if (!sockets.ok()) return sockets.status();
  std::string out =
      absl::StrCat(path, ": soccr image 1.", kUnixImageMinorVersion, ", ",
                   sockets->size(), " unix socket(s)\n");
  for (size_t i = 0; i < sockets->size(); ++i) {
    const UnixSocketState& s = (*sockets)[i];
    absl::StrAppend(&out, "socket ", i, ": ", s.Describe(), Flags(s), "\n");
    absl::StrAppend(&out, "  inode       ", s.inode, " (peer ", s.peer_inode,
                    ")\n");
    absl::StrAppend(&out, "  buffers     sndbuf ", s.send_buffer, " rcvbuf ",
                    s.receive_buffer, " peek offset ", s.peek_offset, "\n");
    if (s.state == UnixSocketState::State::kListening) {
      absl::StrAppend(&out, "  backlog     ", s.backlog, "\n");
    }
    absl::StrAppend(&out, "  queue       ", s.queue.size(), " message(s), ",
                    s.QueuedBytes(), " bytes\n");
    for (size_t m = 0; m < s.queue.size() && m < 8; ++m) {
      const UnixMessage& msg = s.queue[m];
      absl::StrAppend(&out, "    [", m, "] ", msg.data.size(), " bytes");
      if (msg.credentials) {
        absl::StrAppend(&out, " from pid ", msg.credentials->pid, " uid ",
                        msg.credentials->uid, " gid ", msg.credentials->gid);
      }
      absl::StrAppend(&out, " \"", absl::CHexEscape(msg.data.substr(0, 32)),
                      msg.data.size() > 32 ? "\"..." : "\"", "\n");
    }
    if (s.queue.size() > 8) {
      absl::StrAppend(&out, "    ... ", s.queue.size() - 8, " more\n");
    }
  }
  return out;
}

absl::StatusOr<std::string> InspectUnixImageJson(const std::string& path,
                                                 bool verify_checksums) {
  absl::StatusOr<ImageFile> file = ImageFile::Read(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::vector<UnixSocketState>> sockets =
      ReadUnixImageFile(path, verify_checksums);
  if (!sockets.ok()) return sockets.status();
  JsonWriter j;
  j.BeginObject();
  j.Key("path");
  j.String(path);
  j.Key("file_bytes");
  j.Uint(file->bytes().size());
  j.Key("format_version");
  j.String(absl::StrCat("1.", kUnixImageMinorVersion));
  j.Key("checksums_verified");
  j.Bool(verify_checksums);
  j.Key("sockets");
  j.BeginArray();
  for (size_t i = 0; i < sockets->size(); ++i) {
    JsonUnixSocket(j, i, (*sockets)[i]);
  }
  j.EndArray();
  j.EndObject();
  return std::move(j).Take();
}

ExecFailure RestoreUnixAndExec(const UnixRestoreCommand& c) {
  ExecFailure failure{cli::kExitFailed, absl::OkStatus()};
  if (c.argv.empty()) {
    failure.status = absl::InvalidArgumentError("no program to run");
    return failure;
  }
  absl::StatusOr<std::string> program = FindProgram(c.argv[0], &failure);
  if (!program.ok()) {
    failure.status = program.status();
    return failure;
  }
  absl::StatusOr<std::vector<UnixSocketState>> sockets =
      ReadUnixImageFile(c.image, true);
  if (!sockets.ok()) {
    failure.status = sockets.status();
    return failure;
  }
  OwnedFd fd3, fd4;
  std::string unread_count;
  if (c.reconnect) {
    if (sockets->size() != 1) {
      failure.status = absl::InvalidArgumentError(absl::StrCat(
          c.image, ": --reconnect restores one socket; the image holds ",
          sockets->size()));
      return failure;
    }
    UnixReconnectOptions options;
    options.allow_reconnect = true;
    if (c.reconnect_path) {
      UnixAddress a;
      if (!c.reconnect_path->empty() && (*c.reconnect_path)[0] == '@') {
        a.kind = UnixAddress::Kind::kAbstract;
        a.name = c.reconnect_path->substr(1);
      } else {
        a.kind = UnixAddress::Kind::kPath;
        a.name = *c.reconnect_path;
      }
      options.address = a;
    }
    absl::StatusOr<ReconnectedUnixSocket> r =
        RestoreUnixReconnect((*sockets)[0], options);
    if (!r.ok()) {
      failure.status = r.status();
      return failure;
    }
    absl::StatusOr<OwnedFd> memfd = UnreadMemfd((*sockets)[0]);
    if (!memfd.ok()) {
      failure.status = memfd.status();
      return failure;
    }
    fd3 = std::move(r->fd);
    fd4 = *std::move(memfd);
    unread_count = absl::StrCat(r->unread.size());
  } else {
    if (sockets->size() != 2) {
      failure.status = absl::FailedPreconditionError(absl::StrCat(
          c.image, ": holds ", sockets->size(),
          " socket(s), not both ends of a pair: a lone end whose peer is "
          "outside can only be reconnected (--reconnect)"));
      return failure;
    }
    absl::StatusOr<RestoredUnixPair> pair =
        RestoreUnixPair(UnixPairState{(*sockets)[0], (*sockets)[1]});
    if (!pair.ok()) {
      failure.status = pair.status();
      return failure;
    }
    fd3 = std::move(pair->a);
    fd4 = std::move(pair->b);
  }
  // Out of the way of 3 and 4 first, so that placing one does not close
  // the other.
  for (OwnedFd* f : {&fd3, &fd4}) {
    if (f->get() == kRestoredFd || f->get() == kRestoredFd + 1) {
      const int moved = ::fcntl(f->get(), F_DUPFD_CLOEXEC, 10);
      if (moved < 0) {
        failure.status = Errno(errno, "fcntl(F_DUPFD_CLOEXEC)");
        return failure;
      }
      f->reset(moved);
    }
  }
  if (absl::Status s = PlaceAt(fd3, kRestoredFd); !s.ok()) {
    failure.status = s;
    return failure;
  }
  if (absl::Status s = PlaceAt(fd4, kRestoredFd + 1); !s.ok()) {
    failure.status = s;
    return failure;
  }
  if (!unread_count.empty()) {
    ::setenv("SOCCR_UNREAD_MESSAGES", unread_count.c_str(), 1);
  }
  if (c.json) {
    JsonWriter j;
    j.BeginObject();
    j.Key("image");
    j.String(c.image);
    j.Key("program");
    j.String(*program);
    j.Key("fds");
    j.BeginArray();
    j.Int(kRestoredFd);
    j.Int(kRestoredFd + 1);
    j.EndArray();
    j.Key("reconnected");
    j.Bool(c.reconnect);
    j.Key("unread_messages");
    if (c.reconnect) {
      j.Uint((*sockets)[0].queue.size());
    } else {
      j.Null();
    }
    j.Key("sockets");
    j.BeginArray();
    for (size_t i = 0; i < sockets->size(); ++i) {
      JsonUnixSocket(j, i, (*sockets)[i]);
    }
    j.EndArray();
    j.EndObject();
    const std::string out = std::move(j).Take();
    fwrite(out.data(), 1, out.size(), stderr);
    fflush(stderr);
  }
  std::vector<char*> argv;
  for (const std::string& a : c.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(program->c_str(), argv.data());
  const int err = errno;
  ::close(kRestoredFd);
  ::close(kRestoredFd + 1);
  failure.exit_status =
      err == ENOENT ? cli::kExitNotFound : cli::kExitCannotExecute;
  failure.status = Errno(err, absl::StrCat("execv(", *program, ")"));
  return failure;
}

}  // namespace soccr::tools
