#!/usr/bin/env python3
"""Turns soccr_bench's JSON into a Markdown report of ratios.

    bench/report.py bench.json > bench.md          # the report
    bench/report.py --check bench.json > bench.md  # ... and fail (exit 1)
                                                   # unless every ratio is sane

Conventions (bench/registry.h): a throughput benchmark is named
"<Family>/<bytes>" and reports bytes_per_second; "Memcpy/<bytes>" is the
reference, and every other family's ratio at a size is its bytes/s over
Memcpy's at the same size in the same run. A per-connection benchmark reports
the counter s_per_conn (and syscalls). With --benchmark_repetitions the
medians are used.

--check verifies that the run is usable, not that it is fast: no benchmark
failed, every expected family is there, and every ratio and per-connection
time is finite and positive. Targets are reported, never enforced: the
machines are shared and noisy.
"""

import argparse
import json
import math
import os
import platform
import re
import sys

# Families bench/ registers; --check wants each of them in the run.
THROUGHPUT_FAMILIES = [
    "CheckpointRecv", "CheckpointSend", "CheckpointReusedRecv",
    "CheckpointReusedSend", "PeekWarmRecv", "PeekWarmSend", "PeekFreshRecv",
    "FreshBuffer", "RestoreRecv", "RefillRecv", "ImageWrite", "ImageRead", "EndToEnd",
]
# Cold families (a new connection per repetition, wall-clock; each also
# reports cpu_bytes_per_second): bench/cold_bench.cc, bench/image_bench.cc.
COLD_FAMILIES = [
    "ColdCheckpointRecv", "ColdCheckpointSend", "CColdCheckpointRecv",
    "CColdCheckpointSend", "ColdRestoreRecv", "ColdRestoreSend",
    "CColdRestoreRecv", "CColdRestoreSend", "CColdRestoreRecvExcl",
    "CColdRestoreSendExcl", "ColdPlainSend",
    "FirstCheckpointRecv",
    "FirstCheckpointSend", "CFirstCheckpointRecv", "CFirstCheckpointSend",
    "FirstTouch",
    "ColdEndToEndMemfd", "ColdEndToEndExt4", "ColdEndToEndStream",
    "UnixPairMove",
]
THROUGHPUT_FAMILIES = COLD_FAMILIES + THROUGHPUT_FAMILIES
PER_CONN_FAMILIES = ["IdleCheckpoint", "IdleRestore", "IdleMigrate",
                     "IdleCheckpointSession", "IdleMigrateSession",
                     "BatchMigrate", "CIdleCheckpoint", "CIdleRestore",
                     "CIdleMigrate", "CIdleMigrateSerial", "SerializeIdle",
                     "CIdleCheckpointKept", "CIdleMigrateKept",
                     "KernelIdleCheckpoint", "KernelIdleCheckpointChecked",
                     "KernelIdleRestore", "KernelIdleMigrate",
                     "KernelBatchMigrate"]
TIME_ONLY_FAMILIES = ["PeekRecvTail"]
# ResumeInFlight/bytes:N/peer_has:K/probe:P: wall-clock ms to the last byte.
IN_FLIGHT_FAMILY = "ResumeInFlight"
LINKS = {"0": "loopback", "1": "veth"}
TCP_STATES = {"1": "ESTABLISHED", "4": "FIN_WAIT1", "9": "LAST_ACK"}
PEER_HAS = {"0": "none", "1": "all", "2": "prefix"}
TARGET_IN_FLIGHT_MS = 50.0

# The targets (each a ratio or figure measured in one run).
TARGET_RATIO = 0.6
TARGET_SIZES = (1 << 20, 64 << 20)  # 1-64 MiB, inclusive
TARGET_IDLE_US = 18.0
TARGET_BATCH_MS = 100.0
LIBSOCCR_CHECKPOINT_CALLS = 14  # 12 + getsockname/getpeername by the caller
LIBSOCCR_RESTORE_CALLS = 12  # 11 + socket()

