#!/usr/bin/env python3
"""Prints the tables of bench/README.md's "Current figures" from one run.

    bench/readme_tables.py BENCH.json > tables.md

BENCH.json is what `bench/run.sh` writes (Google Benchmark's JSON, with
repetitions: the medians are taken). The tables come out in the README's
order and wording, each under its "###" heading, so that the README's
figures can be replaced by those of a new run of the whole suite without
copying numbers by hand; the prose around them (what moved, why) is the
writer's. A benchmark missing from the run leaves its cells empty.
"""

import json
import os
import sys

# The report's own reading of a run (names without their timing and
# iterations suffixes, medians where there are repetitions), so that both
# read every benchmark the same way.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import human_bytes, pick_rows, to_seconds  # noqa: E402

MIB = 1 << 20
SIZES = (1 * MIB, 4 * MIB, 16 * MIB, 64 * MIB)
KERNEL_SIZES = (1 * MIB, 16 * MIB, 64 * MIB)


class Run:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.rows = pick_rows(json.load(f)["benchmarks"])

    def row(self, name):
        return self.rows.get(name)

    def sized(self, family, n):
        return self.rows.get(f"{family}/{n}")

    def bps(self, family, n, key="bytes_per_second"):
        r = self.sized(family, n)
        return r.get(key) if r else None

    def ratio(self, family, n):
        """Wall-clock bytes per second over Memcpy's, same size."""
        b = self.bps(family, n)
        m = self.bps("Memcpy", n)
        return b / m if b and m else None

    def cpu_ratio(self, family, n):
        """CPU-time bytes per second over Memcpy's CPU time (hot loops)."""
        b = self.bps(family, n)
        m = self.bps("Memcpy", n, "cpu_bytes_per_second")
        return b / m if b and m else None

    def ms(self, family, n):
        """Wall-clock milliseconds per call (real_time: the manual time
        where the benchmark times itself)."""
        r = self.sized(family, n)
        if r is None or "real_time" not in r:
            return None
        return to_seconds(r["real_time"], r.get("time_unit", "ns")) * 1e3


def cell(v, fmt="{:.2f}"):
    return "" if v is None else fmt.format(v)


def table(header, rows):
    cols = len(header)
    print("| " + " | ".join(header) + " |")
    print("|---" + "|---:" * (cols - 1) + "|")
    for r in rows:
        print("|" + "|".join(f" {c} " if c else " " for c in r) + "|")
    print()


def memcpy_row(run, sizes=SIZES):
    return ["`Memcpy` GB/s (wall)"] + [
        cell(run.bps("Memcpy", n) and run.bps("Memcpy", n) / 1e9, "{:.1f}")
        for n in sizes]


def ratio_table(run, title, rows):
    table([title] + [human_bytes(n) for n in SIZES],
          [memcpy_row(run)] + [[label] + [cell(run.ratio(f, n)) for n in SIZES]
                               for f, label in rows])


def cold(run):
    print("### Cold: what a caller sees\n")
    ratio_table(run, "drain (checkpoint), ratio to memcpy", [
        ("ColdCheckpointRecv", "`ColdCheckpointRecv` (C++)"),
        ("CColdCheckpointRecv", "`CColdCheckpointRecv` (C)"),
        ("ColdCheckpointSend", "`ColdCheckpointSend` (C++)"),
        ("CColdCheckpointSend", "`CColdCheckpointSend` (C)")])
    ratio_table(run, "refill (restore), ratio to memcpy", [
        ("ColdRestoreRecv", "`ColdRestoreRecv` (C++)"),
        ("CColdRestoreRecv", "`CColdRestoreRecv` (C)"),
        ("CColdRestoreRecvExcl",
         "`CColdRestoreRecvExcl` (C, `SOCCR_MEM_EXCL`)"),
        ("ColdRestoreSend", "`ColdRestoreSend` (C++, with `Resume()`)"),
        ("CColdRestoreSend", "`CColdRestoreSend` (C)"),
        ("CColdRestoreSendExcl",
         "`CColdRestoreSendExcl` (C, `SOCCR_MEM_EXCL`)"),
        ("ColdPlainSend", "`ColdPlainSend` (no soccr: the kernel's send path)")])
    ratio_table(run, "end to end, ratio to memcpy", [
        ("ColdEndToEndMemfd", "`ColdEndToEndMemfd`"),
        ("ColdEndToEndExt4", "`ColdEndToEndExt4`"),
        ("ColdEndToEndStream", "`ColdEndToEndStream` (pipe)")])


