"""Benchmark the whole pipeline at 10k, 100k and 1M customers against the plain approach.

Usage: ``python bench/bench_scale.py [--sizes 10000,100000,1000000] [--repeats N]``

For each size the seeded demo table (``make_demo_customers(n, seed=0)``: 16 columns plus
an id, six planted personas) is written to Parquet once. Every configuration then runs
in a fresh Python process (so peak memory, ``ru_maxrss``, is its own) with the modules
already imported:

* **ours**: ``load_table`` -> ``analyse`` (fit on a sample, assign every row in chunks,
  quality and stability, profile over all rows, SHAP drivers, names) -> ``write_run``
  (report, assignments, customers, model, persona cards). Stage times come from the
  progress messages the pipeline reports.
* **full**: our pipeline fitted on every row (``fit_sample_size=n``), to measure how
  far the sampled fit is from a full-data fit (run up to ``--full-max-rows``).
* **plain**: what a notebook does: ``pd.read_parquet``, standardise + one-hot,
  ``hdbscan.HDBSCAN(min_cluster_size=<ours>)`` (``min_samples`` left at its default) or
  ``KMeans(6)`` on every row, a pandas ``groupby`` profile, and a LightGBM surrogate
  (same settings as ours) trained on every row with SHAP on every row. SHAP runs longer
  than ``--plain-max-seconds`` are measured on a subset and extrapolated linearly; a
  plain HDBSCAN fit that would run longer is not run and is extrapolated from the
  smaller sizes of the same run. The table says so.

A profiling aid (where the time goes, stage by stage, in one process with the imports already
done); what a user waits for is ``bench/bench_cli.py`` (wall clock of ``cli.py run`` as a fresh
process), which is what BENCHMARKS.md publishes. This prints its table, and ``--out FILE``
writes it to FILE; it is not published.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

STAGES = ("load", "preprocess", "segment", "quality", "assign", "profile", "explain", "write",
          "render")
#: Progress message prefix -> stage it starts (messages of segmenter/model.py and explainers/analysis.py).
MARKS = (("Checking the table", "preprocess"), ("Preparing features", "preprocess"),
         ("Finding segments", "segment"), ("Assigning every customer", "assign"),
         ("Assigned ", "assign"), ("Measuring", "quality"),
         ("Profiling segments", "profile"), ("Segmentation done", "explain"),
         ("Explaining segments", "explain"), ("Writing persona cards", "render"))
PLANTED_K = 6
TARGETS = {("hdbscan", 100_000): 30.0, ("kmeans", 100_000): 15.0,
           ("hdbscan", 1_000_000): 180.0, ("kmeans", 1_000_000): 60.0}
TARGET_SPEEDUP, TARGET_ARI, TARGET_FULL_ARI, TARGET_MEMORY_MB = 5.0, 0.9, 0.95, 4096


# ----------------------------------------------------------------------------- workers
def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


class _Clock:
    """Stage timer fed by the pipeline's progress messages."""

    def __init__(self) -> None:
        self.times = {s: 0.0 for s in STAGES}
        self.stage, self.since = "load", time.perf_counter()

    def switch(self, stage: str) -> None:
        now = time.perf_counter()
        self.times[self.stage] += now - self.since
        self.stage, self.since = stage, now

    def progress(self, fraction: float, message: str) -> None:
        for prefix, stage in MARKS:
            if message.startswith(prefix):
                if stage != self.stage:
                    self.switch(stage)
                return


def run_ours(job: dict) -> dict:
    import numpy as np

    from explainers.analysis import analyse, write_run
    from segmenter.load import load_table

    clock = _Clock()
    start = time.perf_counter()
    table = load_table(job["data"])
    clock.switch("preprocess")
    params = {"algorithm": job["algorithm"], "seed": 0}
    if job["approach"] == "full":
        params["fit_sample_size"] = job["rows"]
    analysis = analyse(table, progress=clock.progress, **params)
    if job["approach"] == "ours":
        clock.switch("write")
        write_run(analysis, Path(job["out"]), progress=clock.progress)
    clock.switch("done")
    total = time.perf_counter() - start
    report = analysis.report
    np.save(job["labels"], report.assignments["segment"].to_numpy())
    return {"stages": clock.times, "total": total, "n_segments": report.metrics["n_segments"],
            "noise": report.metrics["noise_fraction"], "fit_rows": report.n_fit_rows,
            "fidelity": (report.explanation or {}).get("surrogate_fidelity")}


def _plain_matrix(df):
    from baselines import frame_matrix  # bench/ is on the path when this script runs

    return frame_matrix(df.drop(columns=["customer_id"]))


