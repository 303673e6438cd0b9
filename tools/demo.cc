#include "tools/demo.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "soccr/internal/status_code.h"
#include "soccr/loopback/private_netns.h"
#include "soccr/loopback/tcp_pair.h"
#include "soccr/soccr.h"
#include "soccr/status_macros.h"
#include "tools/image_file.h"
#include "tools/restore_command.h"

namespace soccr::tools {
namespace {

using loopback::Pattern;

constexpr absl::Duration kIdleTimeout = absl::Seconds(60);
constexpr uint64_t kMinBytes = 64 << 10;
constexpr uint64_t kMaxBytes = 1 << 30;

// Sends `out` and receives `expected.size()` bytes on `fd` at the same
// time, comparing every byte received with `expected`.
absl::Status Exchange(BorrowedFd fd, absl::string_view out,
                      absl::string_view expected, absl::string_view who,
                      Progress& progress) {
  size_t sent = 0;
  size_t received = 0;
  std::string buf(1 << 20, '\0');
  absl::Time last_progress = absl::Now();
  while (sent < out.size() || received < expected.size()) {
    struct pollfd p = {fd.get(), 0, 0};
    if (received < expected.size()) p.events |= POLLIN;
    if (sent < out.size()) p.events |= POLLOUT;
    const int n = ::poll(&p, 1, 1000);
    if (n < 0 && errno != EINTR) return internal::ErrnoStatus(errno, "poll");
    if (n <= 0) {
      if (absl::Now() - last_progress > kIdleTimeout) {
        return absl::DeadlineExceededError(absl::StrCat(
            who, ": no progress for ", absl::FormatDuration(kIdleTimeout),
            " (sent ", sent, " of ", out.size(), ", received ", received,
            " of ", expected.size(), " bytes)"));
      }
      continue;
    }
    if ((p.revents & (POLLIN | POLLERR | POLLHUP)) != 0 &&
        received < expected.size()) {
      const size_t want = std::min(buf.size(), expected.size() - received);
      const ssize_t r = ::recv(fd.get(), buf.data(), want, MSG_DONTWAIT);
      if (r < 0 && errno != EAGAIN && errno != EINTR) {
        return internal::ErrnoStatus(
            errno, absl::StrCat(who, ": recv after ", received, " bytes"));
      }
      if (r == 0) {
        return absl::DataLossError(
            absl::StrCat(who, ": the connection ended after ", received, " of ",
                         expected.size(), " bytes"));
      }
      if (r > 0) {
        const absl::string_view got(buf.data(), static_cast<size_t>(r));
        if (got != expected.substr(received, got.size())) {
          size_t i = 0;
          while (got[i] == expected[received + i]) ++i;
          return absl::DataLossError(absl::StrCat(who, ": byte ", received + i,
                                                  " of the stream differs"));
        }
        received += got.size();
        last_progress = absl::Now();
      }
    }
    if ((p.revents & POLLOUT) != 0 && sent < out.size()) {
      const ssize_t w = ::send(fd.get(), out.data() + sent, out.size() - sent,
                               MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        return internal::ErrnoStatus(
            errno, absl::StrCat(who, ": send after ", sent, " bytes"));
      }
      if (w > 0) {
        sent += static_cast<size_t>(w);
        last_progress = absl::Now();
      }
    }
    progress.Update(sent + received, out.size() + expected.size());
  }
  return absl::OkStatus();
}

// Writes all of `text` to the pipe `fd`.
void Tell(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// One line from the pipe `fd` (without the newline); empty at EOF.
std::string Hear(int fd) {
  std::string line;
  char c;
  while (true) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') return line;
    line.push_back(c);
  }
}

// The new owner of the connection, in a forked process: restores it from
// the image, says so on `tell`, finishes both streams and checks the peer's.
// Reports "restored <ns> <pid>", then "ok" or "error <message>".
[[noreturn]] void RestoredClient(const std::string& image,
                                 absl::string_view up_rest,
                                 absl::string_view down, int tell) {
  const absl::Time start = absl::Now();
  Progress none = Progress::None();
  absl::StatusOr<RestoredSocket> restored = RestoreFromImage(image, 0, none);
  absl::StatusOr<OwnedFd> fd = restored.ok()
                                   ? std::move(*restored).Resume()
                                   : absl::StatusOr<OwnedFd>(restored.status());
  if (!fd.ok()) {
    Tell(tell, absl::StrCat("error ", fd.status().message(), "\n"));
    _exit(1);
  }
  Tell(tell,
       absl::StrCat("restored ", absl::ToInt64Nanoseconds(absl::Now() - start),
                    " ", ::getpid(), "\n"));
  const absl::Status s =
      Exchange(fd->borrow(), up_rest, down, "restored client", none);
  Tell(tell, s.ok() ? std::string("ok\n")
                    : absl::StrCat("error ", s.message(), "\n"));
  _exit(s.ok() ? 0 : 1);
}

}  // namespace

absl::StatusOr<DemoReport> RunDemo(const DemoOptions& options,
                                   Progress& progress) {
  if (options.bytes < kMinBytes || options.bytes > kMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bytes ", options.bytes, " is not between ", kMinBytes,
                     " (64 KiB) "
                     "and ",
                     kMaxBytes, " (1 GiB)"));
  }
  const size_t bytes = options.bytes;
  SOCCR_RETURN_IF_ERROR(loopback::EnterPrivateNetns());
  // Buffers that hold each whole stream, so that the queues can be full
  // mid-stream (raised in this namespace only; see private_netns.h).
  const int64_t buffers =
      std::max<int64_t>(16 << 20, 2 * static_cast<int64_t>(bytes));
  if (absl::Status s = loopback::RaiseTcpBuffers(buffers, buffers); !s.ok()) {
    return s;
  }

  DemoReport report;
  std::string dir;
  if (options.image.empty()) {
    const char* tmp = ::getenv("TMPDIR");
    dir = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                       "/soccr-demo.XXXXXX");
    if (::mkdtemp(dir.data()) == nullptr) {
      return internal::ErrnoStatus(errno, absl::StrCat("mkdtemp ", dir));
    }
  }
  const std::string image = options.image.empty()
                                ? absl::StrCat(dir, "/connection.soccr")
                                : options.image;
  absl::Cleanup remove_temp = [&] {
    if (dir.empty()) return;
    ::unlink(image.c_str());
    ::rmdir(dir.c_str());
  };
  if (dir.empty()) report.image_path = image;

  // The server's small receive buffer keeps its window small, so most of
  // what the client writes stays in the client's send queue.
  progress.Step("streaming both ways");
  const int server_rcvbuf =
      static_cast<int>(std::clamp<uint64_t>(bytes / 8, 4096, 256 << 10));
  absl::StatusOr<loopback::TcpPair> pair =
      loopback::ConnectedPair(loopback::Family::kV4, 0, server_rcvbuf);
  if (!pair.ok()) return pair.status();
  const std::string down = Pattern(bytes, 1);  // server -> client
  const std::string up = Pattern(bytes, 2);    // client -> server
  const size_t half = bytes / 2;
  if (absl::Status s = loopback::WriteAll(
          pair->server.borrow(), absl::string_view(down).substr(0, half));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = loopback::WaitInq(pair->client.borrow(), half);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<size_t> up_written =
      loopback::WriteSome(pair->client.borrow(), up);
  if (!up_written.ok()) return up_written.status();
  for (BorrowedFd fd : {pair->server.borrow(), pair->client.borrow()}) {
    SOCCR_RETURN_IF_ERROR(loopback::WaitNothingInFlight(fd));
  }

  // Checkpoint into the image file, then close the original silently.
  {
    progress.Step("checkpointing");
    const absl::Time t0 = absl::Now();
    absl::StatusOr<PausedSocket> paused =
        PausedSocket::Pause(pair->client.borrow());
    if (!paused.ok()) return paused.status();
    absl::StatusOr<ConnectionState> state = Checkpoint(*paused);
    if (!state.ok()) return state.status();
    report.checkpoint_time = absl::Now() - t0;
    if (state->inq_len == 0 || state->outq_len == 0) {
      return absl::InternalError(absl::StrCat(
          "the checkpoint caught ", state->inq_len,
          " bytes in the receive queue and ", state->outq_len,
          " in the send queue; the demo wants data in both (a larger "
          "--bytes helps)"));
    }
    report.endpoints = state->Endpoints();
    report.inq_len = state->inq_len;
    report.outq_len = state->outq_len;
    report.unsent_len = state->unsent_len;
    progress.Step(absl::StrCat("writing ", image));
    const absl::Time t1 = absl::Now();
    absl::StatusOr<uint64_t> size = WriteImageFile(image, {*state});
    if (!size.ok()) return size.status();
    report.write_time = absl::Now() - t1;
    report.image_bytes = *size;
    std::move(*paused).LeaveInRepairMode();
    pair->client.reset();  // in repair mode: the peer sees nothing
  }

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return internal::ErrnoStatus(errno, "pipe2");
  }
  OwnedFd hear(pipe_fds[0]);
  OwnedFd tell(pipe_fds[1]);
  progress.Clear();
  const pid_t child = ::fork();
  if (child < 0) return internal::ErrnoStatus(errno, "fork");
  if (child == 0) {
    pair->server.reset();
    hear.reset();
    RestoredClient(image, absl::string_view(up).substr(*up_written), down,
                   tell.get());
  }
  tell.reset();
  auto reap = [&] {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  };

  // The peer waits until the connection is live again.
  const std::string restored = Hear(hear.get());
  if (!absl::StartsWith(restored, "restored ")) {
    reap();
    return absl::InternalError(absl::StrCat(
        "the restoring process failed: ",
        absl::StripPrefix(restored.empty() ? "it died" : restored, "error ")));
  }
  {
    const std::vector<absl::string_view> words = absl::StrSplit(restored, ' ');
    int64_t ns = 0;
    if (words.size() == 3 && absl::SimpleAtoi(words[1], &ns) &&
        absl::SimpleAtoi(words[2], &report.restored_pid)) {
      report.restore_time = absl::Nanoseconds(ns);
    }
  }
  progress.Step("finishing both streams");
  const absl::Status mine =
      Exchange(pair->server.borrow(), absl::string_view(down).substr(half), up,
               "peer", progress);
  progress.Clear();
  if (!mine.ok()) {
    ::kill(child, SIGKILL);
    reap();
    return mine;
  }
  const std::string verdict = Hear(hear.get());
  const int status = reap();
  if (verdict != "ok" || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::DataLossError(absl::StrCat(
        "the restored client failed: ",
        verdict.empty() ? "it died"
                        : std::string(absl::StripPrefix(verdict, "error "))));
  }
  report.down_verified = bytes;
  report.up_verified = bytes;
  return report;
}

}  // namespace soccr::tools
