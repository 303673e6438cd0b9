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
cflags=(-std=c11 -Wall -Wextra -Werror)

# Only libsoccr_* (LIBSOCCR_1) and soccr_move_* (LIBSOCCR_2) leave the
# shared library.
exported="$(nm -D --defined-only "$prefix/lib/libsoccr.so" |
            awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort)"
unexpected="$(grep -v -e '^libsoccr_' -e '^soccr_move_' <<<"$exported" || true)"
if [[ -n "$unexpected" ]]; then
  echo "libsoccr.so exports more than libsoccr_* and soccr_move_*:" >&2
  echo "$unexpected" >&2
  exit 1
fi
[[ "$(grep -c '^libsoccr_' <<<"$exported")" == 10 &&
   "$(grep -c '^soccr_move_' <<<"$exported")" == 7 ]] || {
  echo "libsoccr.so should export the 10 libsoccr calls and the 7 soccr_move calls:" >&2
  echo "$exported" >&2
  exit 1
}
# Each in its version node: the old ones never move.
nm -D --defined-only "$prefix/lib/libsoccr.so" | grep ' libsoccr_pause@@LIBSOCCR_1$' >/dev/null
nm -D --defined-only "$prefix/lib/libsoccr.so" | grep ' soccr_move_send@@LIBSOCCR_2$' >/dev/null

# Every symbol it needs resolves against its declared dependencies.
if ldd -r "$prefix/lib/libsoccr.so" 2>&1 | grep -i "undefined symbol"; then
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
ldd "$tmp/migrate" | grep "$prefix/lib/libsoccr.so" >/dev/null
run "$tmp/migrate"

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
