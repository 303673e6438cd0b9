#!/usr/bin/env bash
# Builds every soccr_fuzzer (bazel/fuzz.bzl) with --config=fuzz (clang,
# libFuzzer, ASan, UBSan) and runs each for SOCCR_FUZZ_SECONDS (default 30)
# from its committed corpus. Fails on any crash, leak, sanitizer report,
# property violation or timeout; the log and the crashing input are shown.
#
# Fuzzers are found by the tag the macro puts on their runners, so a new
# soccr_fuzzer anywhere in the tree runs here without editing this file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds="${SOCCR_FUZZ_SECONDS:-30}"

# A separate output base: --config=fuzz switches the C++ toolchain to clang,
# and doing that in the main output base would throw away its whole cache
# (and the next plain build would throw away this one).
main_base="$(./bazelw info output_base 2>/dev/null)"
fuzz_base="${SOCCR_FUZZ_OUTPUT_BASE:-${main_base}-fuzz}"
# --symlink_prefix=/: no bazel-* convenience links from this output base, so
# the workspace's links keep pointing at the main one (a server that finds
# another output base's links under the workspace descends into them).
bazel_fuzz() {
  local command="$1"
  shift
  ./bazelw --output_base="$fuzz_base" "$command" --symlink_prefix=/ "$@"
}

work="$(mktemp -d "${TMPDIR:-/tmp}/soccr-fuzz.XXXXXX")"
cleanup() {
  ./bazelw --output_base="$fuzz_base" shutdown >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The query needs no toolchain: the main server answers it.
mapfile -t runners < <(./bazelw query --noshow_progress \
  'attr(tags, "soccr_fuzzer_run", kind(sh_binary, //...))' 2>/dev/null)
if ((${#runners[@]} == 0)); then
  echo "30-fuzz: no fuzzers found (bazel query failed?)" >&2
  exit 1
fi
echo "30-fuzz: ${#runners[@]} fuzzer(s), ${seconds}s each: ${runners[*]}"

# gold's "Cannot export local symbol" warnings about ASan's helpers are noise.
quiet() { grep -v "Cannot export local symbol" || true; }

if ! bazel_fuzz build --config=fuzz --noshow_progress "${runners[@]}" \
  >"$work/build.log" 2>&1; then
  quiet <"$work/build.log" | tail -50 >&2
  echo "30-fuzz: building the fuzzers failed" >&2
  exit 1
fi

failed=()
for runner in "${runners[@]}"; do
  name="${runner##*:}"
  name="${name%_run}"
  log="$work/$name.log"
  status=0
  SOCCR_FUZZ_WORKDIR="$work/$name" bazel_fuzz run --config=fuzz \
    --noshow_progress "$runner" -- \
    -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  # Belt and braces: any sanitizer or property report fails the run even if
  # an exit status were lost on the way.
  if ((status == 0)) && grep -qE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|property violated" "$log"; then
    status=99
  fi
  execs="$(grep -o 'average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
  runs="$(grep -o 'number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
  if ((status == 0)); then
    echo "30-fuzz: $name: ok, ${runs:-?} runs, ${execs:-?} execs/s"
  else
    echo "30-fuzz: $name: FAILED (exit $status); last lines of $log:" >&2
    quiet <"$log" | tail -60 >&2
    if compgen -G "$work/$name/artifacts/*" >/dev/null; then
      echo "30-fuzz: $name: inputs that failed (see fuzz/README.md to add" \
        "them to the corpus):" >&2
      for a in "$work/$name"/artifacts/*; do
        echo "  $a: $(base64 -w0 "$a" | head -c 2000)" >&2
      done
    fi
    failed+=("$name")
  fi
done

if ((${#failed[@]})); then
  echo "30-fuzz: failed: ${failed[*]} (work directory $work kept)" >&2
  exit 1
fi
rm -rf "$work"
echo "30-fuzz: all fuzzers ran clean"