def run_plain(job: dict) -> dict:
    import numpy as np
    import pandas as pd

    from segmenter.algorithms import default_min_cluster_size

    times = {s: 0.0 for s in STAGES}
    notes: list[str] = []
    t = time.perf_counter()
    df = pd.read_parquet(job["data"])
    times["load"] = time.perf_counter() - t
    t = time.perf_counter()
    df, X, num, cat = _plain_matrix(df)
    times["preprocess"] = time.perf_counter() - t
    t = time.perf_counter()
    if job["algorithm"] == "hdbscan":
        import hdbscan

        labels = hdbscan.HDBSCAN(min_cluster_size=default_min_cluster_size(len(X))).fit(X).labels_
    else:
        from sklearn.cluster import KMeans

        labels = KMeans(n_clusters=PLANTED_K, random_state=0).fit(X).labels_
    times["segment"] = time.perf_counter() - t
    t = time.perf_counter()
    df["segment"] = labels
    df.groupby("segment")[num].describe()
    for c in cat:
        df.groupby("segment")[c].value_counts(normalize=True)
    times["profile"] = time.perf_counter() - t
    times["explain"], note = _plain_explain(X, labels, job["plain_max_seconds"])
    notes += [note] if note else []
    np.save(job["labels"], labels)
    return {"stages": times, "total": sum(times.values()), "notes": notes,
            "n_segments": int(len(set(labels.tolist()) - {-1})),
            "noise": float(np.mean(labels == -1))}


def _plain_explain(X, labels, max_seconds: float) -> tuple[float, str]:
    """Surrogate on every row, SHAP on every row (extrapolated from a subset when slow)."""
    import shap
    from lightgbm import LGBMClassifier

    from explainers.drivers import SURROGATE_PARAMS

    t = time.perf_counter()
    model = LGBMClassifier(**SURROGATE_PARAMS).fit(X, labels)
    train = time.perf_counter() - t
    explainer = shap.TreeExplainer(model)
    probe = min(len(X), 10_000)
    t = time.perf_counter()
    explainer.shap_values(X[:probe])
    per_row = (time.perf_counter() - t) / probe
    if probe == len(X):
        return train + per_row * probe, ""
    if per_row * len(X) > max_seconds:
        return (train + per_row * len(X),
                f"SHAP on all {len(X):,} rows extrapolated from {probe:,} rows "
                f"({per_row * len(X):.0f} s)")
    t = time.perf_counter()
    explainer.shap_values(X)
    return train + time.perf_counter() - t, ""


def worker(job: dict) -> None:
    import hdbscan  # noqa: F401  imports are not what is measured
    import lightgbm  # noqa: F401
    import shap  # noqa: F401
    import sklearn.cluster  # noqa: F401

    import explainers.analysis  # noqa: F401
    import explainers.cards  # noqa: F401

    base = _peak_mb()
    out = run_plain(job) if job["approach"] == "plain" else run_ours(job)
    out.update(peak_mb=_peak_mb(), import_mb=base)
    print("RESULT " + json.dumps(out), flush=True)


# ----------------------------------------------------------------------------- parent
def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem = next((int(line.split()[1]) / 1024 ** 2 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), float("nan"))
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.1f} GiB RAM, Python {platform.python_version()}, "
            f"load average at start {os.getloadavg()[0]:.1f}")


def spawn(job: dict, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(job)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]}


def median(values: list[float]) -> float:
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def summarise(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0]["error"], "runs": 0}
    out = {"runs": len(ok), "total": median([r["total"] for r in ok]),
           "stages": {s: median([r["stages"][s] for r in ok]) for s in STAGES},
           "peak_mb": max(r["peak_mb"] for r in ok),
           "notes": sorted({n for r in ok for n in r.get("notes", [])})}
    for key in ("n_segments", "noise", "ari_truth", "fidelity", "fit_rows", "import_mb"):
        if ok[0].get(key) is not None:
            out[key] = median([r[key] for r in ok if r.get(key) is not None])
    return out


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _row(n: int, algorithm: str, approach: str, s: dict) -> str:
    if "error" in s:
        return f"| {n:,} | {algorithm} | {approach} | 0 | " + " | ".join(["–"] * (len(STAGES) + 6)) \
            + f" | {s['error']} |"
    stages = " | ".join(_fmt(s["stages"][k]) if s["stages"][k] or approach != "plain" else "–"
                        for k in STAGES)
    mark = "~" if s.get("estimated") else ""
    return (f"| {n:,} | {algorithm} | {approach} | {s['runs']} | {stages} | {mark}{_fmt(s['total'])} | "
            f"{_fmt(s.get('peak_mb'), 0)} | {_fmt(s.get('ari_truth'), 3)} | {_fmt(s.get('ari_full'), 3)} | "
            f"{s.get('n_segments', '–')} | {_fmt(100 * s['noise']) + '%' if 'noise' in s else '–'} | "
            f"{'; '.join(s.get('notes', []))} |")


