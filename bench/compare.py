#!/usr/bin/env python3
"""Compares a benchmark run with a baseline, ratio by ratio, with Google
Benchmark's own compare.py (Debian's libbenchmark-tools, its U test needs
python3-scipy).

    bench/compare.py BASELINE.json NEW.json

Both files are soccr_bench JSON with repetitions (bench/run.sh writes them).
The raw times are not compared: the machines are shared and one run's
memcpy may be half another's. Each repetition of a throughput benchmark
becomes its time relative to memcpy of the same size in the same run (the
median Memcpy; 1 / the ratio bench/report.py prints, so lower is better), a
per-connection benchmark its seconds per connection relative to the
kernel's floor for an idle move in the same run (the median
KernelIdleMigrate: libsoccr's kernel calls alone), and compare.py compares
those, repetition by repetition, with its Mann-Whitney U test. A benchmark
whose median got worse and whose change the U test finds significant
(p < alpha) is listed as a regression, and the exit status is 1.

The U test needs enough repetitions to find anything: with n and m of
them its smallest possible p is 2 / C(n + m, n) (0.1 for 3 against 3,
0.036 for 5 against 3, 0.008 for 5 against 5), and where that is not
below alpha no change can be significant. Those benchmarks are listed
with the changes worse than 10 %, untested, and if no benchmark could be
tested the exit status is 3 ("cannot tell"), not 0. With fewer than 2
repetitions on either side compare.py shows the change only.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

# The report's own reading of benchmark names and time units, so that both
# tools name and scale every benchmark the same way.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import base_name, to_seconds  # noqa: E402

COMPARE_PY = os.environ.get("GBENCH_COMPARE_PY",
                            "/usr/share/benchmark/compare.py")
# Debian's Python, where python3-scipy is (a python3 earlier on PATH, e.g.
# pyenv's, would not have it).
COMPARE_PYTHON = os.environ.get(
    "GBENCH_PYTHON",
    "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else
    sys.executable)


# What per-connection benchmarks are divided by (bench/kernel_idle_bench.cc).
PER_CONN_REFERENCE = "KernelIdleMigrate"
# Changes listed for benchmarks the U test cannot judge.
UNTESTED_WORSE = 0.10


def smallest_p(n, m):
    """The smallest two-sided p of a Mann-Whitney U test of n against m
    values (all of one side below all of the other)."""
    return 2 / math.comb(n + m, n)


def normalize(data):
    """soccr_bench JSON -> compare.py JSON of relative times."""
    rows = [b for b in data.get("benchmarks", [])
            if b.get("run_type", "iteration") == "iteration"
            and not b.get("error_occurred")]
    # Memcpy's bytes_per_second is wall-clock, its cpu_bytes_per_second CPU
    # time; a family with cpu_bytes_per_second is wall-clock too (the cold
    # ones), one without is CPU-timed (the hot loops).
    memcpy, memcpy_cpu = {}, {}
    for b in rows:
        family, _, arg = base_name(b).partition("/")
        if family == "Memcpy" and "bytes_per_second" in b:
            memcpy.setdefault(arg, []).append(b["bytes_per_second"])
            memcpy_cpu.setdefault(arg, []).append(
                b.get("cpu_bytes_per_second", b["bytes_per_second"]))
    memcpy = {k: statistics.median(v) for k, v in memcpy.items()}
    memcpy_cpu = {k: statistics.median(v) for k, v in memcpy_cpu.items()}
    # The per-connection reference: the kernel's floor for an idle move.
    floor = [b for b in rows if base_name(b) == PER_CONN_REFERENCE
             and "s_per_conn" in b]
    floor_real = statistics.median(b["s_per_conn"] for b in floor) \
        if floor else None
    floor_cpu = statistics.median(b.get("cpu_s_per_conn", b["s_per_conn"])
                                  for b in floor) if floor else None
    out = []
    for b in rows:
        name = base_name(b)
        family, _, arg = name.partition("/")
        if family == "Memcpy" or name == PER_CONN_REFERENCE:
            continue
        if "s_per_conn" in b and floor_real:
            real = b["s_per_conn"] / floor_real
            cpu = b.get("cpu_s_per_conn", b["s_per_conn"]) / floor_cpu
            name += f" [time / {PER_CONN_REFERENCE}'s]"
        elif "s_per_conn" in b:
            real = b["s_per_conn"] * 1e9
            cpu = b.get("cpu_s_per_conn", b["s_per_conn"]) * 1e9
            name += " [ns per connection]"
        elif "bytes_per_second" in b and arg in memcpy:
            if "cpu_bytes_per_second" in b:
                real = memcpy[arg] / b["bytes_per_second"]
                cpu = memcpy_cpu[arg] / b["cpu_bytes_per_second"]
            else:
                real = cpu = memcpy_cpu[arg] / b["bytes_per_second"]
            name += " [time / memcpy's]"
        else:
            real = to_seconds(b["real_time"], b.get("time_unit", "ns")) * 1e9
            cpu = to_seconds(b["cpu_time"], b.get("time_unit", "ns")) * 1e9
            name += " [ns]"
        out.append({"name": name, "run_name": name, "run_type": "iteration",
                    "real_time": real, "cpu_time": cpu, "time_unit": "ns",
                    "iterations": 1})
    by_name = {}
    for r in out:
        by_name.setdefault(r["name"], []).append(r)
    for name, rs in by_name.items():
        out.append({"name": name + "_median", "run_name": name,
                    "run_type": "aggregate", "aggregate_name": "median",
                    "real_time": statistics.median(r["real_time"] for r in rs),
                    "cpu_time": statistics.median(r["cpu_time"] for r in rs),
                    "time_unit": "ns", "iterations": 1})
    return {"context": data.get("context", {}), "benchmarks": out}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("baseline")
    ap.add_argument("contender")
    ap.add_argument("--alpha", type=float, default=0.05)
    args = ap.parse_args()
    if not os.path.exists(COMPARE_PY):
        print(f"compare.py: {COMPARE_PY} not found (install Debian's "
              "libbenchmark-tools and python3-scipy; ./bazelw does)",
              file=sys.stderr)
        return 2
    norms = []
    for path in (args.baseline, args.contender):
        with open(path) as f:
            norms.append(normalize(json.load(f)))
    # Only benchmarks both runs have: compare.py leaves the others out of
    # its rows but not out of its OVERALL_GEOMEAN, which is then a mean
    # over different sets (a filtered run against the whole suite's
    # baseline showed +4.4 with every row within +0.13).
    names = [{r["run_name"] for r in n["benchmarks"]} for n in norms]
    common = names[0] & names[1]
    for n in norms:
        n["benchmarks"] = [r for r in n["benchmarks"]
                           if r["run_name"] in common]
    left_out = len(names[0] ^ names[1])
    if not common:
        print("compare.py: the two runs have no benchmark in common",
              file=sys.stderr)
        return 2
    print(f"compare.py: {len(common)} benchmarks in both runs"
          + (f", {left_out} in only one, left out" if left_out else ""))
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, norm in enumerate(norms):
            p = os.path.join(tmp, f"{i}.json")
            with open(p, "w") as f:
                json.dump(norm, f)
            files.append(p)
        diff = os.path.join(tmp, "diff.json")
        subprocess.run([COMPARE_PYTHON, COMPARE_PY, "--no-color", "-a",
                        "--alpha", str(args.alpha), "-d", diff, "benchmarks",
                        files[0], files[1]], check=True)
        with open(diff) as f:
            report = json.load(f)
    medians = {r["name"][: -len("_median")]: r for r in report
               if r.get("aggregate_name") == "median"}
    pvalues = {r["name"]: r["utest"]["time_pvalue"] for r in report
               if (r.get("utest") or {}).get("time_pvalue") is not None}
    # Repetitions per benchmark on each side, for what the U test can find.
    reps = [{}, {}]
    for side, norm in enumerate(norms):
        for r in norm["benchmarks"]:
            if r["run_type"] == "iteration":
                reps[side][r["name"]] = reps[side].get(r["name"], 0) + 1
    regressed, untested = [], []
    tested = 0
    for name, m in sorted(medians.items()):
        if not m.get("measurements"):
            continue
        change = m["measurements"][0]["time"]
        n, k = reps[0].get(name, 0), reps[1].get(name, 0)
        if min(n, k) < 2 or smallest_p(n, k) >= args.alpha:
            if change > UNTESTED_WORSE:
                untested.append((name, change, n, k))
            continue
        tested += 1
        p = pvalues.get(name)
        if p is not None and p < args.alpha and change > 0:
            regressed.append((name, change, p))
    print()
    if untested:
        print(f"Untested (too few repetitions for the U test to reach p < "
              f"{args.alpha}), worse by more than "
              f"{UNTESTED_WORSE * 100:.0f} %:")
        for name, change, n, k in untested:
            least = smallest_p(n, k) if min(n, k) >= 2 else 1.0
            print(f"  {name}: {change * 100:+.1f}% ({n} and {k} repetitions: "
                  f"p >= {least:.3f})")
    if regressed:
        print(f"Regressed (median worse, U test p < {args.alpha}):")
        for name, change, p in regressed:
            print(f"  {name}: {change * 100:+.1f}% (p = {p:.4f})")
        return 1
    if tested == 0:
        print(f"Cannot tell: with these repetitions the U test cannot reach "
              f"p < {args.alpha} for any benchmark (5 against the baseline's "
              f"3 can: bench/run.sh --repetitions 5).")
        return 3
    print(f"No regression beyond the noise (U test, alpha {args.alpha}, "
          f"{tested} benchmarks tested).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
