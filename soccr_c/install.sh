#!/usr/bin/env bash
# Installs soccr's C library for C callers:
#
#   ./bazelw run -c opt //:install -- --prefix DIR
#
# gives DIR/include/soccr/soccr.h and move.h, DIR/lib/libsoccr.so.1 (soname
# libsoccr.so.1) with its development link DIR/lib/libsoccr.so ->
# libsoccr.so.1 (Debian's shared-library layout), DIR/lib/libsoccr.a,
# DIR/lib/pkgconfig/libsoccr.pc, whose Version is the top-level VERSION
# file's, the manual pages DIR/share/man/man1/soccr.1.gz and
# DIR/share/man/man8/soccr-repair.8.gz (generated from the programs' --help
# by help2man, //tools:soccr_man and :soccr_repair_man), and DIR/bin/soccr (the
# command) and DIR/bin/soccr-repair (the repair helper for unprivileged
# callers; grant it the capability with `setcap cap_net_admin+ep
# DIR/bin/soccr-repair`). A relative DIR is taken from the
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
for f in soccr.h move.h libsoccr.so.1 libsoccr.a libsoccr.pc.in ../VERSION; do
  [[ -f "$runfiles/$f" ]] || { echo "install: $runfiles/$f is missing" >&2; exit 1; }
done
version="$(cat "$runfiles/../VERSION")"
man1="$runfiles/../tools/soccr.1"
man8="$runfiles/../tools/soccr-repair.8"
for f in "$man1" "$man8"; do
  [[ -f "$f" ]] || { echo "install: $f is missing" >&2; exit 1; }
done
tools="${RUNFILES_DIR:-$0.runfiles}/soccr/tools"
for f in soccr soccr-repair; do
  [[ -f "$tools/$f" ]] || { echo "install: $tools/$f is missing" >&2; exit 1; }
done

rpath=""
case "$prefix" in
  /usr|/usr/local) ;;
  *) rpath=' -Wl,-rpath,${libdir}' ;;
esac

install -d "$prefix/include/soccr" "$prefix/lib/pkgconfig" "$prefix/share/man/man1" "$prefix/share/man/man8" "$prefix/bin"
install -m 0755 "$tools/soccr" "$prefix/bin/soccr"
install -m 0755 "$tools/soccr-repair" "$prefix/bin/soccr-repair"
install -m 0644 "$runfiles/soccr.h" "$prefix/include/soccr/soccr.h"
install -m 0644 "$runfiles/move.h" "$prefix/include/soccr/move.h"
install -m 0755 "$runfiles/libsoccr.so.1" "$prefix/lib/libsoccr.so.1"
ln -sfn libsoccr.so.1 "$prefix/lib/libsoccr.so"
install -m 0644 "$runfiles/libsoccr.a" "$prefix/lib/libsoccr.a"
sed -e "s|@PREFIX@|$prefix|" \
    -e "s|@VERSION@|$version|" \
    -e "s|@RPATH@|$rpath|" \
    "$runfiles/libsoccr.pc.in" > "$prefix/lib/pkgconfig/libsoccr.pc"
chmod 0644 "$prefix/lib/pkgconfig/libsoccr.pc"
# Compressed, without a timestamp, as Debian installs manual pages.
gzip -9n <"$man1" >"$prefix/share/man/man1/soccr.1.gz"
chmod 0644 "$prefix/share/man/man1/soccr.1.gz"
gzip -9n <"$man8" >"$prefix/share/man/man8/soccr-repair.8.gz"
chmod 0644 "$prefix/share/man/man8/soccr-repair.8.gz"
echo "installed libsoccr $version in $prefix:"
echo "  $prefix/include/soccr/soccr.h"
echo "  $prefix/include/soccr/move.h"
echo "  $prefix/lib/libsoccr.so.1"
echo "  $prefix/lib/libsoccr.so -> libsoccr.so.1"
echo "  $prefix/lib/libsoccr.a"
echo "  $prefix/lib/pkgconfig/libsoccr.pc"
echo "  $prefix/share/man/man1/soccr.1.gz"
echo "  $prefix/share/man/man8/soccr-repair.8.gz"
echo "  $prefix/bin/soccr"
echo "  $prefix/bin/soccr-repair (unprivileged callers: setcap cap_net_admin+ep)"
