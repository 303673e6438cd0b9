# Sourced by the manual pages' tests (man_test.sh, repair_man_test.sh).
#   render_page PAGE SECTION...
# renders PAGE as man(1) shows it at 80 columns into $tmp/man.txt, fails on
# any groff warning or a missing SECTION heading, and sets $flat to the
# rendered text on one line, spaces squeezed (man justifies and wraps).
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp="${TEST_TMPDIR:-$(mktemp -d)}"

render_page() {
  local page="$1" section
  shift
  MANWIDTH=80 man -l --warnings=all "$page" >"$tmp/man.txt" 2>"$tmp/warn" ||
    fail "man -l failed: $(cat "$tmp/warn")"
  [[ ! -s "$tmp/warn" ]] || fail "groff warnings: $(cat "$tmp/warn")"
  for section in "$@"; do
    grep -q "^$section\$" "$tmp/man.txt" || fail "no $section section"
  done
  flat="$(tr -s ' \n' '  ' <"$tmp/man.txt" | sed 's/‐ //g')"
}