# Issue 13's goals (wall-clock, a new connection per repetition, ratios to
# memcpy of the same size in the same run), and CRIU libsoccr's figures on
# this machine as the issue reports them.
GOAL_QUEUE_RATIO = 0.6
GOAL_END_TO_END_RATIO = 0.4
GOAL_FIRST_CALL_FACTOR = 2.0
CRIU_IDLE_CHECKPOINT_US = 3.2
CRIU_IDLE_RESTORE_US = 5.8
GOAL_IDLE_MIGRATE_US = 10.0
GOAL_MOVE_SOCKOPT_CALLS = 20  # CRIU: 14 setsockopt + 6 getsockopt
CRIU_SERIAL_10K_MS = 153.0
GOAL_BATCH_10K_MS = 100.0

# The kernel's own send path (bench/cold_bench.cc): the reference for the
# send-queue refills, whose unsent part Resume() writes with ordinary sends.
# CColdRestoreSendExcl: the C API's queues handed over with SOCCR_MEM_EXCL,
# as CRIU passes them.
PLAIN_SEND_FAMILY = "ColdPlainSend"
SEND_REFILL_FAMILIES = ("ColdRestoreSend", "CColdRestoreSend",
                        "CColdRestoreSendExcl")

# The kernel's part of a drain or a receive-queue refill, measured alone in
# the same run (hot loops, CPU time): the copy of the queue into memory
# already faulted in, and the restore's repair-mode writes. The goal rows
# give them beside the cold figure at the same size: a cold call also pays
# its fixed cost (kernel calls) and, for a drain, its memory.
KERNEL_PART = {
    "ColdCheckpointRecv": ("PeekWarmRecv", "the kernel's copy alone"),
    "CColdCheckpointRecv": ("PeekWarmRecv", "the kernel's copy alone"),
    "ColdCheckpointSend": ("PeekWarmSend", "the kernel's copy alone"),
    "CColdCheckpointSend": ("PeekWarmSend", "the kernel's copy alone"),
    "ColdRestoreRecv": ("RefillRecv", "the repair-mode writes alone"),
    "CColdRestoreRecv": ("RefillRecv", "the repair-mode writes alone"),
    "CColdRestoreRecvExcl": ("RefillRecv", "the repair-mode writes alone"),
}

# The kernel's floor for an idle move (bench/kernel_idle_bench.cc): only
# the calls the repair interface needs, as libsoccr makes them, no checks.
IDLE_FLOOR = "KernelIdleMigrate"
STEP_FLOORS = {"CIdleCheckpoint": "KernelIdleCheckpoint",
               "CIdleCheckpointKept": "KernelIdleCheckpoint",
               "CIdleRestore": "KernelIdleRestore"}
# The same with the question a checkpoint that refuses TCP-MD5 connections
# asks (SO_COOKIE and one sock_diag request), on a netlink socket opened for
# it (as the C API must) or kept (a SockDiagSession).
CHECKED_FLOORS = {"CIdleCheckpoint": "KernelIdleCheckpointChecked/kept:0",
                  "CIdleCheckpointKept": "KernelIdleCheckpointChecked/kept:1"}
BATCH_FLOOR = "KernelBatchMigrate/conns:10000/threads:2"

SUFFIXES = ("/manual_time", "/real_time")


def base_name(row):
    name = row.get("run_name") or row["name"]
    for s in SUFFIXES:
        if name.endswith(s):
            name = name[: -len(s)]
    return re.sub(r"/iterations:\d+", "", name)


def to_seconds(value, unit):
    return value * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def pick_rows(benchmarks):
    """name -> row, preferring medians when the run had repetitions."""
    medians = [b for b in benchmarks
               if b.get("run_type") == "aggregate"
               and b.get("aggregate_name") == "median"]
    rows = medians if medians else [
        b for b in benchmarks if b.get("run_type", "iteration") == "iteration"]
    out = {}
    for b in rows:
        out[base_name(b)] = b
    return out


def human_bytes(n):
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"


