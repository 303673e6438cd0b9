#!/usr/bin/env bash
# `soccr --help` and each subcommand's --help: exit status 0, the exit
# statuses documented, each subcommand listing its own flags and no other;
# unknown subcommands and bare `soccr` are usage errors (2); --version
# prints the top-level VERSION.
#   help_test.sh SOCCR VERSION
set -euo pipefail
soccr="$1"
version="$(cat "$2")"
source tools/testing/cli_test_lib.sh

run 0 --help
for sub in check inspect dump restore demo send receive recover locks unlock; do has_line "^  $sub +[a-z]"; done
has "exit status:"
has "  0    success"
has "  2    usage error"
has "  127  restore: CMD was not found (nothing was restored)"

all_flags=(--private-netns --json --skip-checksums --pid --fd --output
  --leave-paused --close --index --bytes --image --hosts --connections)
# own SUBCOMMAND FLAGS...: its --help lists exactly these flags.
own() {
  local sub="$1"
  shift
  run 0 "$sub" --help
  has "usage: soccr $sub"
  local f mine
  for f in "${all_flags[@]}"; do
    mine=0
    for m in "$@"; do [[ "$m" == "$f" ]] && mine=1; done
    if ((mine)); then has_line "^  (-[a-z] [A-Z]+, )?$f( [A-Z]+)?$"; else lacks "$f"; fi
  done
}
own check --private-netns --json
own inspect --json --skip-checksums
own dump --pid --fd --output --leave-paused --close --json
own restore --index --json
own demo --bytes --image --json --hosts --connections
own recover --json
run 0 dump --help
has "  -o IMAGE, --output IMAGE"
has "      (required)"

run 0 help dump
has "usage: soccr dump --pid PID --fd FD [--fd FD2] -o IMAGE [--leave-paused | --close] [--json]"
run 0 inspect -h x y z
has "usage: soccr inspect"

run 0 --version
[[ "$(cat "$tmp/out")" == "soccr $version" ]] || fail "--version: $(cat "$tmp/out"), VERSION has $version"
error 2 'soccr: unknown subcommand "--version" (see: soccr --help)' --version x

run 2
grep -q "^usage: soccr SUBCOMMAND" "$tmp/err" || fail "bare soccr: no usage on stderr"
error 2 'soccr: unknown subcommand "bogus" (see: soccr --help)' bogus
error 2 "bad value \"abc\" for --pid" dump --pid abc --fd 3 -o x
error 2 "--leave-paused and --close exclude each other" dump --pid 1 --fd 3 -o x --close --leave-paused
echo "help_test: ok"
