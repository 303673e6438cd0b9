#!/usr/bin/env bash
# Installs soccr's C library for C callers:
#
#   ./bazelw run -c opt //:install -- --prefix DIR
#
# gives DIR/include/soccr/soccr.h, DIR/lib/libsoccr.so, DIR/lib/libsoccr.a
# and DIR/lib/pkgconfig/libsoccr.pc. A relative DIR is taken from the
# directory `bazel run` was started in. Outside /usr and /usr/local the .pc
# adds an rpath, so that programs built with it run without LD_LIBRARY_PATH.
set -euo pipefail

usage() {
  echo "usage: bazel run //:install -- --prefix DIR" >&2
}

prefix=""
while (($#)); do
  case "$1" in
    --prefix) [[ $# -ge 2 ]] || { usage; exit 2; }; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install: unknown argument: $1" >&2; usage; exit 2 ;;
  esac
done
[[ -n "$prefix" ]] || { usage; exit 2; }
if [[ "$prefix" != /* ]]; then
  prefix="${BUILD_WORKING_DIRECTORY:-$PWD}/$prefix"
fi
prefix="${prefix%/}"

# The files, from this binary's runfiles.
runfiles="${RUNFILES_DIR:-$0.runfiles}/soccr/soccr_c"
for f in soccr.h move.h libsoccr.so libsoccr.a libsoccr.pc.in; do
  [[ -f "$runfiles/$f" ]] || { echo "install: $runfiles/$f is missing" >&2; exit 1; }
done

rpath=""
case "$prefix" in
  /usr|/usr/local) ;;
  *) rpath=' -Wl,-rpath,${libdir}' ;;
esac

install -d "$prefix/include/soccr" "$prefix/lib/pkgconfig"
install -m 0644 "$runfiles/soccr.h" "$prefix/include/soccr/soccr.h"
install -m 0644 "$runfiles/move.h" "$prefix/include/soccr/move.h"
install -m 0755 "$runfiles/libsoccr.so" "$prefix/lib/libsoccr.so"
install -m 0644 "$runfiles/libsoccr.a" "$prefix/lib/libsoccr.a"
sed -e "s|@PREFIX@|$prefix|" \
    -e "s|@VERSION@|0.1.0|" \
    -e "s|@RPATH@|$rpath|" \
    "$runfiles/libsoccr.pc.in" > "$prefix/lib/pkgconfig/libsoccr.pc"
chmod 0644 "$prefix/lib/pkgconfig/libsoccr.pc"
echo "installed libsoccr in $prefix:"
echo "  $prefix/include/soccr/soccr.h"
echo "  $prefix/include/soccr/move.h"
echo "  $prefix/lib/libsoccr.so"
echo "  $prefix/lib/libsoccr.a"
echo "  $prefix/lib/pkgconfig/libsoccr.pc"
