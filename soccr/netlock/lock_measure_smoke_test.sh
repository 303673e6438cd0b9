#!/usr/bin/env bash
# lock_measure runs (small sizes, one repetition) and reports every figure.
set -euo pipefail
out="$("$1" 100 1)"
echo "$out"
[[ "$(grep -c ' ms ' <<<"$out")" == 16 ]]
