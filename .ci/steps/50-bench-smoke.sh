#!/usr/bin/env bash
# Every benchmark runs a few iterations at small sizes, so none can rot; the
# report's check fails the step unless every benchmark ran and every ratio
# and per-connection time is present, finite and positive. Speed targets are
# not checked: CI machines are shared and noisy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
bench/run.sh --smoke --out "$out"
# The comparison with a baseline works (a run against itself: no U test with
# one repetition, so nothing can be flagged and compare.py says it cannot
# tell, exit status 3; what is checked is the tooling).
status=0
python3 bench/compare.py "$out/bench.json" "$out/bench.json" > /dev/null ||
  status=$?
[[ "$status" == 3 ]] || {
  echo "bench/compare.py of a one-repetition run against itself: exit status $status, not 3 (cannot tell)" >&2
  exit 1
}
