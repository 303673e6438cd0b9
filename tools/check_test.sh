#!/usr/bin/env bash
# Drives `soccr check`: in a private namespace (every basic feature there),
# without CAP_NET_ADMIN over the network namespace (repair mode missing,
# exit status 1), and with lo down (no connection to probe with).
#   check_test.sh SOCCR
set -euo pipefail
soccr="$1"
source tools/testing/cli_test_lib.sh

# The --json run JSON says, feature by feature, what the text run TEXT of
# the same check said: the same features in the same order, each with the
# text's verdict, basic mark (*) and detail. So the JSON's verdicts are
# held to the text lines above, which are held to the kernel.
same_verdicts() {
  python3 - "$1" "$2" <<'PY' || fail "text and --json disagree: $(cat "$1" "$2")"
import json, re, sys
text = open(sys.argv[1]).read().splitlines()
features = json.load(open(sys.argv[2]))["features"]
lines = [l for l in text if re.match(r"^(ok|missing|skipped) ", l)]
if len(lines) != len(features):
    sys.exit(f"{len(lines)} verdict lines, {len(features)} features")
for line, f in zip(lines, features):
    m = re.match(r"^(ok|missing|skipped) +(\* )?(.+?)  +(.*)$", line)
    if not m:
        sys.exit(f"unparsed line: {line!r}")
    got = (m.group(1), m.group(2) is not None, m.group(3), m.group(4))
    want = (f["result"], f["basic"], f["feature"], f["detail"])
    if got != want:
        sys.exit(f"text {got} but --json {want}")
PY
}

run 0 check --private-netns
cp "$tmp/out" "$tmp/text"
has_line "^Linux .*, CAP_NET_ADMIN yes, CAP_NET_RAW yes, network namespace net:\["
for feature in "loopback connection" "repair mode \(TCP_REPAIR\)" \
  "repair queues \(TCP_REPAIR_QUEUE\)" "repair options \(TCP_REPAIR_OPTIONS\)" \
  "timestamps \(TCP_TIMESTAMP\)" "checkpoint and restore"; do
  has_line "^ok      \* $feature  "
done
has_line "^ok        repair window \(TCP_REPAIR_WINDOW\) "
has_line "^ok        repair off without window probe "
has_line "^ok        raw packet injection \(CAP_NET_RAW\) +a CLOSE_WAIT connection restored, the peer's FIN injected with mark 0xc114$"
# Without CAP_NET_ADMIN in the initial user namespace, FORCE is refused;
# the line says what a restore does instead.
has_line "^missing   raising buffers \(SO_\*BUFFORCE\) +setsockopt\(SO_SNDBUFFORCE\): Operation not permitted \(needs CAP_NET_ADMIN in the initial user namespace\)\. Restores fall back to SO_SNDBUF/SO_RCVBUF, capped by net\.core\.wmem_max=[0-9]+ "
# What soccr refuses, tried for real where the kernel has the feature: a
# verdict with a reason either way. Which verdict is right is the kernel's
# to say, asked here directly (python3's socket module, no soccr code):
# TCP_MD5SIG accepted on a plain socket (CONFIG_TCP_MD5SIG), TCP_AO_INFO
# not ENOPROTOOPT (CONFIG_TCP_AO), "tls" among the loaded ULPs (a user
# namespace cannot load the module, so the probe sees only loaded ones).
kernel_has() {
  python3 - "$1" <<'PY'
import errno, socket, struct, sys
s = socket.socket()
try:
    if sys.argv[1] == "md5":
        addr = struct.pack("=H", socket.AF_INET) + struct.pack("!H", 0)
        addr = (addr + socket.inet_aton("127.0.0.1")).ljust(128, b"\0")
        key = addr + struct.pack("=BBHi", 0, 0, 4, 0) + b"key!".ljust(80, b"\0")
        s.setsockopt(socket.IPPROTO_TCP, 14, key)  # TCP_MD5SIG
    elif sys.argv[1] == "ao":
        try:
            s.getsockopt(socket.IPPROTO_TCP, 40, 64)  # TCP_AO_INFO
        except OSError as e:
            if e.errno == errno.ENOPROTOOPT:
                raise
except OSError:
    sys.exit(1)
PY
}
if kernel_has md5; then
  has_line "^ok        TCP-MD5 connections refused +a connection signed with TCP-MD5 was refused at checkpoint"
