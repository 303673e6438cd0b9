#include "tools/locks.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tools/json.h"

namespace soccr::tools {
namespace {

std::string Utc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

void JsonLock(JsonWriter& j, const LockInfo& l) {
  j.BeginObject();
  j.Key("id");
  j.String(l.id);
  j.Key("scope");
  j.String(LockScopeName(l.scope));
  j.Key("connections");
  j.Uint(l.connections);
  j.Key("pid");
  j.Int(l.pid);
  j.Key("created");
  j.String(Utc(l.created));
  j.Key("note");
  j.String(l.note);
  j.EndObject();
}

}  // namespace

std::string FormatLocks(const std::vector<LockInfo>& locks) {
  std::string out;
  for (const LockInfo& l : locks) {
    absl::StrAppend(&out, l.id, " ", LockScopeName(l.scope), " ", l.connections,
                    " pid ", l.pid, " ", Utc(l.created),
                    l.note.empty() ? "" : " ", l.note, "\n");
  }
  return out;
}

std::string FormatLocksJson(const std::vector<LockInfo>& locks) {
  JsonWriter j;
  j.BeginObject();
  j.Key("locks");
  j.BeginArray();
  for (const LockInfo& l : locks) JsonLock(j, l);
  j.EndArray();
  j.EndObject();
  return std::move(j).Take();
}

std::string FormatUnlockedJson(const std::string& id,
                               const std::optional<LockInfo>& lock) {
  JsonWriter j;
  j.BeginObject();
  j.Key("unlocked");
  j.String(id);
  j.Key("lock");
  if (lock.has_value()) {
    JsonLock(j, *lock);
  } else {
    j.Null();
  }
  j.EndObject();
  return std::move(j).Take();
}

}  // namespace soccr::tools
