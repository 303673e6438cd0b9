// soccr/migrate/journal.h: the source's record of a move in progress, for
// recovery after a crash. Internal to //soccr/migrate.
//
// A text file of "key value" lines, replaced atomically (a new file,
// fsync, rename, fsync of the directory) at each step, so that a crash
// leaves either the previous step's record or the next one's.

#ifndef SOCCR_MIGRATE_JOURNAL_H_
#define SOCCR_MIGRATE_JOURNAL_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace soccr::migrate {

struct Journal {
  // "locked": the source owns the connections (originals, maybe paused).
  // "committed": the image at `image` owns them until the destination
  // unlocks; the originals are (being) disconnected.
  std::string phase;
  std::string session;  // hex
  pid_t pid = 0;
  std::vector<int> fds;
  std::string lock;  // the source's lock id, or empty
  std::string to;
  std::string release_address;  // or empty
  std::string dev;
  std::string image;  // the saved image (committed only)
};

[[nodiscard]] absl::Status WriteJournal(const std::string& path,
                                        const Journal& j);
[[nodiscard]] absl::StatusOr<Journal> ReadJournal(const std::string& path);

// Writes `bytes` to `path` atomically and durably (as WriteJournal).
[[nodiscard]] absl::Status WriteFileDurably(const std::string& path,
                                            const std::string& bytes, int mode);

}  // namespace soccr::migrate

#endif  // SOCCR_MIGRATE_JOURNAL_H_
