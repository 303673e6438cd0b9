#!/usr/bin/env bash
# Drives `soccr locks` and `soccr unlock` in a private user and network
# namespace: nothing listed when there are no locks, one line per lock
# (left in place by another process that has exited), unlock by id, and the
# errors.
#   locks_test.sh SOCCR MAKE_LOCK
set -euo pipefail
if [[ -z "${SOCCR_LOCKS_TEST_IN_NS:-}" ]]; then
  SOCCR_LOCKS_TEST_IN_NS=1 exec unshare -Urn "$0" "$@"
fi
soccr="$1"
make_lock="$2"
source tools/testing/cli_test_lib.sh
ip link set lo up

run 0 locks
[[ ! -s "$tmp/out" ]] || fail "soccr locks printed something with no locks"

a="$("$make_lock" connections "first lock" 192.0.2.1:80 198.51.100.7:4242 \
  '[2001:db8::1]:443' '[2001:db8::2]:5555')"
b="$("$make_lock" namespace "")"
run 0 locks
[[ "$(wc -l <"$tmp/out")" == 2 ]] || fail "want 2 lines: $(cat "$tmp/out")"
has_line "^$a connections 2 pid [0-9]+ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z first lock$"
has_line "^$b namespace 0 pid [0-9]+ [0-9TZ:-]+$"

run 0 locks --json
has "\"id\": \"$a\""
has "\"scope\": \"namespace\""
has "\"note\": \"first lock\""
json "$tmp/out" locks.0.id="$a" locks.0.scope=connections locks.0.connections=2 \
  'locks.0.pid~[0-9]+' 'locks.0.created~[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z' \
  locks.0.note='first lock' locks.1.id="$b" locks.1.scope=namespace

run 0 unlock "$a"
has "unlocked $a"
run 0 locks
[[ "$(wc -l <"$tmp/out")" == 1 ]] || fail "want 1 line: $(cat "$tmp/out")"
has_line "^$b namespace "
error 1 "no such lock in this network namespace" unlock "$a"
run 0 unlock --json "$b"
json "$tmp/out" unlocked="$b" lock.id="$b" lock.scope=namespace lock.connections=0
run 0 locks
[[ ! -s "$tmp/out" ]] || fail "locks left: $(cat "$tmp/out")"

error 1 "not 16 lowercase hex digits" unlock nonsense
error 2 "missing" unlock
echo "locks_test: ok"