else
  has_line "^missing   TCP-MD5 connections refused +setsockopt\(TCP_MD5SIG\)"
fi
if kernel_has ao; then
  has_line "^ok        TCP-AO connections refused +the kernel has TCP-AO: a connection with keys \(TCP_AO_INFO\) is refused at checkpoint"
else
  has_line "^missing   TCP-AO connections refused +getsockopt\(TCP_AO_INFO\): Protocol not available \(a kernel without CONFIG_TCP_AO"
fi
if grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp; then
  has_line "^ok        kTLS connections refused +a kTLS connection was refused at checkpoint \(TCP_ULP\)$"
else
  has_line "^missing   kTLS connections refused +setsockopt\(TCP_ULP, \"tls\"\): No such file or directory \(the tls module is not loaded"
fi
has "all basic features (*) are present: soccr can checkpoint and restore connections here"
[[ "$(wc -l <"$tmp/out")" == 15 ]] || fail "want 15 lines: $(cat "$tmp/out")"

# --json: the same probes as one object (docs/json-output.md).
run 0 check --private-netns --json
json "$tmp/out" context~'Linux .*CAP_NET_ADMIN yes.*' basics_present=true \
  'features[].feature~.+' 'features[].basic~true|false' \
  'features[].result~ok|missing|skipped' 'features[].detail~.*' \
  features.1.feature='repair mode (TCP_REPAIR)' features.1.basic=true features.1.result=ok
[[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["features"]))' "$tmp/out")" == 13 ]] ||
  fail "want 13 features: $(cat "$tmp/out")"
same_verdicts "$tmp/text" "$tmp/out"

# A user namespace of its own inside a network namespace that belongs to
# the parent one: no CAP_NET_ADMIN (nor CAP_NET_RAW) over it.
nested="$tmp/nested.sh"
cat >"$nested" <<'SH'
ip link set lo up && exec unshare -U "$@"
SH
status=0
unshare -Urn sh "$nested" "$soccr" check >"$tmp/out" 2>"$tmp/err" || status=$?
[[ "$status" == 1 ]] || fail "check without CAP_NET_ADMIN exited $status: $(cat "$tmp/out" "$tmp/err")"
cp "$tmp/out" "$tmp/text"
has_line "CAP_NET_ADMIN no, CAP_NET_RAW no"
has_line "^ok      \* loopback connection "
has_line "^missing \* repair mode \(TCP_REPAIR\) +setsockopt\(TCP_REPAIR\): Operation not permitted \(needs CAP_NET_ADMIN over this network namespace; \`soccr check --private-netns\` shows what the kernel supports\)$"
has_line "^skipped \* repair queues \(TCP_REPAIR_QUEUE\) +needs repair mode$"
has_line "^skipped \* checkpoint and restore +needs repair mode$"
has_line "^missing   raw packet injection \(CAP_NET_RAW\) +socket\(AF_INET, SOCK_RAW\): Operation not permitted \(needs CAP_NET_RAW\); connections in FIN_WAIT1"
has "basic features (*) missing: repair mode (TCP_REPAIR), repair queues (TCP_REPAIR_QUEUE), repair options (TCP_REPAIR_OPTIONS), timestamps (TCP_TIMESTAMP), checkpoint and restore; soccr cannot checkpoint and restore connections here"
status=0
unshare -Urn sh "$nested" "$soccr" check --json >"$tmp/out" 2>"$tmp/err" || status=$?
[[ "$status" == 1 ]] || fail "check --json without CAP_NET_ADMIN exited $status"
json "$tmp/out" basics_present=false features.1.result=missing \
  features.1.detail~'setsockopt\(TCP_REPAIR\): Operation not permitted.*'
same_verdicts "$tmp/text" "$tmp/out"

# A network namespace whose lo is down: nothing to probe with.
status=0
unshare -Urn "$soccr" check >"$tmp/out" 2>"$tmp/err" || status=$?
[[ "$status" == 1 ]] || fail "check with lo down exited $status"
has_line "^missing \* loopback connection +.*Network is unreachable \(is lo up in this network namespace\?\)$"
has_line "^skipped \* repair mode \(TCP_REPAIR\) +needs a connection$"

error 2 "unexpected argument \"now\"" check now
error 2 "unknown flag --skip-checksums" check --skip-checksums
echo "check_test: ok"
