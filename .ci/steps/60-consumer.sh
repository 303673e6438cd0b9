#!/usr/bin/env bash
# soccr as a Bazel dependency: a separate workspace loads @soccr, calls
# soccr_deps(), builds against //soccr and runs a test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/consumer"
../../bazelw test //:uses_soccr_test
