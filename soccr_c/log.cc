#include "soccr_c/log.h"

#include <soccr/soccr.h>

#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"

namespace soccr::c_api {
namespace {

struct LogSetting {
  unsigned int level = 0;
  LogFn fn = nullptr;
};

// Guards the setting. Never held while the log function runs, so that the
// function may call back into the library.
std::mutex& SettingMutex() {
  static std::mutex* const mu = new std::mutex;
  return *mu;
}
LogSetting setting;  // Guarded by SettingMutex().

LogSetting CurrentSetting() {
  std::lock_guard<std::mutex> lock(SettingMutex());
  return setting;
}

}  // namespace

void SetLog(unsigned int level, LogFn fn) {
  std::lock_guard<std::mutex> lock(SettingMutex());
  setting.level = level;
  setting.fn = fn;
}

bool LogEnabled(unsigned int level) {
  const LogSetting s = CurrentSetting();
  return s.fn != nullptr && level <= s.level;
}

void Log(unsigned int level, absl::string_view function,
         absl::string_view message) {
  const LogSetting s = CurrentSetting();
  if (s.fn == nullptr || level > s.level) return;
  const std::string line = absl::StrCat(function, ": ", message);
  // The message goes in as an argument, never as the format: it may hold
  // '%' (from a caller's data, say).
  s.fn(level, "%s\n", line.c_str());
}

void LogError(absl::string_view function, const absl::Status& status) {
  if (!LogEnabled(SOCCR_LOG_ERR)) return;
  Log(SOCCR_LOG_ERR, function, status.ToString());
}

}  // namespace soccr::c_api
