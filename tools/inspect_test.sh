#!/usr/bin/env bash
# Drives `soccr inspect` on the golden images (text and JSON compared byte
# for byte with testdata/inspect/, and the JSON also parsed and checked
# field by field), on an image whose socket option needs escaping, and on
# damaged images (the parser's error, exit status 1, one line on stderr,
# nothing on stdout).
#   inspect_test.sh SOCCR MAKE_ODD_IMAGE
#
# The expected outputs in testdata/inspect/ change only when inspect's
# output is meant to change. To regenerate them, from the workspace root:
#   ./bazelw build //tools:soccr //tools/testing:make_odd_image
#   for i in established_v4 other_states three_connections \
#       unknown_socket_option unix_pair; do
#     bazel-bin/tools/soccr inspect testdata/image/v1/$i.soccr \
#       >testdata/inspect/$i.txt
#     bazel-bin/tools/soccr inspect --json testdata/image/v1/$i.soccr \
#       >testdata/inspect/$i.json
#   done
# and odd.txt/odd.json the same way from make_odd_image's output, with its
# directory replaced by TMP/ (as same_as below does).
set -euo pipefail
soccr="$1"
make_odd_image="$2"
golden=testdata/image/v1
expected=testdata/inspect
source tools/testing/cli_test_lib.sh

# same_as FILE: stdout ($tmp/out, with $tmp/ written TMP/) is byte for byte
# $expected/FILE.
same_as() {
  sed "s|$tmp/|TMP/|g" "$tmp/out" >"$tmp/out.cmp"
  cmp -s "$expected/$1" "$tmp/out.cmp" ||
    fail "output differs from $expected/$1 (see the comment at the top to regenerate it if the change is meant):
$(diff -u "$expected/$1" "$tmp/out.cmp" || true)"
}

# --- Every golden image, text and JSON, byte for byte.
for image in established_v4 other_states three_connections \
    unknown_socket_option unix_pair; do
  run 0 inspect "$golden/$image.soccr"
  same_as "$image.txt"
  run 0 inspect --json "$golden/$image.soccr"
  same_as "$image.json"
done

# --- Text.
run 0 inspect "$golden/established_v4.soccr"
has "$golden/established_v4.soccr: soccr image format 1.0, 1 connection, 568 bytes"
has "checksums: verified (XXH3-64 of the header and of every record)"
has "connection 0: ESTABLISHED"
has "  local         127.0.0.1:49158"
has "  peer          127.0.0.1:39703"
has "  receive queue 21 bytes, seq 1599419723..1599419744  \"golden receive queue|\""
has "  send queue    27 bytes (0 not sent yet), seq 3509334018..3509334045"
has "  options       mss 65495, sack, timestamps, window scaling 10 (peer) 10 (ours)"
has "  window        snd_wl1 1599419723, snd_wnd 65536, max_window 65536, rcv_wnd 65536, rcv_wup 1599419744"
has "  socket opts   SO_REUSEADDR=2 SO_KEEPALIVE=1 TCP_NODELAY=1 TCP_KEEPIDLE=600 TCP_KEEPINTVL=75 TCP_KEEPCNT=9 TCP_CONGESTION=reno IP_TTL=64"

run 0 inspect "$golden/other_states.soccr"
has "5 connections"
has "connection 0: LISTEN"
has "  backlog       7"
has "connection 1: CLOSE"
has "  peer          (none)"
has "connection 2: CLOSE_WAIT"
has "connection 3: FIN_WAIT1"
has "connection 4: CLOSE"
has "  pending error ECONNRESET (Connection reset by peer)"

# A socket option this soccr does not know (a later one wrote it): skipped,
# and said.
run 0 inspect "$golden/unknown_socket_option.soccr"
has "  socket opts   SO_KEEPALIVE=1 TCP_KEEPIDLE=600"
has "  skipped opt   option(6, 4242) 4 bytes 01000000 (unknown to this soccr: a restore does without it)"
run 0 inspect --json "$golden/unknown_socket_option.soccr"
python3 - "$tmp/out" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["connections"][0]
assert c["skipped_socket_options"] == [
    {"level": 6, "name": 4242, "value_hex": "01000000"}], c
assert [o["label"] for o in c["socket_options"]][0] == "SO_KEEPALIVE", c
PY

run 0 inspect "$golden/three_connections.soccr"
has "  local         [::1]:50986"
has "  local         [::ffff:127.0.0.1]:56834"
has "  socket opts   (not saved)"

