// soccr_c/log.h: the log function libsoccr_set_log() installs, shared by
// every handle.
//
//   soccr::c_api::SetLog(SOCCR_LOG_DBG, my_printf_like_fn);
//   soccr::c_api::LogError("libsoccr_restore", status);
//   //  -> my_printf_like_fn(SOCCR_LOG_ERR, "%s\n",
//   //       "libsoccr_restore: INVALID_ARGUMENT: restore ...: ...")
//
// Thread-safe: the setting may change while other threads log.

#ifndef SOCCR_C_LOG_H_
#define SOCCR_C_LOG_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace soccr::c_api {

using LogFn = void (*)(unsigned int level, const char* fmt, ...);

// Reports messages of `level` and below to `fn` from now on; a null `fn`
// reports nothing.
void SetLog(unsigned int level, LogFn fn);

// Whether a message of `level` would reach a log function (to skip building
// debug messages nobody reads).
bool LogEnabled(unsigned int level);

// Reports "<function>: <message>" at `level`.
void Log(unsigned int level, absl::string_view function,
         absl::string_view message);

// Reports "<function>: <status code>: <message>" at SOCCR_LOG_ERR.
void LogError(absl::string_view function, const absl::Status& status);

}  // namespace soccr::c_api

#endif  // SOCCR_C_LOG_H_