def kernel_paths(run):
    print("### The kernel's own paths beside them\n")
    def rows(spec):
        return [[label] + [cell(run.ms(f, n), "{:.3f}") for n in KERNEL_SIZES]
                for f, label in spec]
    table(["receive queue, ms per call"] + [human_bytes(n) for n in KERNEL_SIZES],
          rows([("Memcpy", "`Memcpy` (warm buffers, the reference)"),
                ("PeekWarmRecv", "`PeekWarmRecv`: the kernel's copy into "
                 "faulted-in memory (hot)"),
                ("FreshBuffer", "`FreshBuffer`: new memory, allocated, "
                 "zeroed, freed (hot)"),
                ("PeekFreshRecv", "`PeekFreshRecv`: the copy into new memory "
                 "(hot)"),
                ("ColdCheckpointRecv", "`ColdCheckpointRecv` (C++, pause + "
                 "whole checkpoint)"),
                ("CColdCheckpointRecv", "`CColdCheckpointRecv` (C)"),
                ("RefillRecv", "`RefillRecv`: the repair-mode writes alone"),
                ("ColdRestoreRecv", "`ColdRestoreRecv` (C++)"),
                ("CColdRestoreRecv", "`CColdRestoreRecv` (C)")]))
    table(["send queue, ms per call"] + [human_bytes(n) for n in KERNEL_SIZES],
          rows([("ColdPlainSend", "`ColdPlainSend`: `send()` into a fresh "
                 "pair"),
                ("ColdRestoreSend", "`ColdRestoreSend` (C++)"),
                ("CColdRestoreSend", "`CColdRestoreSend` (C)"),
                ("CColdRestoreSendExcl", "`CColdRestoreSendExcl` (C, "
                 "`SOCCR_MEM_EXCL`)")]))


def first_call(run):
    print("### First call in a fresh process\n")
    sizes = ((1 * MIB, "Recv"), (1 * MIB, "Send"), (16 * MIB, "Recv"),
             (16 * MIB, "Send"))

    def one(first, steady, n):
        f = run.sized(first, n)
        fm = run.ms(first, n)
        s = run.ms(steady, n)
        if f is None or not fm or not s:
            return ""
        faults = f.get("minor_faults")
        tail = f" ({faults:.0f})" if faults is not None else ""
        return f"{fm:.3f} / {s:.3f} = **{fm / s:.2f}x**{tail}"

    rows = []
    for api, first, steady in (("C++ API", "FirstCheckpoint", "ColdCheckpoint"),
                               ("C API", "CFirstCheckpoint",
                                "CColdCheckpoint")):
        rows.append([f"{api}: first / steady state"] + [
            one(first + q, steady + q, n) for n, q in sizes])
    touch = ["`FirstTouch`: a fresh process's pages alone"]
    for n, q in sizes:
        t = run.sized("FirstTouch", n) if q == "Recv" else None
        if t is None:
            touch.append("")
        else:
            faults = t.get("minor_faults")
            touch.append(f"{run.ms('FirstTouch', n):.3f}"
                         + (f" ({faults:.0f})" if faults is not None else ""))
    rows.append(touch)
    table(["first call, wall ms (minor faults)", "1 MiB recv", "1 MiB send",
           "16 MiB recv", "16 MiB send"], rows)


def end_to_end(run):
    print("### End to end\n")
    rows = []
    for family in ("ColdEndToEndMemfd", "ColdEndToEndExt4",
                   "ColdEndToEndStream"):
        for n in KERNEL_SIZES:
            r = run.sized(family, n)
            if r is None:
                continue
            steps = [cell(r.get(k)) for k in ("checkpoint_ms", "write_ms",
                                              "read_ms", "restore_ms",
                                              "release_ms")]
            rows.append([f"`{family}/{human_bytes(n)}`",
                         cell(run.ms(family, n))] + steps)
    table(["end to end, ms", "total", "checkpoint", "write", "read",
           "restore", "release"], rows)


def per_conn(run, name):
    r = run.row(name)
    if r is None:
        return None, None, None
    cpu = r.get("cpu_s_per_conn")
    return (r["s_per_conn"] * 1e6, cpu * 1e6 if cpu is not None else None,
            r.get("syscalls"))


def us_cell(run, name, total_of=None):
    us, cpu, _ = per_conn(run, name)
    if us is None:
        return ""
    s = f"{us:.2f}"
    if cpu is not None and f"{cpu:.2f}" != s:
        s += f" ({cpu:.2f})"
    if total_of:
        s += f": {us * total_of / 1e3:.1f} ms in all"
    return s


def calls_cell(run, name, split=None):
    """The kernel calls per connection; `split` "long" or "short" adds the
    setsockopt and getsockopt among them, named or not."""
    r = run.row(name)
    if r is None or r.get("syscalls") is None:
        return ""
    s = f"{r['syscalls']:.0f}"
    if split == "long" and "setsockopt" in r:
        s += f" ({r['setsockopt']:.0f} setsockopt + {r['getsockopt']:.0f} " \
             "getsockopt)"
    elif split == "short" and "setsockopt" in r:
        s += f" ({r['setsockopt']:.0f} + {r['getsockopt']:.0f})"
    return s


