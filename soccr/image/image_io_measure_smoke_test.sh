#!/usr/bin/env bash
# Runs image_io_measure with a 2 MiB connection: every step must work and
# the restored connection must deliver every byte (the tool checks).
set -euo pipefail
out="$("$1" --mib=2 --repeat=1)"
echo "$out"
grep -q "^verified: every byte delivered" <<<"$out"
grep -q "^WriteImage to a file" <<<"$out"
grep -q "^map + ImageReader::Read" <<<"$out"
