#!/usr/bin/env bash
# Every test again under AddressSanitizer (with LeakSanitizer) and
# UndefinedBehaviorSanitizer together (--config=sanitize), every report fatal.
# One instrumented build and one pass over the suite: the two sanitizers
# combine, and running them separately doubled this step's time.
# --config=asan and --config=ubsan stay for running one alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
./bazelw test --config=sanitize //...
