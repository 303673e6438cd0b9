// Every --json output of the soccr command, from its formatter, parsed by
// python3's json module (tools/testing/check_json.py) with the field names
// docs/json-output.md promises: check, dump, restore, send, receive, locks.
// (The binary's own --json runs are parsed in check_test.sh,
// locks_test.sh, inspect_test.sh and dump_restore_test.cc.) Strings carry
// the bytes a JSON writer must escape.

#include "tools/json_reports.h"

#include <stdio.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "soccr/migrate/migrate.h"
#include "soccr/netlock/netlock.h"
#include "tools/locks.h"
#include "tools/migrate_cmd.h"
#include "tools/testing/run_program.h"

namespace soccr::tools {
namespace {

const char kOdd[] = "a \"quoted\"\\ \n\t\x01\xff";

// `json` parses as one object with `specs` (check_json.py's syntax).
void ExpectJson(const std::string& json,
                const std::vector<std::string>& specs) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/report.json");
  FILE* f = ::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(::fwrite(json.data(), 1, json.size(), f), json.size());
  ASSERT_EQ(::fclose(f), 0);
  std::vector<std::string> argv = {
      "/usr/bin/python3", testing::Runfile("tools/testing/check_json.py"),
      path};
  argv.insert(argv.end(), specs.begin(), specs.end());
  absl::StatusOr<testing::ProgramResult> r = testing::RunProgram(argv);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_status, 0) << r->err << json;
}

ConnectionState AState() {
  ConnectionState s;
  s.state = TcpState::kEstablished;
  s.local = *SocketAddress::Parse("192.0.2.1:80");
  s.peer = *SocketAddress::Parse("[2001:db8::2]:4242");
  s.inq_len = 0;
  return s;
}

TEST(JsonReportsTest, Check) {
  CheckReport report;
  report.context = kOdd;
  report.probes.push_back({"repair mode (TCP_REPAIR)", true,
                           Probe::Outcome::kOk, "paused and resumed"});
  report.probes.push_back(
      {"raising buffers", false, Probe::Outcome::kMissing, kOdd});
  report.probes.push_back(
      {"repair queues", true, Probe::Outcome::kSkipped, "needs repair mode"});
  ExpectJson(
      CheckReportJson(report),
      {absl::StrCat("context=", "a \"quoted\"\\ \n\t\x01\xc3\xbf"),
       "basics_present=false", "features.0.feature=repair mode (TCP_REPAIR)",
       "features.0.basic=true", "features.0.result=ok",
       "features.1.result=missing", "features.1.basic=false",
       "features.2.result=skipped", "features.2.detail=needs repair mode"});
}

TEST(JsonReportsTest, Dump) {
  DumpOptions o;
  o.pid = 1234;
  o.fd = 5;
  o.output = "-";
  o.after = AfterDump::kLeavePaused;
  DumpResult r;
  r.state = AState();
  r.image_bytes = 4096;
  r.checkpoint_time = absl::Microseconds(120);
  r.write_time = absl::Milliseconds(3);
  r.paused_time = absl::Microseconds(3500);
  ExpectJson(DumpReportJson(o, r),
             {"pid=1234", "fd=5", "image=-", "image_bytes=4096", "repair=true",
              "original=left_paused", "checkpoint_us=120", "write_us=3000",
              "paused_us=3500", "connection.state=ESTABLISHED",
              "connection.local.address=192.0.2.1", "connection.local.port=80",
              "connection.peer.family=AF_INET6", "connection.peer.port=4242",
              "connection.inq_len=0"});
  o.after = AfterDump::kClose;
  ExpectJson(DumpReportJson(o, r), {"original=closed"});
  o.after = AfterDump::kResume;
  ExpectJson(DumpReportJson(o, r), {"original=resumed"});
  r.repair = false;
  ExpectJson(DumpReportJson(o, r), {"repair=false", "original=not_paused"});
}

TEST(JsonReportsTest, Restore) {
  ImageRecord record;
  record.state = AState();
  ExpectJson(
      RestoreReportJson(kOdd, 2, record, "/usr/bin/server"),
      {"index=2", "fd=3", "program=/usr/bin/server", "connection.index=2",
       "connection.state=ESTABLISHED", "connection.peer.address=2001:db8::2",
       "connection.skipped_socket_options~.*"});
}

TEST(JsonReportsTest, Demo) {
  DemoReport r;
  r.endpoints = "127.0.0.1:1->127.0.0.1:2";
  r.inq_len = 4;
  r.restore_time = absl::Microseconds(250);
  r.down_verified = r.up_verified = 65536;
  ExpectJson(DemoReportJson(r),
             {"connection=127.0.0.1:1->127.0.0.1:2", "inq_len=4", "outq_len=0",
              "unsent_len=0", "checkpoint_us=0", "image_bytes=0", "write_us=0",
              "image=null", "restored_pid=0", "restore_us=250",
              "down_verified=65536", "up_verified=65536"});
  r.image_path = kOdd;
  ExpectJson(DemoReportJson(r), {"image~a .*"});
}