def fit_sample_size(algorithm: str) -> int:
    from segmenter.model import FIT_SAMPLE_SIZE

    return FIT_SAMPLE_SIZE[algorithm]


def plain_fit_estimate(fits: dict, algorithm: str, n: int) -> tuple[float, float] | None:
    """(seconds, exponent) for a plain fit of ``n`` rows from the two largest measured sizes."""
    measured = sorted((m, t) for (a, m), t in fits.items() if a == algorithm and m < n)
    if len(measured) < 2:
        return None
    import math

    (m1, t1), (m2, t2) = measured[-2:]
    k = math.log(t2 / t1) / math.log(m2 / m1)
    return t2 * (n / m2) ** k, k


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--algorithms", default="hdbscan,kmeans")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration below 1M rows")
    parser.add_argument("--repeats-large", type=int, default=1, help="runs per configuration at >= 1M rows")
    parser.add_argument("--plain-repeats", type=int, default=None,
                        help="runs of the plain approach (default: --repeats below 100k rows, 1 above)")
    parser.add_argument("--plain-max-seconds", type=float, default=300.0,
                        help="longer plain SHAP passes / HDBSCAN fits are extrapolated")
    parser.add_argument("--full-max-rows", type=int, default=100_000)
    parser.add_argument("--no-plain", action="store_true")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--out", default=None, help="also write the Markdown table here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0

    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from segmenter.demo import make_demo_customers

    sizes = sorted(int(s) for s in args.sizes.split(","))
    algorithms = args.algorithms.split(",")
    started, host = time.strftime("%Y-%m-%d %H:%M"), machine()
    rows, summaries, plain_fits = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        tmp = Path(tmp)
        for n in sizes:
            demo = make_demo_customers(n, seed=0)
            data = tmp / f"customers_{n}.parquet"
            demo.table.to_parquet(data, index=False)
            truth = demo.persona
            del demo
            repeats = args.repeats if n < 1_000_000 else args.repeats_large
            for algorithm in algorithms:
                plan = [("ours", repeats)]
                if fit_sample_size(algorithm) < n <= args.full_max_rows:
                    plan.append(("full", 1))
                if not args.no_plain:
                    plain_runs = args.plain_repeats or (repeats if n < 100_000 else 1)
                    plan.append(("plain", plain_runs))
                labels = {}
                for approach, count in plan:
                    runs = []
                    estimate = plain_fit_estimate(plain_fits, algorithm, n) if approach == "plain" else None
                    if estimate and estimate[0] > args.plain_max_seconds * 4:
                        summaries[(n, algorithm, approach)] = s = {
                            "runs": 0, "estimated": True, "total": estimate[0],
                            "stages": {k: 0.0 for k in STAGES},
                            "notes": [f"not run: fit alone estimated at {estimate[0] / 3600:.1f} h "
                                      f"(time ~ rows^{estimate[1]:.2f}, from the smaller sizes of this run)"]}
                        s["stages"]["segment"] = estimate[0]
                        rows.append(_row(n, algorithm, approach, s))
                        print(rows[-1], flush=True)
                        continue
                    for i in range(count):
                        job = {"approach": approach, "algorithm": algorithm, "rows": n,
                               "data": str(data), "out": str(tmp / f"run_{n}_{algorithm}_{i}"),
                               "labels": str(tmp / f"labels_{n}_{algorithm}_{approach}_{i}.npy"),
                               "plain_max_seconds": args.plain_max_seconds}
                        result = spawn(job, args.timeout)
                        if "error" not in result:
                            got = np.load(job["labels"])
                            result["ari_truth"] = float(adjusted_rand_score(truth, got))
                            labels.setdefault(approach, []).append(got)
                        runs.append(result)
                        print(f"  {n:,} {algorithm} {approach} run {i + 1}: "
                              f"{result.get('total', float('nan')):.1f} s {result.get('error', '')}", flush=True)
                    summaries[(n, algorithm, approach)] = s = summarise(runs)
                    if approach == "plain" and "error" not in s:
                        plain_fits[(algorithm, n)] = s["stages"]["segment"]
                if labels.get("full"):
                    full = labels["full"][0]
                    aris = [float(adjusted_rand_score(full, got)) for got in labels.get("ours", [])]
                    if aris:
                        summaries[(n, algorithm, "ours")]["ari_full"] = median(aris)
                        summaries[(n, algorithm, "ours")]["ari_full_min"] = min(aris)
                for approach, _ in plan:
                    if not summaries[(n, algorithm, approach)].get("estimated"):
                        rows.append(_row(n, algorithm, approach, summaries[(n, algorithm, approach)]))
                        print(rows[-1], flush=True)
    text = report_markdown(rows, summaries, started, host, args)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


