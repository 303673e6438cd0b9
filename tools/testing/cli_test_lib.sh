# Helpers for the shell tests that drive the soccr binary. Source it after
# setting $soccr; uses $TEST_TMPDIR.
#
#   run STATUS ARGS...       soccr ARGS exits STATUS; stdout in $tmp/out,
#                            stderr in $tmp/err
#   error STATUS TEXT ARGS...  also: exactly one line on stderr, containing
#                            TEXT, and nothing on stdout
#   has TEXT / lacks TEXT    stdout contains (or not) TEXT
#   has_line REGEX           some stdout line matches the extended REGEX
#   json FILE SPEC...        FILE is one JSON object with those fields
#                            (check_json.py: python3's parser)

tmp="${TEST_TMPDIR:-$(mktemp -d)}"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

run() {
  local want="$1" got=0
  shift
  "$soccr" "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
  [[ "$got" == "$want" ]] ||
    fail "soccr $* exited $got, want $want; stdout: $(cat "$tmp/out"); stderr: $(cat "$tmp/err")"
}

error() {
  local want="$1" text="$2"
  shift 2
  run "$want" "$@"
  [[ "$(wc -l <"$tmp/err")" == 1 ]] ||
    fail "soccr $*: stderr is not one line: $(cat "$tmp/err")"
  grep -qF -- "$text" "$tmp/err" ||
    fail "soccr $*: stderr lacks \"$text\": $(cat "$tmp/err")"
  [[ ! -s "$tmp/out" ]] || fail "soccr $*: printed to stdout on error"
}

has() {
  grep -qF -- "$1" "$tmp/out" || fail "output lacks \"$1\": $(cat "$tmp/out")"
}

lacks() {
  if grep -qF -- "$1" "$tmp/out"; then fail "output has \"$1\": $(cat "$tmp/out")"; fi
}

has_line() {
  grep -qE -- "$1" "$tmp/out" || fail "no line matches /$1/: $(cat "$tmp/out")"
}

json() {
  python3 tools/testing/check_json.py "$@" >/dev/null || fail "JSON in $1: $(cat "$1")"
}
