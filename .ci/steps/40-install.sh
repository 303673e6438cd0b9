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

# Only libsoccr_* leave the shared library.
exported="$(nm -D --defined-only "$prefix/lib/libsoccr.so" |
            awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort)"
unexpected="$(grep -v '^libsoccr_' <<<"$exported" || true)"
if [[ -n "$unexpected" ]]; then
  echo "libsoccr.so exports more than libsoccr_*:" >&2
  echo "$unexpected" >&2
  exit 1
fi
[[ "$(wc -l <<<"$exported")" == 10 ]] || {
  echo "libsoccr.so should export the 10 libsoccr calls:" >&2
  echo "$exported" >&2
  exit 1
}

# Every symbol it needs resolves against its declared dependencies.
if ldd -r "$prefix/lib/libsoccr.so" 2>&1 | grep -i "undefined symbol"; then
  echo "libsoccr.so has undefined symbols" >&2
  exit 1
fi

# The header alone, as C99, C11 and C++ with every warning.
for std in c99 c11; do
  echo '#include <soccr/soccr.h>' |
    cc -std="$std" -pedantic-errors -Wall -Wextra -Werror \
      $(pkg-config --cflags libsoccr) -x c -c - -o /dev/null
done
echo '#include <soccr/soccr.h>' |
  c++ -std=c++11 -pedantic-errors -Wall -Wextra -Werror \
    $(pkg-config --cflags libsoccr) -x c++ -c - -o /dev/null

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
