#!/usr/bin/env bash
# soccr(1) as man(1) shows it: renders with no groff warning, and has
# every subcommand `soccr --help` lists, each with its own section, its
# usage and each of its flags; the version is soccr --version's.
#   man_test.sh SOCCR SOCCR.1
set -euo pipefail
soccr="$1"
page="$2"
source tools/man/man_lib.sh

render_page "$page" NAME SYNOPSIS DESCRIPTION SUBCOMMANDS
grep -q "^\.TH SOCCR \"1\" .* \"$("$soccr" --version)\"" "$page" ||
  fail "the header lacks \"$("$soccr" --version)\""

subs="$("$soccr" --help | sed -n '/^subcommands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')"
[[ "$(wc -l <<<"$subs")" -ge 10 ]] || fail "few subcommands: $subs"
for sub in $subs; do
  grep -q "^   soccr $sub\$" "$tmp/man.txt" || fail "no section for soccr $sub"
  usage="$("$soccr" "$sub" --help | sed -n '1,/^$/p' | sed 's/^usage: //' | tr -s ' \n' '  ' | sed 's/ $//')"
  grep -qF -- "$usage" <<<"$flat" || fail "soccr $sub: usage \"$usage\" not in the page"
  for flag in $("$soccr" "$sub" --help | sed -n '/^flags:/,$s/^  \(-o IMAGE, \)\{0,1\}\(--[a-z-]*\).*/\2/p'); do
    grep -qF -- "$flag" <<<"$flat" || fail "soccr $sub: flag $flag not in the page"
  done
done
echo "man_test: ok ($(wc -w <<<"$subs") subcommands)"
