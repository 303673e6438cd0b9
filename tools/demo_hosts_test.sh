#!/usr/bin/env bash
# Drives `soccr demo --hosts`: the whole live migration between simulated
# hosts (inside the demo's own user and network namespaces), every byte
# counted each way; a move that fails is reported and exits 1, whether it
# rolled back (every byte still arrives) or lost the connections (the byte
# check says so). No timing is asserted: the phases only have to be there.
#   demo_hosts_test.sh SOCCR
set -euo pipefail
soccr="$1"
source tools/testing/cli_test_lib.sh

# The move of 3 connections, 1 MiB each way on each.
run 0 demo --hosts --connections 3
has "soccr demo --hosts: 3 live TCP connections moved from host src to host dst"
for phase in lock checkpoint transfer restore commit unlock downtime "longest gap"; do
  has_line "^  $phase +[0-9]+\.[0-9]{3} ms  "
done
has "peer -> service  3145728 bytes sent, 3145728 received ("
has_line "^  service -> peer  3145728 bytes sent \([0-9]+ from src, [0-9]+ from dst\), 3145728 received, 0 mismatched, 0 missing$"
# The service carried on at dst: the bytes after the move were echoed there.
has_line "received \([0-9]+ at src, [1-9][0-9]* at dst\)$"
has "  afterwards    192.0.2.100 on dst only; network locks left: none"
has "OK: every byte arrived, none lost, none duplicated"
lacks "FAILED"
[[ ! -s "$tmp/err" ]] || fail "stderr is not a terminal, yet: $(cat "$tmp/err")"

# --json: the same as one object (docs/json-output.md).
run 0 demo --hosts --connections 2 --bytes 262144 --json
json "$tmp/out" connections=2 bytes_each_way=262144 moved=true move_error=null \
  'phases_us.lock~[0-9]+' 'phases_us.checkpoint~[0-9]+' 'phases_us.transfer~[0-9]+' \
  'phases_us.restore~[0-9]+' 'phases_us.commit~[0-9]+' 'phases_us.unlock~[0-9]+' \
  'phases_us.downtime~[0-9]+' 'image_bytes~[1-9][0-9]*' 'longest_gap_us~[0-9]+' \
  peer.sent=524288 peer.received=524288 peer.mismatched=0 peer.missing=0 peer.error=null \
  'service.dst.read~[1-9][0-9]*' address_at.src=false address_at.dst=true \
  locks_left.src=0 locks_left.dst=0 left_clean=true all_bytes_arrived=true

# Many connections with the smallest streams: the move still happens
# mid-stream (the peer paces its streams; it once sent 64 KiB at once,
# which ended them all before the move).
run 0 demo --hosts --connections 50 --bytes 65536
has "peer -> service  3276800 bytes sent, 3276800 received ("
has_line "received \([0-9]+ at src, [1-9][0-9]* at dst\)$"
has "OK: every byte arrived, none lost, none duplicated"

# A destination that dies before it has restored anything
# (SOCCR_CRASH_AT, the crash tests' hook in soccr::Receive): the source
# rolls back, the service carries on at src, and every byte still arrives;
# the demo reports the failed move and exits 1.
SOCCR_CRASH_AT=receive:locked run 1 demo --hosts --connections 2
has_line "^  move failed   send: .*rolled back"
has "  rolled back   the connections carried on at src"
# The address stayed; the killed receiver left its lock (docs/migration.md:
# it guards nothing, `soccr unlock ID` removes it).
has "  afterwards    192.0.2.100 on src only; network locks left: 0 on src, 1 on dst"
has "peer -> service  2097152 bytes sent, 2097152 received (2097152 at src, 0 at dst)"
has "FAILED: the move was rolled back; every byte arrived, none lost, none duplicated"
lacks "OK:"
grep -q "^soccr demo: the move failed and was rolled back: send: " "$tmp/err" ||
  fail "no failure on stderr: $(cat "$tmp/err")"

# A destination that dies after the source committed, without a journal:
# the connections are lost (docs/migration.md), and the byte check says so.
SOCCR_CRASH_AT=receive:restored run 1 demo --hosts --connections 1 --bytes 262144 --json
json "$tmp/out" moved=false 'move_error~send: .*committed.*' phases_us=null \
  'peer.missing~[1-9][0-9]*' 'peer.error~.+' all_bytes_arrived=false
grep -q "^soccr demo: the move failed: send: " "$tmp/err" ||
  fail "no failure on stderr: $(cat "$tmp/err")"

error 2 "--connections must be between 1 and 1000" demo --hosts --connections 0
error 2 "--connections needs --hosts" demo --connections 3
error 2 "--image is not for --hosts" demo --hosts --image x
error 2 "--bytes must be between 65536 (64 KiB) and 1073741824 (1 GiB)" demo --hosts --bytes 10
echo "demo_hosts_test: ok"
