#!/usr/bin/env bash
# Every C and C++ file is clang-formatted (Google style, .clang-format).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v clang-format >/dev/null || ./bazelw version >/dev/null  # installs it
bad=0
while IFS= read -r f; do
  if ! clang-format --style=file "$f" | cmp -s - "$f"; then
    echo "not clang-formatted: $f (run: clang-format -i $f)"
    bad=1
  fi
done < <(git ls-files '*.cc' '*.h' '*.c' | grep -v '^testdata/')
exit "$bad"