def _targets(summaries: dict) -> list[str]:
    lines = ["| target | measured | met |", "|---|---|:---:|"]

    def add(what: str, value: float | None, limit: float, fmt: str, higher_is_better: bool = False) -> None:
        if value is None:
            lines.append(f"| {what} | not measured | – |")
            return
        met = value >= limit if higher_is_better else value <= limit
        lines.append(f"| {what} | {fmt.format(value)} | {'yes' if met else 'no'} |")

    for (algorithm, n), limit in TARGETS.items():
        s = summaries.get((n, algorithm, "ours"), {})
        add(f"{n:,} rows, {algorithm}, end to end <= {limit:.0f} s", s.get("total"), limit, "{:.1f} s")
    ours, plain = summaries.get((100_000, "hdbscan", "ours"), {}), summaries.get((100_000, "hdbscan", "plain"), {})
    if ours.get("total") and plain.get("stages", {}).get("segment"):
        ratio = plain["stages"]["segment"] / ours["total"]
        add("100,000 rows: plain HDBSCAN fit alone / our end to end >= 5x", ratio, TARGET_SPEEDUP,
            "{:.1f}x", True)
        ratio = plain["stages"]["segment"] / (ours["stages"]["segment"] + ours["stages"]["assign"])
        lines.append(f"| (for reference) plain HDBSCAN fit / our fit + assign | {ratio:.0f}x | |")
    add("100,000 rows, hdbscan: ARI vs planted truth >= 0.9", ours.get("ari_truth"), TARGET_ARI, "{:.3f}", True)
    for algorithm in ("hdbscan", "kmeans"):
        s = summaries.get((1_000_000, algorithm, "ours"), {})
        add(f"1,000,000 rows, {algorithm}: peak memory <= 4 GB", s.get("peak_mb"), TARGET_MEMORY_MB, "{:,.0f} MB")
    for algorithm in ("hdbscan", "kmeans"):
        s = summaries.get((100_000, algorithm, "ours"), {})
        add(f"100,000 rows, {algorithm}: sampled fit vs full fit ARI >= 0.95 (median; min {_fmt(s.get('ari_full_min'), 3)})",
            s.get("ari_full"), TARGET_FULL_ARI, "{:.3f}", True)
    return lines


def report_markdown(rows: list[str], summaries: dict, started: str, host: str, args) -> str:
    header = ("| rows | algorithm | approach | runs | " + " | ".join(STAGES)
              + " | end to end (s) | peak MB | ARI vs truth | ARI vs full fit | segments | unassigned | notes |")
    align = "|---:|---|---|---:|" + "---:|" * len(STAGES) + "---:|---:|---:|---:|---:|---:|---|"
    notes = [
        f"Run {started}; machine: {host}; load average at the end {os.getloadavg()[0]:.1f} (other "
        "people's jobs share these 2 cores, so single timings are noisy).",
        f"Command: `python bench/bench_scale.py {' '.join(sys.argv[1:])}` "
        f"(runs per configuration: {args.repeats} below 1M rows, {args.repeats_large} at 1M; plain "
        f"approach: {args.plain_repeats or 'as ours below 100k rows, 1 from 100k'}; the 'runs' "
        "column says). Times are wall-clock seconds, medians over the runs; "
        "ratios compare medians of this one run.",
        "Stages (ours): load = `load_table` of the Parquet file; preprocess = schema inference, "
        "validation and preprocessing; segment = fitting on the sample; quality = metrics, "
        "stability refits and the side-by-side comparison; assign = every row in chunks; profile = "
        "statistics over all rows and the report; explain = SHAP drivers and names; write = report, "
        "assignments, customers and model files; render = persona cards (HTML + Markdown). "
        "End to end = load through render.",
        "Plain: `pd.read_parquet`, standardise + one-hot, HDBSCAN (our min_cluster_size, "
        "min_samples default) or KMeans(6) on every row, a pandas groupby profile, LightGBM "
        "surrogate trained on every row and SHAP on every row; no files or cards.",
        "full: our pipeline fitted on every row (`fit_sample_size=n`); 'ARI vs full fit' compares "
        "our sampled fit's labels with it. ARI counts Unassigned as one more group.",
        "Peak MB: `ru_maxrss` of a fresh process per configuration, including ~"
        f"{_imports_mb(summaries):.0f} MB of imported libraries.",
    ]
    return "\n".join(["# Speed and scale benchmark", "", *[f"- {n}" for n in notes], "",
                      header, align, *rows, "", "## Targets", "", *_targets(summaries), ""])


def _imports_mb(summaries: dict) -> float:
    values = [s.get("import_mb") for s in summaries.values() if s.get("import_mb")]
    return median(values) if values else float("nan")


if __name__ == "__main__":
    sys.exit(main())
