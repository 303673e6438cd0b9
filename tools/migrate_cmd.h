// tools/migrate_cmd.h: `soccr send`, `soccr receive` and `soccr recover`:
// the timing reports and the hand-over to the command that carries the
// connections on (socket activation, as systemd does it).
//
//   soccr receive --listen 192.0.2.2:7000 -- ./server   # on the destination
//   soccr send --pid 1234 --all --to 192.0.2.2:7000     # on the source

#ifndef SOCCR_TOOLS_MIGRATE_CMD_H_
#define SOCCR_TOOLS_MIGRATE_CMD_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "soccr/migrate/migrate.h"
#include "tools/restore_command.h"

namespace soccr::tools {

// One line per phase, and --json's object.
std::string SendReportText(const SendReport& r);
std::string SendReportJson(const SendReport& r);
std::string ReceiveReportText(const ReceiveResult& r);
std::string ReceiveReportJson(const ReceiveResult& r);
// `soccr recover --json`: what the recovery did (docs/json-output.md).
std::string RecoverReportJson(const RecoverResult& r);

// Makes the connections descriptors 3, 4, ... (open across exec), sets
// LISTEN_FDS, LISTEN_PID (this process: exec keeps it) and LISTEN_FDNAMES
// (the source's descriptor numbers, "fd5:fd6"), and executes `program`
// (found beforehand with FindProgram) with `argv`. Returns only on
// failure.
ExecFailure ExecWithConnections(std::vector<OwnedFd> connections,
                                const std::vector<std::string>& names,
                                const std::string& program,
                                const std::vector<std::string>& argv);

}  // namespace soccr::tools

#endif  // SOCCR_TOOLS_MIGRATE_CMD_H_
