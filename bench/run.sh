#!/usr/bin/env bash
# Runs soccr's benchmark suite (built with -c opt) and writes the raw JSON
# plus a Markdown report of ratios to memcpy (bench/report.py).
#
#   bench/run.sh                     # full suite, 5 repetitions, medians
#   bench/run.sh --smoke             # every benchmark, small sizes, a few
#                                    # iterations (CI: .ci/steps/50-bench-smoke.sh)
#   bench/run.sh --out DIR           # where bench.json and bench.md go
#   bench/run.sh --repetitions N     # repetitions for the full suite
#   bench/run.sh --compare BASELINE.json   # ... then compare the run's
#                                    # ratios with a baseline's (bench/compare.py,
#                                    # Google Benchmark's compare.py and its U
#                                    # test); exits 1 on a significant regression.
#                                    # bench/baseline.json is this machine's.
#   bench/run.sh -- --benchmark_filter=Idle   # extra flags for the binary
#
# The report's sanity check (every ratio present, finite, > 0) makes the
# script fail; the targets it lists never do.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

smoke=0
out="${TMPDIR:-/tmp}/soccr-bench"
repetitions=5
baseline=""
extra=()
while (($#)); do
  case "$1" in
    --smoke) smoke=1 ;;
    --out) out="$2"; shift ;;
    --repetitions) repetitions="$2"; shift ;;
    --compare) baseline="$(realpath "$2")"; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: bench/run.sh [--smoke] [--out DIR] [--repetitions N] [--compare BASELINE.json] [-- flags]" >&2
       exit 2 ;;
  esac
  shift
done
mkdir -p "$out"
out="$(cd "$out" && pwd)"
json="$out/bench.json"
md="$out/bench.md"

if ((smoke)); then
  flags=(--smoke --benchmark_min_time=0.001)
else
  flags=(--benchmark_repetitions="$repetitions"
         --benchmark_display_aggregates_only=true
         --benchmark_min_warmup_time=0.05)
fi

echo "bench/run.sh: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs" >&2
./bazelw run -c opt //bench:soccr_bench -- "${flags[@]}" \
  --benchmark_out="$json" --benchmark_out_format=json ${extra[@]+"${extra[@]}"}
check=(--check)
# Extra flags (a --benchmark_filter) may leave families out on purpose.
((${#extra[@]})) && check+=(--partial)
python3 bench/report.py "${check[@]}" "$json" > "$md"
echo "bench/run.sh: wrote $json and $md" >&2
cat "$md"
if [[ -n "$baseline" ]]; then
  python3 bench/compare.py "$baseline" "$json"
fi