def idle(run):
    print("### Idle connections and batches\n")
    rows = [
        ("CIdleCheckpoint", "`CIdleCheckpoint` (C: pause + save + both "
         "addresses)", None, False),
        ("KernelIdleCheckpointChecked/kept:0", "`KernelIdleCheckpointChecked/"
         "kept:0` (floor with the TCP-MD5 question)", None, False),
        ("CIdleCheckpointKept", "`CIdleCheckpointKept` (C, "
         "`soccr_sock_diag_keep(1)`)", None, False),
        ("KernelIdleCheckpointChecked/kept:1", "`KernelIdleCheckpointChecked/"
         "kept:1` (floor with the question on a kept netlink socket)", None,
         False),
        ("KernelIdleCheckpoint", "`KernelIdleCheckpoint` (floor)", None,
         False),
        ("CIdleRestore", "`CIdleRestore` (C: socket ... resume)", None, False),
        ("KernelIdleRestore", "`KernelIdleRestore` (floor)", None, False),
        ("CIdleMigrate", "`CIdleMigrate` (C: checkpoint + close + restore)",
         None, "long"),
        ("CIdleMigrateKept", "`CIdleMigrateKept` (C, "
         "`soccr_sock_diag_keep(1)`)", None, "long"),
        ("KernelIdleMigrate", "`KernelIdleMigrate` (floor)", None, "short"),
        ("IdleMigrate/options:0", "`IdleMigrate/options:0` (C++, libsoccr's "
         "state)", None, False),
        ("IdleMigrateSession/options:0", "`IdleMigrateSession/options:0` "
         "(C++, libsoccr's state, a `SockDiagSession` kept)", None, False),
        ("IdleMigrate/options:1", "`IdleMigrate/options:1` (C++, socket "
         "options)", None, False),
        ("IdleMigrateSession/options:1", "`IdleMigrateSession/options:1` "
         "(C++, socket options, a `SockDiagSession` kept)", None, False),
    ]
    out = []
    for name, label, total, split in rows:
        out.append([label, us_cell(run, name, total),
                    calls_cell(run, name, split or None)])

    def pair(a, b):
        ua, _, ca = per_conn(run, a)
        ub, _, cb = per_conn(run, b)
        if ua is None or ub is None:
            return "", ""
        return f"{ua:.2f} / {ub:.2f}", f"{ca:.0f} / {cb:.0f}"

    for fam, label in (
            ("IdleCheckpoint", "`IdleCheckpoint/options:0` / `options:1` "
             "(C++, hot, CPU)"),
            ("IdleCheckpointSession", "`IdleCheckpointSession/options:0` / "
             "`options:1` (C++, hot, CPU, a `SockDiagSession` kept)"),
            ("IdleRestore", "`IdleRestore/options:0` / `options:1` (C++, hot, "
             "CPU)")):
        us, calls = pair(f"{fam}/options:0", f"{fam}/options:1")
        out.append([label, us, calls])
    out.append(["`CIdleMigrateSerial/conns:10000` (C)",
                us_cell(run, "CIdleMigrateSerial/conns:10000", 10000),
                calls_cell(run, "CIdleMigrateSerial/conns:10000")])
    for t, o in ((2, 1), (2, 0), (1, 1)):
        name = f"BatchMigrate/conns:10000/threads:{t}/options:{o}"
        out.append([f"`{name}`", us_cell(run, name, 10000),
                    calls_cell(run, name)])
    name = "KernelBatchMigrate/conns:10000/threads:2"
    out.append([f"`{name}` (floor)", us_cell(run, name, 10000),
                calls_cell(run, name)])
    name = "SerializeIdle/conns:10000/check:1"
    out.append([f"`{name}` (`SerializeImage` of idle states into one image "
                "in memory, each planned as a restore would)",
                us_cell(run, name), "none"])
    table(["benchmark", "µs per connection", "kernel calls"], out)


def hot(run):
    print("### Hot loops (issue 6: one cached connection, CPU time)\n")
    families = ("CheckpointRecv", "CheckpointSend", "CheckpointReusedRecv",
                "CheckpointReusedSend", "PeekWarmRecv", "PeekWarmSend",
                "PeekFreshRecv", "RestoreRecv", "RefillRecv", "ImageWrite",
                "ImageRead", "EndToEnd")
    table(["hot loop, CPU-time ratio to memcpy"] + [human_bytes(n) for n in SIZES],
          [[f"`{f}`"] + [cell(run.cpu_ratio(f, n)) for n in SIZES]
           for f in families])


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    run = Run(argv[1])
    for part in (cold, kernel_paths, first_call, end_to_end, idle, hot):
        part(run)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
