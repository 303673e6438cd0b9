#!/usr/bin/env bash
# The installed C library, as a C caller outside Bazel sees it: install to a
# temporary prefix, build a libsoccr program with pkg-config against
# libsoccr.so and again against libsoccr.a, and run both in a private user
# and network namespace.
set -euo pipefail
trap 'echo "40-install.sh: failed at line $LINENO" >&2' ERR
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

./bazelw run -c opt //:install -- --prefix "$prefix"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"

# The command and the repair helper, whose --help says how to grant it the
# capability.
[[ -x "$prefix/bin/soccr" && -x "$prefix/bin/soccr-repair" ]]
"$prefix/bin/soccr-repair" --help | grep 'setcap cap_net_admin+ep' >/dev/null
cflags=(-std=c11 -Wall -Wextra -Werror)

lib="$prefix/lib"
# Debian's layout: the library under its soname, libsoccr.so.1, the
# development link libsoccr.so -> libsoccr.so.1 (what -lsoccr finds).
[[ -f "$lib/libsoccr.so.1" && ! -L "$lib/libsoccr.so.1" ]] || {
  echo "no $lib/libsoccr.so.1 file" >&2; exit 1; }
[[ -L "$lib/libsoccr.so" && "$(readlink "$lib/libsoccr.so")" == libsoccr.so.1 ]] || {
  echo "$lib/libsoccr.so should be a link to libsoccr.so.1" >&2; exit 1; }
soname="$(readelf -d "$lib/libsoccr.so.1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[[ "$soname" == libsoccr.so.1 ]] || {
  echo "libsoccr.so.1's soname is \"$soname\", not libsoccr.so.1" >&2; exit 1; }

# The version, from the one VERSION file: libsoccr.pc's, the library's
# soccr_version() (checked by the program below) and `soccr --version`
# (tools/help_test.sh).
version="$(cat VERSION)"
[[ "$(pkg-config --modversion libsoccr)" == "$version" ]] || {
  echo "libsoccr.pc: Version $(pkg-config --modversion libsoccr), VERSION has $version" >&2
  exit 1; }

# Only libsoccr_* (LIBSOCCR_1), soccr_move_* (LIBSOCCR_2), soccr_version
# (LIBSOCCR_3) and soccr_sock_diag_keep (LIBSOCCR_4) leave the shared
# library.
exported="$(nm -D --defined-only "$lib/libsoccr.so.1" |
            awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort)"
unexpected="$(grep -v -e '^libsoccr_' -e '^soccr_move_' -e '^soccr_version$' \
                      -e '^soccr_sock_diag_keep$' <<<"$exported" || true)"
if [[ -n "$unexpected" ]]; then
  echo "libsoccr.so exports more than libsoccr_*, soccr_move_*, soccr_version and soccr_sock_diag_keep:" >&2
  echo "$unexpected" >&2
  exit 1
fi
[[ "$(grep -c '^libsoccr_' <<<"$exported")" == 10 &&
   "$(grep -c '^soccr_move_' <<<"$exported")" == 7 &&
   "$(grep -c '^soccr_version$' <<<"$exported")" == 1 &&
   "$(grep -c '^soccr_sock_diag_keep$' <<<"$exported")" == 1 ]] || {
  echo "libsoccr.so should export the 10 libsoccr calls, the 7 soccr_move calls, soccr_version and soccr_sock_diag_keep:" >&2
  echo "$exported" >&2
  exit 1
}
# Each in its version node: the old ones never move.
nm -D --defined-only "$lib/libsoccr.so.1" | grep ' libsoccr_pause@@LIBSOCCR_1$' >/dev/null
nm -D --defined-only "$lib/libsoccr.so.1" | grep ' soccr_move_send@@LIBSOCCR_2$' >/dev/null
nm -D --defined-only "$lib/libsoccr.so.1" | grep ' soccr_version@@LIBSOCCR_3$' >/dev/null
nm -D --defined-only "$lib/libsoccr.so.1" | grep ' soccr_sock_diag_keep@@LIBSOCCR_4$' >/dev/null

# The manual page renders without a warning, with its version and a
# section per subcommand (tools/man/man_test.sh checks the content).
man1="$prefix/share/man/man1/soccr.1.gz"
MANWIDTH=80 man -l --warnings=all "$man1" >"$tmp/soccr.1.txt" 2>"$tmp/man.err" || {
  echo "man -l $man1 failed: $(cat "$tmp/man.err")" >&2; exit 1; }
