#!/usr/bin/env bash
# `soccr dump -o - | soccr restore -`: a connection moved through a pipe,
# in a private user and network namespace; and a truncated or foreign
# stream refused with the reader's error.
#   stream_test.sh SOCCR
set -euo pipefail
if [[ -z "${SOCCR_STREAM_TEST_IN_NS:-}" ]]; then
  SOCCR_STREAM_TEST_IN_NS=1 exec unshare -Urn "$0" "$@"
fi
soccr="$1"
source tools/testing/cli_test_lib.sh
ip link set lo up

# The peer upper-cases what it gets; it says when it listens.
/usr/bin/python3 -c 'import socket, sys
s = socket.create_server(("127.0.0.1", 7000)); open(sys.argv[1], "w").close()
c, _ = s.accept()
while d := c.recv(1024): c.sendall(d.upper())' "$tmp/listening" &
peer=$!
trap 'kill $peer 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -e "$tmp/listening" ]] && break; sleep 0.05; done
exec 5<>/dev/tcp/127.0.0.1/7000
echo hello >&5
sleep 0.2
"$soccr" dump --pid $$ --fd 5 -o - --close 2>"$tmp/dump.err" |
  "$soccr" restore - -- sh -c \
    'read -r l <&3; echo "$l"; echo again >&3; read -r l <&3; echo "$l"' \
    >"$tmp/out"
grep -q "^dumped fd 5 of process $$: ESTABLISHED" "$tmp/dump.err" ||
  fail "dump's report not on stderr: $(cat "$tmp/dump.err")"
[[ "$(cat "$tmp/out")" == "$(printf 'HELLO\nAGAIN')" ]] ||
  fail "restored connection said: $(cat "$tmp/out")"

# A foreign stream and a truncated one.
status=0
echo "not an image" | "$soccr" restore - -- true >"$tmp/out" 2>"$tmp/err" || status=$?
[[ "$status" == 1 ]] || fail "restore of a foreign stream exited $status"
grep -q "standard input: image stream: " "$tmp/err" || fail "$(cat "$tmp/err")"
status=0
head -c 20 /dev/zero | "$soccr" restore - -- true >"$tmp/out" 2>"$tmp/err" || status=$?
[[ "$status" == 1 ]] || fail "restore of a truncated stream exited $status"
grep -q "truncated" "$tmp/err" || fail "$(cat "$tmp/err")"
echo "stream_test: ok"
