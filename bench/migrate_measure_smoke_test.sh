#!/usr/bin/env bash
# migrate_measure runs: one idle connection moved once, and a figure for it.
set -euo pipefail
out="$("$1" 1 1)"
echo "$out"
grep -E '^1 +[0-9]+\.[0-9]+ ' <<<"$out" >/dev/null
