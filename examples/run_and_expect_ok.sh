#!/bin/sh
# Runs the program given as $1 and checks that it reports success.
set -eu
out="$("$1")"
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q '^OK: no byte lost, none duplicated$'
