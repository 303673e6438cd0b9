// echo_app: the application whose connections the migration tests move.
// It echoes back every byte each connection sends it.
//
//   echo_app serve ADDR PORT N READY_FILE   listen, touch READY_FILE, accept
//                                           N connections, echo
//   echo_app inherit NAMES_FILE             echo on the descriptors socket
//                                           activation passed (LISTEN_FDS),
//                                           after writing "N NAMES" to
//                                           NAMES_FILE
//
// It exits when every connection has ended. SIGUSR1 quiesces it for a
// move: it stops reading, writes out what it has read, and stops itself
// (SIGSTOP), so that no byte sits in its own memory, where no migration of
// sockets could carry it; SIGCONT resumes it.

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

volatile sig_atomic_t quiesce = 0;
void OnUsr1(int) { quiesce = 1; }

int Fail(const char* what) {
  fprintf(stderr, "echo_app: %s: %s\n", what, strerror(errno));
  return 1;
}

int Echo(std::vector<int> fds) {
  std::vector<std::string> pending(fds.size());
  size_t open_count = fds.size();
  std::vector<bool> open(fds.size(), true);
  char buf[65536];
  while (open_count > 0) {
    if (quiesce) {
      bool empty = true;
      for (const std::string& q : pending) empty = empty && q.empty();
      if (empty) {
        ::raise(SIGSTOP);
        quiesce = 0;
      }
    }
    std::vector<pollfd> p;
    for (size_t i = 0; i < fds.size(); ++i) {
      short ev = 0;
      if (open[i] && !quiesce) ev = pending[i].size() < (4 << 20) ? POLLIN : 0;
      if (!pending[i].empty()) ev |= POLLOUT;
      p.push_back({open[i] || !pending[i].empty() ? fds[i] : -1, ev, 0});
    }
    if (::poll(p.data(), p.size(), quiesce ? 10 : -1) < 0 && errno != EINTR) {
      return Fail("poll");
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = ::recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
          pending[i].append(buf, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          if (open[i]) --open_count;
          open[i] = false;
        }
      }
      if (!pending[i].empty()) {
        const ssize_t n = ::send(fds[i], pending[i].data(), pending[i].size(),
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) pending[i].erase(0, static_cast<size_t>(n));
        if (n < 0 && errno != EAGAIN && errno != EINTR) pending[i].clear();
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  struct sigaction sa = {};
  sa.sa_handler = OnUsr1;
  ::sigaction(SIGUSR1, &sa, nullptr);
  if (argc == 6 && strcmp(argv[1], "serve") == 0) {
    const bool v6 = strchr(argv[2], ':') != nullptr;
    sockaddr_storage ss = {};
    socklen_t len;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(static_cast<uint16_t>(atoi(argv[3])));
      inet_pton(AF_INET6, argv[2], &a->sin6_addr);
      len = sizeof(*a);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(static_cast<uint16_t>(atoi(argv[3])));
      inet_pton(AF_INET, argv[2], &a->sin_addr);
      len = sizeof(*a);
    }
    const int l = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(l, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      return Fail("bind");
    }
    if (::listen(l, 1024) != 0) return Fail("listen");
    FILE* f = fopen(argv[5], "w");
    if (f != nullptr) fclose(f);
    std::vector<int> fds;
    for (int i = 0; i < atoi(argv[4]); ++i) {
      const int c = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return Fail("accept");
      fds.push_back(c);
    }
    ::close(l);
    return Echo(fds);
  }
  if (argc == 3 && strcmp(argv[1], "inherit") == 0) {
    const char* n = getenv("LISTEN_FDS");
    const char* pid = getenv("LISTEN_PID");
    const char* names = getenv("LISTEN_FDNAMES");
    if (n == nullptr || pid == nullptr || atoi(pid) != getpid()) {
      fprintf(stderr, "echo_app: LISTEN_FDS/LISTEN_PID not for us\n");
      return 1;
    }
    FILE* f = fopen(argv[2], "w");
    if (f != nullptr) {
      fprintf(f, "%s %s\n", n, names != nullptr ? names : "");
      fclose(f);
    }
    std::vector<int> fds;
    for (int i = 0; i < atoi(n); ++i) {
      ::fcntl(3 + i, F_SETFD, FD_CLOEXEC);
      fds.push_back(3 + i);
    }
    return Echo(fds);
  }
  fprintf(stderr, "usage: echo_app serve ADDR PORT N READY | inherit NAMES\n");
  return 2;
}