def sane(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def machine_lines(context):
    lines = []
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines.append(f"- CPU: {cpu}, {os.cpu_count()} CPUs "
                 f"(benchmark saw {context.get('num_cpus', '?')} at "
                 f"{context.get('mhz_per_cpu', '?')} MHz)")
    lines.append(f"- Kernel: {platform.release()}")
    load = context.get("load_avg")
    if load:
        lines.append("- Load average at start: " +
                     ", ".join(f"{x:.2f}" for x in load))
    lines.append(f"- Date: {context.get('date', '?')}")
    if context.get("library_build_type") == "debug":
        lines.append("- Google Benchmark library: Debian's build reports "
                     "\"debug\" (affects only the harness, not soccr, which "
                     "is built with -c opt)")
    return lines


def send_path_ratios(throughput, problems):
    """(family, bytes) -> a send-queue refill's wall-clock throughput over
    ColdPlainSend's at the same size, for the refill families in the run."""
    plain = throughput.get(PLAIN_SEND_FAMILY)
    out = {}
    if plain is None:
        return out
    for f in SEND_REFILL_FAMILIES:
        refill = throughput.get(f)
        if refill is None:
            continue
        for n in sorted(set(plain) | set(refill)):
            if n not in plain or n not in refill:
                problems.append(f"{f}/{n}: no {PLAIN_SEND_FAMILY}/{n} to "
                                "compare with, or the other way round")
                continue
            r = refill[n] / plain[n] if plain[n] else float("nan")
            if not sane(r):
                problems.append(f"{f}/{n}: ratio to {PLAIN_SEND_FAMILY} {r} "
                                "is not finite and > 0")
                continue
            out[(f, n)] = r
    return out


def send_path_table(send_path):
    """The send-queue refills in units of the kernel's own send path."""
    if not send_path:
        return []
    fams = [f for f in SEND_REFILL_FAMILIES
            if any(g == f for g, _ in send_path)]
    out = [f"## Send-queue refill against the kernel's own send path "
           f"({PLAIN_SEND_FAMILY})", "",
           "Wall-clock throughput over that of the same bytes written with "
           "nonblocking send() into a fresh loopback pair whose peer "
           "receives them (> 1: faster than the kernel's path alone).", "",
           "| size | " + " | ".join(fams) + " |",
           "|---:|" + "---:|" * len(fams)]
    for n in sorted({n for _, n in send_path}):
        cells = [human_bytes(n)]
        for f in fams:
            r = send_path.get((f, n))
            cells.append("" if r is None else f"{r:.2f}")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    return out


def floor_calls(row):
    """The floor's setsockopt + getsockopt, as a note to the C API's."""
    if row is None or "setsockopt" not in row:
        return ""
    return (f" (the kernel's floor, {IDLE_FLOOR}: {row['setsockopt']:.0f} + "
            f"{row['getsockopt']:.0f})")


def goal_table(ratios, throughput, per_conn, per_us, send_path):
    """Issue 13's goals: met / NOT met, with the figure behind each."""
    lo, hi = TARGET_SIZES
    rows = []

    def lowest(family):
        rs = [(n, r) for (g, n), r in ratios.items()
              if g == family and lo <= n <= hi]
        return min(rs, key=lambda x: x[1]) if rs else None

    def verdict(ok):
        return "met" if ok else "**NOT met**"

    for what, fams, goal in (
            ("drain (checkpoint), C++ API", ("ColdCheckpointRecv",
                                             "ColdCheckpointSend"),
             GOAL_QUEUE_RATIO),
            ("drain (checkpoint), C API", ("CColdCheckpointRecv",
                                           "CColdCheckpointSend"),
             GOAL_QUEUE_RATIO),
            ("refill (restore), C++ API", ("ColdRestoreRecv",
                                           "ColdRestoreSend"),
             GOAL_QUEUE_RATIO),
            ("refill (restore), C API", ("CColdRestoreRecv",
                                         "CColdRestoreSend"),
             GOAL_QUEUE_RATIO),
            ("refill (restore), C API, SOCCR_MEM_EXCL as CRIU passes",
             ("CColdRestoreRecvExcl", "CColdRestoreSendExcl"),
             GOAL_QUEUE_RATIO),
            ("end to end, image in memory (memfd)", ("ColdEndToEndMemfd",),
             GOAL_END_TO_END_RATIO),
            ("end to end, image on a file (ext4 here)", ("ColdEndToEndExt4",),
             GOAL_END_TO_END_RATIO),
            ("end to end, image over a pipe", ("ColdEndToEndStream",),
             GOAL_END_TO_END_RATIO)):
        for f in fams:
            w = lowest(f)
            if w is None:
                continue
            figure = f"lowest {w[1]:.2f} at {human_bytes(w[0])}"
            part = KERNEL_PART.get(f)
            if part and (part[0], w[0]) in ratios:
                figure += (f"; {part[1]} ({part[0]}, hot) "
                           f"{ratios[(part[0], w[0])]:.2f} there")
            if f in SEND_REFILL_FAMILIES:
                # How close it gets to what the kernel allows: the unsent
                # part goes through the ordinary send path.
                here = send_path.get((f, w[0]))
                span = [r for (g, n), r in send_path.items()
                        if g == f and lo <= n <= hi]
                if here is not None and span:
                    figure += (f"; {here:.2f}x of the kernel's own send path "
                               f"({PLAIN_SEND_FAMILY}) there, "
                               f"{min(span):.2f}-{max(span):.2f}x over "
                               f"1-64 MiB")
            rows.append((f"{what}: {f}, 1-64 MiB, >= {goal} of memcpy",
                         figure, verdict(w[1] >= goal)))
    for cold, first in (("ColdCheckpointRecv", "FirstCheckpointRecv"),
                        ("ColdCheckpointSend", "FirstCheckpointSend"),
                        ("CColdCheckpointRecv", "CFirstCheckpointRecv"),
                        ("CColdCheckpointSend", "CFirstCheckpointSend")):
        for n, bps in sorted(throughput.get(first, {}).items()):
            steady = throughput.get(cold, {}).get(n)
            if not steady:
                continue
            factor = steady / bps
            # The kernel's part: a fresh process's first pages for n bytes
            # (FirstTouch), which a first call pays whatever the library
            # does, in units of the steady state (which may or may not pay
            # pages of its own: see its minor_faults).
            touch = throughput.get("FirstTouch", {}).get(n)
            floor = f" (a fresh process's pages alone: {steady / touch:.2f}x)" \
                if touch else ""
            rows.append((f"first checkpoint in a fresh process ({first}, "
                         f"{human_bytes(n)}) <= {GOAL_FIRST_CALL_FACTOR:.0f}x "
                         f"the steady state ({cold})",
                         f"{factor:.2f}x{floor}", verdict(
                             factor <= GOAL_FIRST_CALL_FACTOR)))
    for name, goal, what in (
            ("CIdleCheckpoint", CRIU_IDLE_CHECKPOINT_US,
             "idle checkpoint, C API (pause + save + addresses)"),
            ("CIdleRestore", CRIU_IDLE_RESTORE_US,
             "idle restore, C API (socket ... resume)"),
            ("CIdleCheckpointKept", CRIU_IDLE_CHECKPOINT_US,
             "idle checkpoint, C API, soccr_sock_diag_keep(1)"),
            ("CIdleMigrate", GOAL_IDLE_MIGRATE_US,
             "idle checkpoint + close + restore, C API"),
            ("CIdleMigrateKept", GOAL_IDLE_MIGRATE_US,
             "idle checkpoint + close + restore, C API, "
             "soccr_sock_diag_keep(1)"),
            ("IdleMigrate/options:0", GOAL_IDLE_MIGRATE_US,
             "idle checkpoint + close + restore + resume, C++ API, "
             "libsoccr's state"),
            ("IdleMigrate/options:1", GOAL_IDLE_MIGRATE_US,
             "idle checkpoint + close + restore + resume, C++ API, "
             "socket options too"),
            ("IdleMigrateSession/options:0", GOAL_IDLE_MIGRATE_US,
             "idle checkpoint + close + restore + resume, C++ API, "
             "libsoccr's state, a SockDiagSession kept"),
            ("IdleMigrateSession/options:1", GOAL_IDLE_MIGRATE_US,
             "idle checkpoint + close + restore + resume, C++ API, "
             "socket options too, a SockDiagSession kept")):
        us = per_us.get(name)
        if us is not None:
            figure = f"{us:.2f} µs"
            floor_name = STEP_FLOORS.get(name, IDLE_FLOOR)
            floor = per_us.get(floor_name)
            if floor:
                figure += (f"; the kernel's floor ({floor_name}, libsoccr's "
                           f"calls alone): {floor:.2f} µs, this is "
                           f"{us / floor:.2f}x of it")
            checked_name = CHECKED_FLOORS.get(name)
            checked = per_us.get(checked_name) if checked_name else None
            if checked:
                figure += (f"; with the TCP-MD5 question ({checked_name}): "
                           f"{checked:.2f} µs, this is {us / checked:.2f}x "
                           f"of it")
            rows.append((f"{what} <= {goal:g} µs", figure,
                         verdict(us <= goal)))
    row = per_conn.get("CIdleMigrate")
    if row is not None and "setsockopt" in row:
        n = row["setsockopt"] + row["getsockopt"]
        rows.append((f"setsockopt + getsockopt per moved connection, C API, "
                     f"<= {GOAL_MOVE_SOCKOPT_CALLS} (CRIU 14 + 6)",
                     f"{row['setsockopt']:.0f} + {row['getsockopt']:.0f}; "
                     f"{row['syscalls']:.0f} socket calls in all"
                     + floor_calls(per_conn.get(IDLE_FLOOR)),
                     verdict(n <= GOAL_MOVE_SOCKOPT_CALLS)))
    row = per_conn.get("IdleMigrate/options:0")
    if row is not None:
        rows.append((f"kernel calls per moved connection, C++ API, "
                     f"libsoccr's state, <= {GOAL_MOVE_SOCKOPT_CALLS}",
                     f"{row['syscalls']:.0f} (every call, CountingSys)",
                     verdict(row["syscalls"] <= GOAL_MOVE_SOCKOPT_CALLS)))
    for name, row in sorted(per_conn.items()):
        m = re.match(r"CIdleMigrateSerial/conns:10000$", name)
        if m:
            ms = row["s_per_conn"] * 10000 * 1e3
            figure = f"{ms:.1f} ms"
            floor = per_us.get(IDLE_FLOOR)
            if floor:
                figure += (f" (the kernel's floor, {IDLE_FLOOR} x 10,000: "
                           f"{floor * 10:.1f} ms)")
            rows.append((f"10,000 connections moved serially, C API, "
                         f"<= CRIU's {CRIU_SERIAL_10K_MS:.0f} ms",
                         figure, verdict(ms <= CRIU_SERIAL_10K_MS)))
        m = re.match(r"BatchMigrate/conns:10000/threads:2/options:1$", name)
        if m:
            ms = row["s_per_conn"] * 10000 * 1e3
            figure = f"{ms:.1f} ms wall-clock"
            floor = per_conn.get(BATCH_FLOOR)
            if floor is not None:
                floor_ms = floor["s_per_conn"] * 10000 * 1e3
                figure += (f"; the kernel's floor ({BATCH_FLOOR}): "
                           f"{floor_ms:.1f} ms, this is {ms / floor_ms:.2f}x "
                           f"of it")
            rows.append((f"10,000 connections, batch API, 2 threads, socket "
                         f"options included, <= {GOAL_BATCH_10K_MS:.0f} ms",
                         figure,
                         verdict(ms <= GOAL_BATCH_10K_MS)))
    out = ["## Goals (issue 13: cold, wall-clock)", ""]
    if not rows:
        out.append("No goal has a figure in this run (the smoke run's sizes "
                   "are below 1 MiB).")
    else:
        out.append("| goal | figure | status |")
        out.append("|---|---|---|")
        out.extend(f"| {g} | {f} | {v} |" for g, f, v in rows)
    out.append("")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("json")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless the run is complete and sane")
    ap.add_argument("--partial", action="store_true",
                    help="with --check: a run of some families only (a "
                         "--benchmark_filter) is complete")
    args = ap.parse_args()

    with open(args.json) as f:
        data = json.load(f)
    benchmarks = data.get("benchmarks", [])
    problems = []
    for b in benchmarks:
        if b.get("error_occurred"):
            problems.append(f"{b['name']} failed: {b.get('error_message')}")
    rows = pick_rows(benchmarks)

    # Throughput: family -> {bytes: bytes_per_second}.
    throughput = {}
    cpu_throughput = {}
    per_conn = {}
    time_only = {}
    for name, row in rows.items():
        family, _, arg = name.partition("/")
        if "s_per_conn" in row:
            per_conn[name] = row
        elif "bytes_per_second" in row and re.fullmatch(r"\d+", arg):
            throughput.setdefault(family, {})[int(arg)] = row["bytes_per_second"]
            if "cpu_bytes_per_second" in row:
                cpu_throughput.setdefault(family, {})[int(arg)] = row[
                    "cpu_bytes_per_second"]
        elif re.fullmatch(r"\d+", arg):
            time_only.setdefault(family, {})[int(arg)] = to_seconds(
                row["real_time"], row.get("time_unit", "ns"))

    memcpy = throughput.get("Memcpy", {})
    # Memcpy's figure is wall-clock and its cpu_bytes_per_second CPU time: a
    # family that reports cpu_bytes_per_second (the cold ones) is wall-clock
    # too and compared with the first, the CPU-timed hot loops with the
    # second.
    memcpy_cpu = cpu_throughput.get("Memcpy", memcpy)
    if not memcpy and (throughput or not args.partial):
        problems.append("no Memcpy reference in the run")
    families = [f for f in THROUGHPUT_FAMILIES if f in throughput] + sorted(
        f for f in throughput if f not in THROUGHPUT_FAMILIES + ["Memcpy"])
    for f in THROUGHPUT_FAMILIES + PER_CONN_FAMILIES + TIME_ONLY_FAMILIES:
        present = (f in throughput or f in time_only or
                   any(n.split("/")[0] == f for n in per_conn))
        if not present and not args.partial:
            problems.append(f"family {f} missing from the run")

    out = []
    out.append("# soccr benchmarks")
    out.append("")
    out.extend(machine_lines(data.get("context", {})))
    reps = "medians of repetitions" if any(
        b.get("aggregate_name") == "median" for b in benchmarks) else \
        "single runs"
    out.append(f"- Figures: {reps}")
    out.append("")

    # Table 1: ratios to memcpy, cold (wall-clock, CPU beside) and hot.
    sizes = sorted(memcpy)
    ratios = {}
    cold = [f for f in families if f in COLD_FAMILIES]
    hot = [f for f in families if f not in COLD_FAMILIES]
    for title, group in (
            ("Cold: a new connection per repetition, filled by writes; "
             "wall-clock ratio to memcpy (CPU-time ratio in brackets)", cold),
            ("Hot loops: one cached connection, CPU time (issue 6's "
             "figures; not what a caller sees)", hot)):
        if not group:
            continue
        out.append(f"## {title}")
        out.append("")
        out.append("| size | memcpy GB/s (wall; CPU) | " + " | ".join(group) +
                   " |")
        out.append("|---:|---:|" + "---:|" * len(group))
        for n in sizes:
            cells = [human_bytes(n), f"{memcpy[n] / 1e9:.2f}; "
                     f"{memcpy_cpu.get(n, float('nan')) / 1e9:.2f}"]
            for f in group:
                bps = throughput[f].get(n)
                if bps is None:
                    cells.append("")
                    continue
                wall = f in cpu_throughput
                ref = memcpy[n] if wall else memcpy_cpu.get(n, memcpy[n])
                r = bps / ref if ref else float("nan")
                ratios[(f, n)] = r
                if not sane(r):
                    problems.append(f"{f}/{n}: ratio {r} is not finite "
                                    "and > 0")
                cpu = cpu_throughput.get(f, {}).get(n)
                if f in COLD_FAMILIES:
                    if cpu is None or not sane(cpu):
                        problems.append(f"{f}/{n}: no CPU-time figure")
                        cells.append(f"{r:.2f}")
                    else:
                        cells.append(
                            f"{r:.2f} ({cpu / memcpy_cpu.get(n, memcpy[n]):.2f})")
                else:
                    cells.append(f"{r:.2f} ({bps / 1e9:.2f} GB/s)")
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    for f in families:
        for n in throughput[f]:
            if n not in memcpy:
                problems.append(f"{f}/{n} has no Memcpy/{n} to compare with")
    out.append("")

    if time_only:
        out.append("## Time only")
        out.append("")
        for f, by_size in sorted(time_only.items()):
            out.append(f"- {f}: " + ", ".join(
                f"{human_bytes(n)} {t * 1e6:.1f} µs"
                for n, t in sorted(by_size.items())))
            for n, t in by_size.items():
                if not sane(t):
                    problems.append(f"{f}/{n}: time {t} is not sane")
        out.append("")

    # Resuming with data in flight, probe next to plain repair-off.
    in_flight = {}
    for name, row in rows.items():
        m = re.match(IN_FLIGHT_FAMILY +
                     r"/bytes:(\d+)/peer_has:(\d)/probe:(\d)"
                     r"(?:/link:(\d))?(?:/state:(\d+))?", name)
        if m:
            ms = to_seconds(row["real_time"], row.get("time_unit", "ns")) * 1e3
            if not sane(ms):
                problems.append(f"{name}: time {ms} ms is not sane")
            link = LINKS.get(m.group(4) or "0", m.group(4))
            tcp_state = TCP_STATES.get(m.group(5) or "1", m.group(5))
            in_flight[(tcp_state, link, int(m.group(1)), m.group(2),
                       m.group(3))] = (
                ms, row.get("total_retrans", float("nan")))
    if not in_flight and not args.partial:
        problems.append(f"family {IN_FLIGHT_FAMILY} missing from the run")
    if in_flight:
        out.append("## Resuming with data in flight (ResumeInFlight)")
        out.append("")
        out.append("Wall-clock ms from Resume() until the peer has read the "
                   "last byte (the in-flight bytes it lacked plus a 1 KiB "
                   "write right after the resume; in the FIN states the "
                   "bytes, then end-of-file), and the segments the "
                   "restored socket retransmitted (tcpi_total_retrans), with "
                   "the in-flight probe and with the plain repair-off path.")
        out.append("")
        out.append("| state | link | in flight | peer had | probe ms "
                   "| probe retrans | plain ms | plain retrans |")
        out.append("|---|---|---:|---|---:|---:|---:|---:|")
        keys = sorted({key[:4] for key in in_flight})
        for st, link, n, k in keys:
            cells = [st, link, human_bytes(n), PEER_HAS.get(k, k)]
            for probe in ("1", "0"):
                v = in_flight.get((st, link, n, k, probe))
                cells += ([f"{v[0]:.2f}", f"{v[1]:.0f}"] if v else ["", ""])
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        worst = max((v[0], key) for key, v in in_flight.items()
                    if key[4] == "1")
        st, link, n, k, _ = worst[1]
        verdict = "met" if worst[0] < TARGET_IN_FLIGHT_MS else "NOT met"
        out.append(f"- Every in-flight byte (and FIN) at the peer within "
                   f"{TARGET_IN_FLIGHT_MS:.0f} ms of resume (issue 12, "
                   f"loopback and veth): {verdict} (slowest {worst[0]:.2f} "
                   f"ms, {st}, {link}, {human_bytes(n)}, peer had "
                   f"{PEER_HAS.get(k, k)})")
        out.append("")

    # Table 2: per connection.
    out.append("## Per connection")
    out.append("")
    out.append("| benchmark | µs per connection | syscalls per connection "
               "| whole batch ms | CPU µs per connection (all threads) |")
    out.append("|---|---:|---:|---:|---:|")
    per_us = {}
    for name in sorted(per_conn, key=lambda n: (n.split("/")[0], n)):
        row = per_conn[name]
        s = row["s_per_conn"]
        if not sane(s):
            problems.append(f"{name}: s_per_conn {s} is not finite and > 0")
        per_us[name] = s * 1e6
        batch = ""
        m = re.search(r"conns:(\d+)", name)
        if m:
            batch = f"{s * int(m.group(1)) * 1e3:.1f}"
        calls = row.get("syscalls", float("nan"))
        cpu = row.get("cpu_s_per_conn")
        cpu_cell = f"{cpu * 1e6:.2f}" if cpu is not None else ""
        out.append(f"| {name} | {s * 1e6:.2f} | {calls:.1f} | {batch} "
                   f"| {cpu_cell} |")
    out.append("")

    send_path = send_path_ratios(throughput, problems)
    out.extend(send_path_table(send_path))
    out.extend(goal_table(ratios, throughput, per_conn, per_us, send_path))

    # Targets: reported, not enforced.
    out.append("## Hot-loop targets (issue 6: CPU time, cached connection)")
    out.append("")
    lo, hi = TARGET_SIZES
    for f in ("CheckpointRecv", "CheckpointSend", "CheckpointReusedRecv",
              "CheckpointReusedSend", "RestoreRecv",
              "PeekWarmRecv", "PeekWarmSend"):
        rs = [(n, r) for (g, n), r in ratios.items()
              if g == f and lo <= n <= hi]
        if not rs:
            continue
        worst = min(rs, key=lambda x: x[1])
        verdict = "met" if worst[1] >= TARGET_RATIO else "NOT met"
        out.append(f"- {f}, 1-64 MiB, >= {TARGET_RATIO} of memcpy: "
                   f"{verdict} (lowest {worst[1]:.2f} at "
                   f"{human_bytes(worst[0])})")
    for opt in ("1", "0"):
        c = per_us.get(f"IdleCheckpoint/options:{opt}")
        r = per_us.get(f"IdleRestore/options:{opt}")
        if c is not None and r is not None:
            verdict = "met" if c + r < TARGET_IDLE_US else "NOT met"
            out.append(f"- Idle checkpoint + restore (options:{opt}) under "
                       f"{TARGET_IDLE_US:.0f} µs: {verdict} ({c:.2f} + "
                       f"{r:.2f} = {c + r:.2f} µs)")
    migrate = per_conn.get("IdleMigrate/options:0", {}).get("syscalls")
    if migrate is not None:
        total = LIBSOCCR_CHECKPOINT_CALLS + LIBSOCCR_RESTORE_CALLS
        verdict = "met" if migrate <= total else \
            f"NOT met by {migrate - total:.0f}"
        out.append(f"- Syscalls for a whole idle move (pause, checkpoint, "
                   f"restore, resume; same state as libsoccr): {verdict} "
                   f"({migrate:.0f} vs libsoccr's "
                   f"{LIBSOCCR_CHECKPOINT_CALLS} + {LIBSOCCR_RESTORE_CALLS}; "
                   f"soccr/syscall_budget_test.cc lists the differences)")
    for name, row in sorted(per_conn.items()):
        m = re.match(r"BatchMigrate/conns:10000/threads:(\d+)/options:(\d)",
                     name)
        if m:
            ms = row["s_per_conn"] * 10000 * 1e3
            verdict = "met" if ms < TARGET_BATCH_MS else "NOT met"
            cpu = row.get("cpu_s_per_conn")
            work = (f"; CPU work {cpu * 10000 * 1e3:.1f} ms over all "
                    f"threads" if cpu is not None else "")
            out.append(f"- 10,000 connections checkpointed, closed, restored "
                       f"and resumed under {TARGET_BATCH_MS:.0f} ms "
                       f"({m.group(1)} threads, options:{m.group(2)}): "
                       f"{verdict} ({ms:.1f} ms wall-clock{work})")
    out.append("")

    if problems:
        out.append("## Problems")
        out.append("")
        out.extend(f"- {p}" for p in problems)
        out.append("")
    print("\n".join(out))
    if args.check and problems:
        for p in problems:
            print(f"report.py: {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
