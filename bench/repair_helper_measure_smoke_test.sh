#!/usr/bin/env bash
# repair_helper_measure runs: 1 and 300 idle connections, once, both paths.
set -euo pipefail
out="$("$1" 1 1 300)"
echo "$out"
grep -E '^1 +helper +[0-9]+\.[0-9]+ ' <<<"$out" >/dev/null
grep -E '^300 +direct +[0-9]+\.[0-9]+ ' <<<"$out" >/dev/null
# 300 sockets: two requests to pause them, two to restore them and two to
# resume them.
grep -E '^300 +helper .* 6$' <<<"$out" >/dev/null