[[ ! -s "$tmp/man.err" ]] || { echo "soccr(1): $(cat "$tmp/man.err")" >&2; exit 1; }
grep -q "^soccr $version  .*SOCCR(1)\$" "$tmp/soccr.1.txt" || {
  echo "soccr(1) does not say soccr $version: $(tail -1 "$tmp/soccr.1.txt")" >&2; exit 1; }
grep -q "^   soccr dump\$" "$tmp/soccr.1.txt"
MANPATH="$prefix/share/man" man -w soccr | grep "^$man1\$" >/dev/null
# soccr-repair(8) likewise (tools/man/repair_man_test.sh checks the content).
man8="$prefix/share/man/man8/soccr-repair.8.gz"
MANWIDTH=80 man -l --warnings=all "$man8" >"$tmp/soccr-repair.8.txt" 2>"$tmp/man.err" || {
  echo "man -l $man8 failed: $(cat "$tmp/man.err")" >&2; exit 1; }
[[ ! -s "$tmp/man.err" ]] || { echo "soccr-repair(8): $(cat "$tmp/man.err")" >&2; exit 1; }
grep -q "^soccr-repair $version  .*SOCCR-REPAIR(8)\$" "$tmp/soccr-repair.8.txt" || {
  echo "soccr-repair(8) does not say soccr-repair $version: $(tail -1 "$tmp/soccr-repair.8.txt")" >&2; exit 1; }
grep -q "^SYNOPSIS\$" "$tmp/soccr-repair.8.txt"
MANPATH="$prefix/share/man" man -w 8 soccr-repair | grep "^$man8\$" >/dev/null
[[ "$("$prefix/bin/soccr-repair" --version)" == "soccr-repair $version" ]] || {
  echo "soccr-repair --version: $("$prefix/bin/soccr-repair" --version)" >&2; exit 1; }

# Every symbol it needs resolves against its declared dependencies.
if ldd -r "$lib/libsoccr.so.1" 2>&1 | grep -i "undefined symbol"; then
  echo "libsoccr.so has undefined symbols" >&2
  exit 1
fi

# The headers alone, as C99, C11 and C++ with every warning.
for h in soccr/soccr.h soccr/move.h; do
  for std in c99 c11; do
    echo "#include <$h>" |
      cc -std="$std" -pedantic-errors -Wall -Wextra -Werror \
        $(pkg-config --cflags libsoccr) -x c -c - -o /dev/null
  done
  echo "#include <$h>" |
    c++ -std=c++11 -pedantic-errors -Wall -Wextra -Werror \
      $(pkg-config --cflags libsoccr) -x c++ -c - -o /dev/null
done

run() { unshare -Urn sh -c 'ip link set lo up && exec "$@"' sh "$@"; }

# Shared: what `pkg-config --cflags --libs` gives.
cc "${cflags[@]}" soccr_c/examples/migrate.c \
  $(pkg-config --cflags --libs libsoccr) -o "$tmp/migrate"
# (grep without -q: an early exit would kill ldd with SIGPIPE, and pipefail
# would turn that into a failure.)
ldd "$tmp/migrate" | grep "libsoccr.so.1 => $lib/libsoccr.so.1" >/dev/null
readelf -d "$tmp/migrate" | grep 'NEEDED.*\[libsoccr.so.1\]' >/dev/null
run "$tmp/migrate"
# soccr_version() of the installed library, from C.
printf '%s\n' '#include <soccr/move.h>' '#include <stdio.h>' \
  'int main(void) { puts(soccr_version()); return 0; }' >"$tmp/version.c"
cc "${cflags[@]}" "$tmp/version.c" $(pkg-config --cflags --libs libsoccr) -o "$tmp/version"
[[ "$("$tmp/version")" == "$version" ]] || {
  echo "soccr_version() says $("$tmp/version"), VERSION has $version" >&2; exit 1; }

# Static: libsoccr.a, with `pkg-config --static` for what it needs.
cc "${cflags[@]}" soccr_c/examples/migrate.c $(pkg-config --cflags libsoccr) \
  $(pkg-config --static --libs libsoccr | sed 's/-lsoccr /-l:libsoccr.a /') \
  -o "$tmp/migrate_static"
if ldd "$tmp/migrate_static" | grep libsoccr; then
  echo "migrate_static should not need libsoccr.so" >&2
  exit 1
fi
run "$tmp/migrate_static"
echo "installed libsoccr: OK"
