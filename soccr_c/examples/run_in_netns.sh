#!/usr/bin/env bash
# Runs a program in a private user and network namespace with lo up, where
# it has CAP_NET_ADMIN (as TCP repair needs) without root on the host.
#   run_in_netns.sh PROGRAM [ARGS...]
set -euo pipefail
exec unshare -Urn sh -c 'ip link set lo up && exec "$@"' sh "$@"
