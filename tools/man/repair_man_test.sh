#!/usr/bin/env bash
# soccr-repair(8) as man(1) shows it: renders with no groff warning, in
# section 8 with soccr-repair --version's version, and holds every option
# and both usage lines of soccr-repair --help.
#   repair_man_test.sh SOCCR-REPAIR SOCCR-REPAIR.8
set -euo pipefail
helper="$1"
page="$2"
source tools/man/man_lib.sh

render_page "$page" NAME SYNOPSIS DESCRIPTION OPTIONS
version="$("$helper" --version)"
[[ "$version" =~ ^soccr-repair\ [0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  fail "--version: $version"
grep -q "^\.TH SOCCR-REPAIR \"8\" .* \"$version\"" "$page" ||
  fail "the header lacks section 8 and \"$version\""
grep -q '^soccr-repair - switch TCP repair mode' "$tmp/man.txt" ||
  grep -q 'soccr-repair \\- switch TCP repair mode' "$page" ||
  fail "NAME has no summary"

opts="$("$helper" --help | sed -n 's/^  \(--[a-z-]*\).*/\1/p')"
[[ "$(wc -l <<<"$opts")" -ge 5 ]] || fail "few options in --help: $opts"
for opt in $opts; do
  grep -qF -- "$opt" <<<"$flat" || fail "option $opt not in the page"
done
for usage in "soccr-repair [OPTIONS] PATH" "soccr-repair --listen [OPTIONS] PATH"; do
  grep -qF -- "$usage" <<<"$flat" || fail "usage \"$usage\" not in the page"
done
grep -qF "sudo setcap cap_net_admin+ep" <<<"$flat" ||
  fail "the page lacks how to grant the capability"
echo "repair_man_test: ok ($(wc -w <<<"$opts") options)"
