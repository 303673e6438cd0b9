#!/usr/bin/env bash
# Every test again under AddressSanitizer (with LeakSanitizer) and under
# UndefinedBehaviorSanitizer, every report fatal.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
./bazelw test --config=asan //...
./bazelw test --config=ubsan //...
