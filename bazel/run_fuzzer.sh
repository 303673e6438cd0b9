#!/usr/bin/env bash
# Runs a soccr_fuzzer (bazel/fuzz.bzl) from a writable copy of its seed
# corpus. Invoked through NAME_run:
#
#   ./bazelw run --config=fuzz //fuzz:image_parser_fuzzer_run -- -max_total_time=600
#
# Arguments (the macro passes the first ones): FUZZER [-dict=FILE]
# --seeds SEED... -- [libFuzzer flags...]. Exits with the fuzzer's status:
# 0 when the time or run budget ran out without a finding.
set -euo pipefail

fuzzer="$1"
shift
dict=()
if [[ "${1:-}" == -dict=* ]]; then
  dict=("$1")
  shift
fi
[[ "${1:-}" == --seeds ]] || { echo "run_fuzzer: expected --seeds" >&2; exit 2; }
shift
seeds=()
while [[ $# -gt 0 && "$1" != -- ]]; do
  seeds+=("$1")
  shift
done
[[ "${1:-}" == -- ]] && shift

# Bazel runs us inside the runfiles tree: resolve everything before moving.
fuzzer="$(realpath "$fuzzer")"
if [[ ${#dict[@]} -gt 0 ]]; then
  dict=("-dict=$(realpath "${dict[0]#-dict=}")")
fi

work="${SOCCR_FUZZ_WORKDIR:-}"
if [[ -z "$work" ]]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/$(basename "$fuzzer").XXXXXX")"
fi
mkdir -p "$work/corpus" "$work/artifacts"
for seed in "${seeds[@]}"; do
  cp -n "$(realpath "$seed")" "$work/corpus/" 2>/dev/null || true
done
echo "run_fuzzer: $(basename "$fuzzer"): corpus $work/corpus" \
  "($(ls "$work/corpus" | wc -l) files), artifacts $work/artifacts/" >&2

cd "$work"
# ASan's leak checker and UBSan's reports are fatal; the exit code is the
# fuzzer's, which `bazel run` passes on.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
exec "$fuzzer" "${dict[@]}" -artifact_prefix="$work/artifacts/" "$@" \
  "$work/corpus"
