#!/usr/bin/env python3
"""Checks that a file holds exactly one JSON object, with given fields.

  check_json.py FILE [PATH[=VALUE] | PATH~REGEX]...

PATH is dotted: `connection.local.port`, `features.0.result`; `[]` stands
for every element of a non-empty array (`features[].detail`). `=VALUE`
compares a string with VALUE, anything else with its JSON text (`true`,
`3`, `null`); `~REGEX` matches the string form with re.fullmatch. Exits 1
with the reason on the first mismatch, 2 on usage errors. (The --json
outputs' tests use it: python3's json module is the parser, not ours.)
"""
import json
import re
import sys


def fail(msg):
    print(f"check_json: {msg}", file=sys.stderr)
    sys.exit(1)


def no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            fail(f"duplicate key {k!r}")
        seen[k] = v
    return seen


def reject_constant(name):
    fail(f"not JSON: {name}")


def lookup(value, parts, where):
    """Every value PATH names (several with [])."""
    if not parts:
        return [(where, value)]
    part, rest = parts[0], parts[1:]
    if part.endswith("[]"):
        key = part[:-2]
        if key:
            value = lookup(value, [key], where)[0][1]
            where = f"{where}.{key}"
        if not isinstance(value, list) or not value:
            fail(f"{where}: not a non-empty array")
        out = []
        for i, v in enumerate(value):
            out += lookup(v, rest, f"{where}[{i}]")
        return out
    if isinstance(value, list):
        if not part.isdigit() or int(part) >= len(value):
            fail(f"{where}: no element {part}")
        return lookup(value[int(part)], rest, f"{where}.{part}")
    if not isinstance(value, dict) or part not in value:
        fail(f"{where}: no field {part!r}")
    return lookup(value[part], rest, f"{where}.{part}")


def text(v):
    return v if isinstance(v, str) else json.dumps(v)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    with open(argv[1], "rb") as f:
        raw = f.read()
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates,
                         parse_constant=reject_constant)
    except (ValueError, UnicodeDecodeError) as e:
        fail(f"{argv[1]}: not one JSON document: {e}: {raw[:500]!r}")
    if not isinstance(doc, dict):
        fail(f"{argv[1]}: not a JSON object")
    for spec in argv[2:]:
        m = re.fullmatch(r"([^=~]+)(?:([=~])(.*))?", spec, re.S)
        if not m:
            print(f"check_json: bad spec {spec!r}", file=sys.stderr)
            sys.exit(2)
        path, op, want = m.groups()
        for where, v in lookup(doc, path.split("."), "$"):
            if op == "=" and text(v) != want:
                fail(f"{where} is {text(v)!r}, want {want!r}")
            if op == "~" and not re.fullmatch(want, text(v), re.S):
                fail(f"{where} is {text(v)!r}, want /{want}/")
    print(f"check_json: {argv[1]}: ok ({len(argv) - 2} checks)")


if __name__ == "__main__":
    main(sys.argv)
