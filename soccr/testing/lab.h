// soccr/testing/lab.h: a lab of "hosts" for migration tests: network
// namespaces joined by veth pairs to one bridge, with documentation
// addresses, all inside the test's own user and network namespace.
//
//   ASSERT_OK_AND_ASSIGN(lab, Lab::Create());  // bridge br0 here
//   ASSERT_OK_AND_ASSIGN(  // src is a Host*
//       src, lab.AddHost("src", {"192.0.2.1/24", "2001:db8::1/64"}));
//   ASSERT_OK(src->Run({"ip", "addr"}));  // runs inside src
//   { HostScope in(*src); /* this thread is in src's namespace */ }
//
// Each host is a child process that holds a new network namespace (its
// eth0 is the far end of a veth whose near end is on the bridge in the
// lab's namespace) and waits; the lab kills it when destroyed. Call from a
// NetnsTest (the process must be in a user namespace it owns). Commands
// run with `ip` from iproute2, which only tests use.

#ifndef SOCCR_TESTING_LAB_H_
#define SOCCR_TESTING_LAB_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "soccr/fd.h"

namespace soccr::testing {

class Host {
 public:
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  // The namespace, for setns().
  BorrowedFd netns() const { return netns_.borrow(); }

  // Runs argv (PATH lookup) inside the host's network namespace and waits;
  // the exit status must be 0. `output`, if given, receives its stdout.
  [[nodiscard]] absl::Status Run(const std::vector<std::string>& argv,
                                 std::string* output = nullptr) const;

  // Starts argv inside the host's network namespace without waiting (with
  // `env` added to the environment); returns its pid. `stdout_fd`, if >= 0,
  // becomes its standard output.
  [[nodiscard]] absl::StatusOr<pid_t> Spawn(
      const std::vector<std::string>& argv,
      const std::vector<std::string>& env = {}, int stdout_fd = -1) const;

 private:
  friend class Lab;
  Host(std::string name, pid_t pid, OwnedFd netns)
      : name_(std::move(name)), pid_(pid), netns_(std::move(netns)) {}

  std::string name_;
  pid_t pid_;
  OwnedFd netns_;
};

// While alive, the calling thread is in `host`'s network namespace.
class HostScope {
 public:
  explicit HostScope(const Host& host);
  ~HostScope();
  HostScope(const HostScope&) = delete;
  HostScope& operator=(const HostScope&) = delete;
  bool ok() const { return ok_; }

 private:
  OwnedFd previous_;
  bool ok_ = false;
};

class Lab {
 public:
  // A bridge "br0" in the current network namespace.
  [[nodiscard]] static absl::StatusOr<Lab> Create();
  Lab(Lab&&) = default;
  Lab& operator=(Lab&&) = default;
  ~Lab();

  // A new host with eth0 on the bridge, up, with `addresses` (CIDR
  // notation, optionally followed by more `ip address add` options such as
  // "preferred_lft 0"; IPv6 ones without duplicate address detection, so
  // they are usable at once) and lo up.
  [[nodiscard]] absl::StatusOr<Host*> AddHost(
      absl::string_view name, const std::vector<std::string>& addresses);

 private:
  Lab() = default;
  std::vector<std::unique_ptr<Host>> hosts_;
};

// Runs argv in the current network namespace; the exit status must be 0.
[[nodiscard]] absl::Status RunCommand(const std::vector<std::string>& argv,
                                      std::string* output = nullptr);

}  // namespace soccr::testing

#endif  // SOCCR_TESTING_LAB_H_
