#include "tools/json_reports.h"

#include <stdint.h>

#include <vector>

#include "absl/time/time.h"
#include "tools/inspect.h"
#include "tools/json.h"
#include "tools/restore_command.h"

namespace soccr::tools {
namespace {

void Micros(JsonWriter& j, absl::string_view key, absl::Duration d) {
  j.Key(key);
  j.Int(absl::ToInt64Microseconds(d));
}

}  // namespace

std::string CheckReportJson(const CheckReport& report) {
  JsonWriter j;
  j.BeginObject();
  j.Key("context");
  j.String(report.context);
  j.Key("basics_present");
  j.Bool(report.BasicsPresent());
  j.Key("features");
  j.BeginArray();
  for (const Probe& p : report.probes) {
    j.BeginObject();
    j.Key("feature");
    j.String(p.feature);
    j.Key("basic");
    j.Bool(p.basic);
    j.Key("result");
    j.String(p.outcome == Probe::Outcome::kOk        ? "ok"
             : p.outcome == Probe::Outcome::kMissing ? "missing"
                                                     : "skipped");
    j.Key("detail");
    j.String(p.detail);
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  return std::move(j).Take();
}

std::string DumpReportJson(const DumpOptions& options,
                           const DumpResult& result) {
  JsonWriter j;
  j.BeginObject();
  j.Key("pid");
  j.Int(options.pid);
  j.Key("fd");
  j.Int(options.fd);
  j.Key("image");
  j.String(options.output);
  j.Key("image_bytes");
  j.Uint(result.image_bytes);
  j.Key("repair");
  j.Bool(result.repair);
  j.Key("original");
  if (!result.repair) {
    // A listener or a socket never connected: held as it was.
    j.String("not_paused");
  } else {
    switch (options.after) {
      case AfterDump::kResume:
        j.String("resumed");
        break;
      case AfterDump::kLeavePaused:
        j.String("left_paused");
        break;
      case AfterDump::kClose:
        j.String("closed");
        break;
    }
  }
  Micros(j, "checkpoint_us", result.checkpoint_time);
  Micros(j, "write_us", result.write_time);
  Micros(j, "paused_us", result.paused_time);
  j.Key("connection");
  JsonConnection(j, 0, result.state, {});
  j.EndObject();
  return std::move(j).Take();
}

std::string RestoreReportJson(const std::string& image, size_t index,
                              const ImageRecord& record,
                              const std::string& program) {
  JsonWriter j;
  j.BeginObject();
  j.Key("image");
  j.String(image);
  j.Key("index");
  j.Uint(index);
  j.Key("fd");
  j.Int(kRestoredFd);
  j.Key("program");
  j.String(program);
  j.Key("connection");
  JsonConnection(j, index, record.state, record.skipped_options);
  j.EndObject();
  return std::move(j).Take();
}

std::string DemoReportJson(const DemoReport& r) {
  JsonWriter j;
  j.BeginObject();
  j.Key("connection");
  j.String(r.endpoints);
  j.Key("inq_len");
  j.Uint(r.inq_len);
  j.Key("outq_len");
  j.Uint(r.outq_len);
  j.Key("unsent_len");
  j.Uint(r.unsent_len);
  Micros(j, "checkpoint_us", r.checkpoint_time);
  j.Key("image_bytes");
  j.Uint(r.image_bytes);
  Micros(j, "write_us", r.write_time);
  j.Key("image");
  if (r.image_path.empty()) {
    j.Null();
  } else {
    j.String(r.image_path);
  }
  j.Key("restored_pid");
  j.Int(r.restored_pid);
  Micros(j, "restore_us", r.restore_time);
  j.Key("down_verified");
  j.Uint(r.down_verified);
  j.Key("up_verified");
  j.Uint(r.up_verified);
  j.EndObject();
  return std::move(j).Take();
}

namespace {

void Counts(JsonWriter& j, absl::string_view host, const ServiceCounts& c) {
  j.Key(host);
  j.BeginObject();
  j.Key("read");
  j.Uint(c.read);
  j.Key("written");
  j.Uint(c.written);
  j.EndObject();
}

void OrNull(JsonWriter& j, absl::string_view key, const std::string& text) {
  j.Key(key);
  if (text.empty()) {
    j.Null();
  } else {
    j.String(text);
  }
}

}  // namespace

std::string HostsDemoReportJson(const HostsDemoReport& r) {
  JsonWriter j;
  j.BeginObject();
  j.Key("connections");
  j.Int(r.connections);
  j.Key("bytes_each_way");
  j.Uint(r.bytes);
  j.Key("moved");
  j.Bool(r.moved);
  OrNull(j, "move_error", r.move_error);
  j.Key("phases_us");
  if (r.moved) {
    j.BeginObject();
    Micros(j, "lock", r.send.lock);
    Micros(j, "checkpoint", r.send.checkpoint);
    Micros(j, "transfer", r.send.transfer);
    Micros(j, "restore", r.send.destination.restore);
    Micros(j, "commit", r.send.commit);
    Micros(j, "unlock", r.send.unlock);
    Micros(j, "downtime", r.send.downtime);
    j.EndObject();
  } else {
    j.Null();
  }
  j.Key("image_bytes");
  j.Uint(r.send.image_bytes);
  Micros(j, "longest_gap_us", r.longest_gap);
  j.Key("peer");
  j.BeginObject();
  j.Key("sent");
  j.Uint(r.peer_sent);
  j.Key("received");
  j.Uint(r.peer_received);
  j.Key("mismatched");
  j.Uint(r.mismatched);
  j.Key("missing");
  j.Uint(r.missing);
  OrNull(j, "error", r.peer_error);
  j.EndObject();
  j.Key("service");
  j.BeginObject();
  Counts(j, "src", r.at_source);
  Counts(j, "dst", r.at_destination);
  j.EndObject();
  // {"src": ..., "dst": ...}, each value written by `put`.
  auto per_host = [&j](absl::string_view key, auto src, auto dst, auto put) {
    j.Key(key);
    j.BeginObject();
    j.Key("src");
    put(src);
    j.Key("dst");
    put(dst);
    j.EndObject();
  };
  per_host("address_at", r.address_at_src, r.address_at_dst,
           [&j](bool v) { j.Bool(v); });
  per_host("locks_left", r.locks_at_src, r.locks_at_dst,
           [&j](size_t v) { j.Uint(v); });
  j.Key("left_clean");
  j.Bool(r.LeftClean());
  j.Key("all_bytes_arrived");
  j.Bool(r.AllBytesArrived());
  j.EndObject();
  return std::move(j).Take();
}

}  // namespace soccr::tools
