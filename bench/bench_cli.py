"""What a user waits for: ``python cli.py run`` as a fresh process, against plain scripts, in one run.

Usage: ``python bench/bench_cli.py [--sizes 10000,100000,1000000] [--repeats 3] [--repeats-large 1]``

For each size the seeded demo table (``segmenter.demo.make_demo_customers(n, seed=0)``: six
planted personas) is written once as CSV and as Parquet. Every command then runs as its own
process, timed from outside like ``/usr/bin/time``: wall clock from spawn to exit, and the
child's peak memory (``ru_maxrss`` from ``os.wait4``). Every command runs under
``python -X importtime``; the import share is the time its imports took (the sum of the
top-level imports' cumulative times, wherever in the run they happen), over its wall clock.

* **ours**: ``python cli.py run TABLE --algorithm hdbscan|kmeans --out DIR --quiet``, CSV and
  Parquet: every file a run writes (report, assignments, customers, model, cards, plots).
* **ours, full fit**: the same on CSV with ``--sample-size N`` (fitted on every row), once, up to
  ``--full-max-rows``; 'ARI vs full fit' compares each sampled run's labels with it.
* **plain HDBSCAN**, **fast_hdbscan**, **K-Means + LightGBM/SHAP**: ``bench/baselines.py`` on
  the CSV (what a notebook does, on every row; see that file). fast_hdbscan compiles with numba
  on first use: one untimed warm-up run fills numba's cache first, as a user's second run would.
  Above ``--baseline-max-rows`` they are not run: their wall clock is estimated from a power law
  (time ~ rows^k) fitted to the sizes measured in this run, and the table says so.

ARI counts Unassigned (-1) as one more group. Publishes to BENCHMARKS.md (and
``bench/results/cli.md``); ``--out FILE`` writes the Markdown to FILE instead.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLI = str(ROOT / "cli.py")
BASELINES = str(ROOT / "bench" / "baselines.py")
ALGORITHMS = ("hdbscan", "kmeans")
FORMATS = ("csv", "parquet")
#: approach -> (label, baseline kind for bench/baselines.py)
BASELINE_KINDS = {"plain-hdbscan": "plain script: pandas + StandardScaler + one-hot + hdbscan.HDBSCAN, all rows",
                  "fast-hdbscan": "same matrix, fast_hdbscan.HDBSCAN (numba Boruvka), all rows",
                  "kmeans-shap": "same matrix, KMeans(6) + LightGBM + SHAP on all rows"}
#: (algorithm, rows) -> seconds of wall clock for our CSV run.
TARGETS = {("hdbscan", 100_000): 10.0, ("kmeans", 100_000): 6.0,
           ("hdbscan", 1_000_000): 60.0, ("kmeans", 1_000_000): 20.0}
TARGET_SPEEDUP, TARGET_FULL_ARI, TARGET_PEAK_MB, TARGET_MISSING_S = 8.0, 0.95, 3072, 1.0


# ----------------------------------------------------------------------------- one process
def timed(cmd: list[str], timeout: float, ok_codes: tuple = (0,)) -> dict:
    """Run ``cmd`` under ``python -X importtime``; wall clock, peak memory, import seconds."""
    full = [sys.executable, "-X", "importtime", *cmd]
    with tempfile.TemporaryFile("w+") as err, tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, cwd=ROOT,
                                env={**os.environ, "PYTHONWARNINGS": "ignore"})
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return {"error": f"timed out after {timeout:.0f} s"}
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().splitlines()
    imports = 0.0
    other = []
    for line in lines:
        if line.startswith("import time:"):
            parts = line.split("|")
            if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
                imports += int(parts[1]) / 1e6
        else:
            other.append(line)
    if proc.returncode not in ok_codes:
        return {"error": (other or ["no output"])[-1][:200]}
    return {"wall": wall, "imports": imports, "peak_mb": usage.ru_maxrss / 1024}


# ----------------------------------------------------------------------------- helpers
def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem = next((int(line.split()[1]) / 1024 ** 2 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), float("nan"))
    return f"{os.cpu_count()} cores ({cpu}), {mem:.1f} GiB RAM, Python {platform.python_version()}"


def power_law(points: list[tuple[int, float]], n: int) -> tuple[float, float] | None:
    """(seconds at n, exponent k) from a least-squares fit of log t = a + k log rows."""
    points = [(m, t) for m, t in points if t > 0]
    if len(points) < 2:
        return None
    xs, ys = [math.log(m) for m, _ in points], [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return math.exp(my + k * (math.log(n) - mx)), k


def summary(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0]["error"] if runs else "not run", "runs": 0}
    out = {"runs": len(ok), "wall": statistics.median(r["wall"] for r in ok),
           "wall_min": min(r["wall"] for r in ok), "wall_max": max(r["wall"] for r in ok),
           "imports": statistics.median(r["imports"] for r in ok), "peak_mb": max(r["peak_mb"] for r in ok)}
    for key in ("ari_truth", "segments", "unassigned"):
        if ok[0].get(key) is not None:
            out[key] = statistics.median(r[key] for r in ok)
    return out


def labels_of_run(out_dir: Path):
    import pandas as pd

    return pd.read_csv(out_dir / "assignments.csv", usecols=["segment"])["segment"].to_numpy()


def score(result: dict, labels, truth) -> dict:
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    result["ari_truth"] = float(adjusted_rand_score(truth, labels))
    result["segments"] = int(len(set(np.unique(labels).tolist()) - {-1}))
    result["unassigned"] = float(np.mean(labels == -1))
    return result


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3, help="runs of ours per configuration below 1M rows")
    parser.add_argument("--repeats-large", type=int, default=1, help="runs of ours per configuration at 1M rows")
    parser.add_argument("--baseline-max-rows", type=int, default=100_000,
                        help="baselines on bigger tables are estimated from a power law, not run")
    parser.add_argument("--full-max-rows", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--out", default=None, help="write here instead of publishing to BENCHMARKS.md")
    args = parser.parse_args(argv)

    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from segmenter.demo import make_demo_customers
    from segmenter.model import FIT_SAMPLE_SIZE

    sizes = sorted(int(s) for s in args.sizes.split(","))
    started, load_start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()
    results: dict[tuple, dict] = {}
    notes: dict[tuple, list[str]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        missing = [timed([CLI, "run", str(tmp / "missing.csv"), "--out", str(tmp / "o")], 60, ok_codes=(2,))
                   for _ in range(5)]
        results[("missing",)] = {"wall": statistics.median(r.get("wall", float("nan")) for r in missing)}
        for n in sizes:
            demo = make_demo_customers(n, seed=0)
            files = {"csv": tmp / f"customers_{n}.csv", "parquet": tmp / f"customers_{n}.parquet"}
            demo.table.to_csv(files["csv"], index=False)
            demo.table.to_parquet(files["parquet"], index=False)
            truth = np.asarray(demo.persona)
            del demo
            repeats = args.repeats if n < 1_000_000 else args.repeats_large
            for algorithm in ALGORITHMS:
                ours_labels = []
                for fmt in FORMATS:
                    runs = []
                    for i in range(repeats):
                        out = tmp / f"run_{n}_{algorithm}_{fmt}_{i}"
                        r = timed([CLI, "run", str(files[fmt]), "--algorithm", algorithm, "--out", str(out),
                                   "--quiet"], args.timeout)
                        if "error" not in r:
                            labels = labels_of_run(out)
                            score(r, labels, truth)
                            if fmt == "csv":
                                ours_labels.append(labels)
                        shutil.rmtree(out, ignore_errors=True)
                        runs.append(r)
                        print(f"{n:,} {algorithm} ours {fmt} run {i + 1}: {r.get('wall', 0):.1f} s "
                              f"{r.get('error', '')}", flush=True)
                    results[(n, algorithm, "ours", fmt)] = summary(runs)
                key = (n, algorithm, "ours", "csv")
                if n <= FIT_SAMPLE_SIZE[algorithm]:
                    notes.setdefault(key, []).append("fitted on every row already (no sample)")
                elif n <= args.full_max_rows:
                    out = tmp / f"full_{n}_{algorithm}"
                    r = timed([CLI, "run", str(files["csv"]), "--algorithm", algorithm, "--sample-size", str(n),
                               "--out", str(out), "--quiet"], args.timeout)
                    if "error" not in r:
                        full = labels_of_run(out)
                        score(r, full, truth)
                        aris = [float(adjusted_rand_score(full, got)) for got in ours_labels]
                        if aris:
                            results[key]["ari_full"] = statistics.median(aris)
                            results[key]["ari_full_min"] = min(aris)
                    shutil.rmtree(out, ignore_errors=True)
                    results[(n, algorithm, "full", "csv")] = summary([r])
                    print(f"{n:,} {algorithm} full fit: {r.get('wall', 0):.1f} s {r.get('error', '')}", flush=True)
                else:
                    notes.setdefault(key, []).append(f"no full fit above {args.full_max_rows:,} rows")
            for kind in BASELINE_KINDS:
                key = (n, kind, "baseline", "csv")
                if n > args.baseline_max_rows:
                    measured = [(m, results[(m, kind, "baseline", "csv")]["wall"]) for m in sizes
                                if m < n and results.get((m, kind, "baseline", "csv"), {}).get("wall")]
                    estimate = power_law(measured, n)
                    if estimate:
                        results[key] = {"runs": 0, "wall": estimate[0], "estimated": True}
                        notes.setdefault(key, []).append(
                            f"not run: estimated from time ~ rows^{estimate[1]:.2f} fitted to "
                            f"{', '.join(f'{m:,}' for m, _ in measured)} rows in this run")
                    continue
                if kind == "fast-hdbscan" and not any(len(k) > 1 and k[1] == kind for k in results):
                    timed([BASELINES, kind, str(files["csv"]), str(tmp / "warm.npy")], args.timeout)  # numba cache
                r = timed([BASELINES, kind, str(files["csv"]), str(tmp / "labels.npy")], args.timeout)
                if "error" not in r:
                    score(r, np.load(tmp / "labels.npy"), truth)
                results[key] = summary([r])
                print(f"{n:,} {kind}: {r.get('wall', 0):.1f} s {r.get('error', '')}", flush=True)
            for f in files.values():
                f.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = report(results, notes, sizes, started, load_start, os.getloadavg(), args)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        from bench.publish import publish

        publish("cli", text)
    print(text)
    return 0


def _f(value, digits: int = 1, suffix: str = "") -> str:
    return "–" if value is None else f"{value:,.{digits}f}{suffix}"


def report(results: dict, notes: dict, sizes: list[int], started: str, load_start, load_end, args) -> str:
    header = ("| rows | file | what | runs | wall clock s (median, min-max) | imports s (share) | peak MB "
              "| ARI vs truth | ARI vs full fit | segments | unassigned | notes |")
    lines = [header, "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for n in sizes:
        order = [(n, a, "ours", f) for a in ALGORITHMS for f in FORMATS]
        order += [(n, a, "full", "csv") for a in ALGORITHMS]
        order += [(n, k, "baseline", "csv") for k in BASELINE_KINDS]
        for key in order:
            s = results.get(key)
            if s is None:
                continue
            _, name, approach, fmt = key
            what = {"ours": f"`cli.py run --algorithm {name}`",
                    "full": f"`cli.py run --algorithm {name} --sample-size {n}` (full fit)"}.get(
                approach, f"{name}: {BASELINE_KINDS.get(name, '')}")
            note = "; ".join(notes.get(key, []) + ([s["error"]] if "error" in s else []))
            if s.get("estimated"):
                lines.append(f"| {n:,} | {fmt} | {what} | 0 | ~{_f(s['wall'], 0)} (estimate) | – | – | – | – | – "
                             f"| – | {note} |")
                continue
            if "error" in s:
                lines.append(f"| {n:,} | {fmt} | {what} | 0 | – | – | – | – | – | – | – | {note} |")
                continue
            spread = f" ({s['wall_min']:.1f}-{s['wall_max']:.1f})" if s["runs"] > 1 else ""
            share = f"{s['imports']:.1f} ({100 * s['imports'] / s['wall']:.0f}%)"
            ari_full = _f(s.get("ari_full"), 3)
            if s.get("ari_full_min") is not None and s["runs"] > 1:
                ari_full += f" (min {s['ari_full_min']:.3f})"
            lines.append(f"| {n:,} | {fmt} | {what} | {s['runs']} | {s['wall']:.1f}{spread} | {share} | "
                         f"{_f(s['peak_mb'], 0)} | {_f(s.get('ari_truth'), 3)} | {ari_full} | "
                         f"{s.get('segments', '–')} | {_f(100 * s['unassigned'] if 'unassigned' in s else None, 1, '%')} "
                         f"| {note} |")
    targets = ["| target | measured | met |", "|---|---|:---:|"]

    def add(what: str, value, limit: float, fmt: str, higher: bool = False) -> None:
        if value is None:
            targets.append(f"| {what} | not measured | – |")
            return
        met = value >= limit if higher else value <= limit
        targets.append(f"| {what} | {fmt.format(value)} | {'yes' if met else '**no**'} |")

    add("`cli.py run missing.csv` answers (exit 2) in < 1 s", results[("missing",)].get("wall"),
        TARGET_MISSING_S, "{:.2f} s")
    for (algorithm, n), limit in TARGETS.items():
        add(f"{n:,}-row CSV, `--algorithm {algorithm}`, wall clock <= {limit:.0f} s",
            results.get((n, algorithm, "ours", "csv"), {}).get("wall"), limit, "{:.1f} s")
    ours = results.get((100_000, "hdbscan", "ours", "csv"), {})
    plain = results.get((100_000, "plain-hdbscan", "baseline", "csv"), {})
    add("100,000-row CSV: plain HDBSCAN script / `cli.py run --algorithm hdbscan` >= 8x (same run)",
        plain["wall"] / ours["wall"] if ours.get("wall") and plain.get("wall") else None, TARGET_SPEEDUP,
        "{:.1f}x", True)
    add("100,000 rows, hdbscan: sampled fit vs full fit ARI >= 0.95 (median of the CSV runs)",
        ours.get("ari_full"), TARGET_FULL_ARI, "{:.3f}", True)
    for algorithm in ALGORITHMS:
        peak = max((results.get((1_000_000, algorithm, "ours", f), {}).get("peak_mb") or 0) for f in FORMATS) or None
        add(f"1,000,000 rows, {algorithm}: peak memory <= 3 GB (CSV and Parquet)", peak, TARGET_PEAK_MB,
            "{:,.0f} MB")
    head = [
        "# Command-line wall clock (`cli.py run`, fresh processes)", "",
        f"- Run {started}; machine: {machine()}; load average (1 min) at start {load_start[0]:.1f}, "
        f"at the end {load_end[0]:.1f}. Other people's jobs share these 2 cores, so single timings are noisy.",
        f"- Command: `python bench/bench_cli.py {' '.join(sys.argv[1:])}`".rstrip() + f" (ours: {args.repeats} "
        f"runs per file below 1,000,000 rows, {args.repeats_large} at 1,000,000; baselines and full fits: 1 run).",
        "- Wall clock: from spawning `python -X importtime ...` to its exit, as `/usr/bin/time` reports it "
        "(interpreter start, imports, reading the file, everything written). Imports: the time the run's imports "
        "took, wherever they happen (`-X importtime`, top-level cumulative times summed); share = of its wall "
        "clock. Peak MB: the child's `ru_maxrss`.",
        "- Ours writes report.json, assignments.csv, customers.parquet, model.skops, personas.html/.md and "
        "plots.html, without the comparison of other algorithms (`--compare`, off by default); the "
        "stability refits run (3 on 80% resamples of the fit sample). Baselines write only their labels.",
        "- ARI vs truth: against the planted personas (Unassigned counts as one more group). ARI vs full fit: "
        "our sampled fit's labels against `--sample-size N` (every row fitted).",
        "",
    ]
    return "\n".join(head + lines + ["", "## Targets", ""] + targets) + "\n"


if __name__ == "__main__":
    sys.exit(main())
