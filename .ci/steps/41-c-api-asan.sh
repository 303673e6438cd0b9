#!/usr/bin/env bash
# The C API's tests under AddressSanitizer and LeakSanitizer: every buffer
# handed across SOCCR_MEM_EXCL freed exactly once, by its owner.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
./bazelw test --config=asan //soccr_c/...
