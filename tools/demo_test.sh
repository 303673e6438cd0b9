#!/usr/bin/env bash
# Drives `soccr demo`, the README's main job: every byte verified, the
# figures reported, the image kept on request (and inspectable), progress
# shown on a terminal only.
#   demo_test.sh SOCCR
set -euo pipefail
soccr="$1"
source tools/testing/cli_test_lib.sh

# The default, as the README runs it.
run 0 demo
has "soccr demo: a live TCP connection moved between two processes"
has_line "^  connection      127\.0\.0\.1:[0-9]+->127\.0\.0\.1:[0-9]+, in a private network namespace$"
has "  receive queue   4.0 MiB (4194304 bytes) unread at the checkpoint"
has_line "^  send queue      [0-9.]+ MiB \([0-9]+ bytes\), [0-9.]+ MiB of it not sent yet$"
has_line "^  checkpoint      [0-9]+\.[0-9]{2} ms \(pause, both queues copied\)$"
has_line "^  image           [0-9.]+ MiB \([0-9]+ bytes\), written and flushed in [0-9]+\.[0-9]{2} ms \(removed afterwards\)$"
has_line "^  restore         [0-9]+\.[0-9]{2} ms in process [0-9]+ \(image read, socket rebuilt, resumed\)$"
has "  peer -> client  8.0 MiB (8388608 bytes), every byte checked by the new process"
has "  client -> peer  8.0 MiB (8388608 bytes), every byte checked by the peer"
has "OK: no byte lost, none duplicated"
[[ ! -s "$tmp/err" ]] || fail "stderr is not a terminal, yet: $(cat "$tmp/err")"

# A kept image is a real one.
run 0 demo --bytes 262144 --image "$tmp/kept.soccr"
has "kept at $tmp/kept.soccr"
has "  receive queue   128.0 KiB (131072 bytes) unread at the checkpoint"
run 0 inspect "$tmp/kept.soccr"
has "connection 0: ESTABLISHED"
has "  receive queue 131072 bytes"

# On a terminal, progress shows on stderr (and is erased: the report is
# still the last thing printed).
script -qec "$soccr demo --bytes 1048576" /dev/null >"$tmp/tty" 2>&1 ||
  fail "demo on a terminal failed: $(cat "$tmp/tty")"
grep -q $'\r\x1b\[Ksoccr demo: checkpointing' "$tmp/tty" ||
  fail "no progress on a terminal: $(cat -v "$tmp/tty")"
grep -q "OK: no byte lost, none duplicated" "$tmp/tty" || fail "no report on a terminal"

error 2 "--bytes must be between 65536 (64 KiB) and 1073741824 (1 GiB)" demo --bytes 10
error 2 "unexpected argument" demo now

# --json: the same figures as one object (docs/json-output.md).
run 0 demo --bytes 65536 --json
json "$tmp/out" 'connection~127\.0\.0\.1:[0-9]+->127\.0\.0\.1:[0-9]+' inq_len=32768 \
  'outq_len~[0-9]+' 'unsent_len~[0-9]+' 'checkpoint_us~[0-9]+' 'image_bytes~[1-9][0-9]*' \
  'write_us~[0-9]+' image=null 'restored_pid~[1-9][0-9]*' 'restore_us~[0-9]+' \
  down_verified=65536 up_verified=65536
echo "demo_test: ok"