# --- JSON, parsed and checked.
for image in established_v4 three_connections other_states; do
  run 0 inspect --json "$golden/$image.soccr"
  cp "$tmp/out" "$tmp/$image.json"
done
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
def load(name):
    with open(f"{tmp}/{name}.json") as f:
        return json.load(f)

def eq(got, want, what):
    if got != want:
        sys.exit(f"FAIL: {what}: got {got!r}, want {want!r}")

e = load("established_v4")
eq(e["format_version"], "1.0", "format_version")
eq((e["major_version"], e["minor_version"]), (1, 0), "version")
eq(e["checksums_verified"], True, "checksums_verified")
eq(e["file_bytes"], 568, "file_bytes")
eq(len(e["connections"]), 1, "connections")
c = e["connections"][0]
eq(c["state"], "ESTABLISHED", "state")
eq(c["state_number"], 1, "state_number")
eq(c["local"], {"family": "AF_INET", "address": "127.0.0.1", "port": 49158,
                "text": "127.0.0.1:49158"}, "local")
eq(c["peer"]["port"], 39703, "peer port")
eq((c["inq_seq"], c["inq_len"]), (1599419744, 21), "inq")
eq((c["outq_seq"], c["outq_len"], c["unsent_len"]), (3509334045, 27, 0), "outq")
eq(bytes.fromhex(c["recv_queue_head_hex"]), b"golden receive queue|", "recv head")
eq(bytes.fromhex(c["send_queue_head_hex"]), b"golden send queue|golden se", "send head")
eq(c["options"], {"sack": True, "timestamps": True, "window_scaling": True,
                  "snd_wscale": 10, "rcv_wscale": 10, "mss_clamp": 65495}, "options")
eq(c["timestamp"], 3386468608, "timestamp")
eq(c["window"], {"snd_wl1": 1599419723, "snd_wnd": 65536, "max_window": 65536,
                 "rcv_wnd": 65536, "rcv_wup": 1599419744}, "window")
eq(c["buffers"], {"sndbuf": 3939840, "rcvbuf": 131072, "sndbuf_locked": False,
                  "rcvbuf_locked": False}, "buffers")
eq([o["label"] for o in c["socket_options"]],
   ["SO_REUSEADDR", "SO_KEEPALIVE", "TCP_NODELAY", "TCP_KEEPIDLE",
    "TCP_KEEPINTVL", "TCP_KEEPCNT", "TCP_CONGESTION", "IP_TTL"], "option labels")
cc = [o for o in c["socket_options"] if o["label"] == "TCP_CONGESTION"][0]
eq((cc["level"], cc["name"], cc["text"]), (6, 13, "TCP_CONGESTION=reno"), "TCP_CONGESTION")
eq(bytes.fromhex(cc["value_hex"]), b"reno", "TCP_CONGESTION value")
eq((c["listen_backlog"], c["pending_error"], c["pending_error_name"]), (0, 0, None), "no error")

t = load("three_connections")
eq([x["local"]["family"] for x in t["connections"]],
   ["AF_INET", "AF_INET6", "AF_INET6"], "families")
v6, mapped = t["connections"][1], t["connections"][2]
eq((v6["local"]["address"], v6["local"]["v4_mapped"]), ("::1", False), "v6 local")
eq((mapped["local"]["address"], mapped["local"]["v4_mapped"]),
   ("::ffff:127.0.0.1", True), "mapped local")
eq((v6["buffers"], v6["socket_options"]), (None, []), "v6 saved without options")
eq([(x["inq_len"], x["outq_len"], x["unsent_len"]) for x in t["connections"]],
   [(300, 4848, 4848)] * 3, "queues")

o = load("other_states")
eq([x["state"] for x in o["connections"]],
   ["LISTEN", "CLOSE", "CLOSE_WAIT", "FIN_WAIT1", "CLOSE"], "states")
eq(o["connections"][0]["listen_backlog"], 7, "backlog")
eq(o["connections"][0]["peer"], None, "listener peer")
eq(o["connections"][1]["peer"], None, "unconnected peer")
eq((o["connections"][4]["pending_error"], o["connections"][4]["pending_error_name"]),
   (104, "ECONNRESET"), "pending error")
print("json: ok")
PY