TEST(JsonReportsTest, HostsDemo) {
  HostsDemoReport r;
  r.connections = 2;
  r.bytes = 65536;
  r.peer_sent = r.peer_received = 131072;
  r.at_source = {100, 100};
  r.at_destination = {131072 - 100, 131072 - 100};
  r.longest_gap = absl::Milliseconds(3);
  r.move_error = kOdd;
  ExpectJson(HostsDemoReportJson(r),
             {"connections=2",        "bytes_each_way=65536",
              "moved=false",          "move_error~a .*",
              "phases_us=null",       "image_bytes=0",
              "longest_gap_us=3000",  "peer.sent=131072",
              "peer.received=131072", "peer.mismatched=0",
              "peer.missing=0",       "peer.error=null",
              "service.src.read=100", "service.dst.written=130972",
              "address_at.src=false", "address_at.dst=false",
              "locks_left.src=0",     "locks_left.dst=0",
              "left_clean=false",     "all_bytes_arrived=true"});
  r.moved = true;
  r.move_error.clear();
  r.send.image_bytes = 5000;
  r.send.destination.restore = absl::Microseconds(42);
  r.send.downtime = absl::Microseconds(900);
  r.mismatched = 1;
  r.peer_error = kOdd;
  r.address_at_dst = true;
  r.locks_at_dst = 2;
  ExpectJson(
      HostsDemoReportJson(r),
      {"moved=true", "move_error=null", "phases_us.lock=0",
       "phases_us.checkpoint=0", "phases_us.transfer=0", "phases_us.restore=42",
       "phases_us.commit=0", "phases_us.unlock=0", "phases_us.downtime=900",
       "image_bytes=5000", "peer.mismatched=1", "peer.error~a .*",
       "address_at.dst=true", "locks_left.dst=2", "left_clean=false",
       "all_bytes_arrived=false"});
}

TEST(JsonReportsTest, SendAndReceive) {
  SendReport s;
  s.connections = 3;
  s.image_bytes = 999;
  s.lock = absl::Microseconds(7);
  s.downtime = absl::Milliseconds(2);
  ExpectJson(
      SendReportJson(s),
      {"connections=3", "image_bytes=999", "phases_us.lock=7",
       "phases_us.checkpoint=0", "phases_us.transfer=0", "phases_us.commit=0",
       "phases_us.unlock=0", "phases_us.downtime=2000", "phases_us.total=0",
       "destination_us.lock=0", "destination_us.restore=0",
       "destination_us.takeover=0", "destination_us.resume=0",
       "destination_us.unlock=0"});
  ReceiveResult r;
  r.image_bytes = 12;
  ExpectJson(ReceiveReportJson(r),
             {"connections=0", "image_bytes=12", "phases_us.lock=0",
              "phases_us.restore=0", "phases_us.takeover=0",
              "phases_us.resume=0", "phases_us.unlock=0"});
}

TEST(JsonReportsTest, Recover) {
  RecoverResult undone;
  undone.connections = 4;
  undone.resumed = 3;
  undone.lock = "0123456789abcdef";
  undone.lock_removed = true;
  undone.summary = kOdd;
  ExpectJson(RecoverReportJson(undone),
             {"committed=false", "connections=4", "resumed=3", "handed_over=0",
              "to=null", "lock=0123456789abcdef", "lock_removed=true",
              "image=null", "summary~a .*"});
  RecoverResult handed;
  handed.committed = true;
  handed.connections = 2;
  handed.handed_over = 2;
  handed.handed_to = "unix:/run/r\"x";
  handed.image = "/var/tmp/send.image";
  handed.summary = "committed: 2 connections handed";
  ExpectJson(RecoverReportJson(handed),
             {"committed=true", "connections=2", "resumed=0", "handed_over=2",
              "to=unix:/run/r\"x", "lock=null", "lock_removed=false",
              "image=/var/tmp/send.image"});
}

TEST(JsonReportsTest, Locks) {
  LockInfo a;
  a.id = "0123456789abcdef";
  a.scope = LockScope::kNamespace;
  a.connections = 2;
  a.pid = 77;
  a.created = absl::FromUnixSeconds(1700000000);
  a.note = kOdd;
  ExpectJson(FormatLocksJson({a}),
             {"locks.0.id=0123456789abcdef", "locks.0.scope=namespace",
              "locks.0.connections=2", "locks.0.pid=77",
              "locks.0.created~2023-11-14T22:13:20Z?.*", "locks.0.note~a .*"});
  ExpectJson(FormatLocksJson({}), {"locks~\\[\\]"});
  ExpectJson(FormatUnlockedJson(a.id, a),
             {"unlocked=0123456789abcdef", "lock.id=0123456789abcdef",
              "lock.scope=namespace", "lock.pid=77"});
  ExpectJson(FormatUnlockedJson(a.id, std::nullopt),
             {"unlocked=0123456789abcdef", "lock=null"});
}

}  // namespace
}  // namespace soccr::tools