# --- Bytes that need escaping reach neither the terminal nor the JSON raw.
"$make_odd_image" "$golden/established_v4.soccr" "$tmp/odd.soccr"
run 0 inspect "$tmp/odd.soccr"
same_as odd.txt
has 'TCP_CONGESTION=r\"e\\n\x0ao\x1b[31m\xff IP_TTL=64'
if grep -q $'\x1b' "$tmp/out"; then fail "an escape byte reached the text output"; fi
run 0 inspect --json "$tmp/odd.soccr"
same_as odd.json
python3 - "$tmp/out" <<'PY'
import json, sys
with open(sys.argv[1], "rb") as f:
    raw = f.read()
assert all(0x20 <= b < 0x7f or b == 0x0a for b in raw), "non-ASCII in the JSON"
c = json.loads(raw)["connections"][0]
cc = [o for o in c["socket_options"] if o["label"] == "TCP_CONGESTION"][0]
want = 'TCP_CONGESTION=r"e\\n\no\x1b[31m\xff'
if cc["text"] != want:
    sys.exit(f"FAIL: escaped text: got {cc['text']!r}, want {want!r}")
assert bytes.fromhex(cc["value_hex"]) == b'r"e\\n\no\x1b[31m\xff'
print("odd json: ok")
PY

# --- Damaged images: the parser's precise error.
python3 - "$golden/established_v4.soccr" "$tmp" <<'PY'
import sys
src, tmp = sys.argv[1], sys.argv[2]
data = bytearray(open(src, "rb").read())
def write(name, b):
    open(f"{tmp}/{name}", "wb").write(bytes(b))
write("truncated.soccr", data[:100])
b = bytearray(data); b[12] ^= 0x80; write("header.soccr", b)          # flags
b = bytearray(data); b[8] = 2; write("v2.soccr", b)                    # major
b = bytearray(data); i = b.find(b"golden send queue|")
b[i] ^= 0x20; write("queue.soccr", b)                                  # 'g' -> 'G'
write("text.soccr", b"hello, this is not an image\n")
write("extra.soccr", data + b"\0" * 8)
PY
error 1 "read image: truncated: the image is 568 bytes, only 100 are there" \
  inspect "$tmp/truncated.soccr"
error 1 "read image: header checksum mismatch: stored 0x" inspect "$tmp/header.soccr"
error 1 "image format version 2.0 is not supported: this reader reads versions 1.x" \
  inspect "$tmp/v2.soccr"
error 1 "read image: connection 0 of 1 (record at offset 64): checksum mismatch: stored 0x" \
  inspect --json "$tmp/queue.soccr"
error 1 "not a soccr image: it does not start with the magic bytes" inspect "$tmp/text.soccr"
error 1 "read image: 8 bytes follow the end of the image (568 bytes)" inspect "$tmp/extra.soccr"
error 1 "open $tmp/missing.soccr: No such file or directory" inspect "$tmp/missing.soccr"
error 1 "$tmp is not a regular file" inspect "$tmp"
# Untrusted files are looked at before they are read whole: a 2 GiB file
# of zeros (sparse) and one of 20 GiB are refused after their first bytes;
# devices and FIFOs are never read.
truncate -s 2G "$tmp/zeros2g.soccr"
truncate -s 20G "$tmp/zeros20g.soccr"
error 1 "not a soccr image: it does not start with the magic bytes 89 53 4f 43 43 52 0d 0a (2147483648 bytes in all)" \
  inspect "$tmp/zeros2g.soccr"
error 1 "(21474836480 bytes in all)" inspect "$tmp/zeros20g.soccr"
error 1 "$tmp/zeros20g.soccr: read image: not a soccr image" \
  restore "$tmp/zeros20g.soccr" -- /bin/true
error 1 "/dev/zero is not a regular file" inspect /dev/zero
mkfifo "$tmp/fifo.soccr"
error 1 "$tmp/fifo.soccr is not a regular file" inspect "$tmp/fifo.soccr"
# The error names the file too.
error 1 "$tmp/queue.soccr: read image:" inspect "$tmp/queue.soccr"

# Past the checksums, the damage shows (and is said to be unchecked).
run 0 inspect --skip-checksums "$tmp/queue.soccr"
has "checksums: NOT verified (--skip-checksums)"
has '"Golden send queue|golden se"'

# --- Usage errors.
error 2 "missing argument; usage: soccr inspect" inspect
error 2 "unexpected argument" inspect a b
error 2 "unknown flag --pid" inspect --pid 1 "$golden/established_v4.soccr"
error 2 "bad value \"maybe\" for --json" inspect --json=maybe x
echo "inspect_test: ok"
