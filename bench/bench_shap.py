"""Benchmark the SHAP stage (``explain_segments``) against explaining every row.

Usage: ``python bench/bench_shap.py [--sizes 10000 100000]``

For each table size, the demo table is segmented with K-Means (not timed), then:

* **ours**: ``explain_segments`` as the app runs it: a surrogate trained on a stratified
  sample of at most 20,000 rows (75% train / 25% held out), SHAP on at most ~1,000 rows;
* **baseline**: a surrogate with the same settings trained on *all* rows, and
  TreeSHAP (the same routine) on all rows. When the all-row SHAP pass would take longer than
  ``--max-baseline-seconds`` (judged from a 10,000-row pass), it is measured on that
  subset and extrapolated linearly; the table says so.

Prints a Markdown table and publishes it to BENCHMARKS.md (and ``bench/results/shap.md``). Target: ours <= 10 s
at 100,000 rows.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.publish import publish  # noqa: E402
from explainers.drivers import explain_segments, fit_surrogate  # noqa: E402
from segmenter.demo import make_demo_customers  # noqa: E402
from segmenter.export import customers_frame  # noqa: E402
from segmenter.model import CustomerSegmenter  # noqa: E402
from segmenter.schema import apply_schema  # noqa: E402

TARGET_SECONDS = 10.0
PROBE_ROWS = 10_000


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def bench_size(n: int, max_baseline_seconds: float) -> dict:
    demo = make_demo_customers(n, seed=0)
    model = CustomerSegmenter(algorithm="kmeans", seed=0, stability_runs=0, compare=False).fit(demo.table)
    customers = customers_frame(model.report_, apply_schema(demo.table, model.schema_))
    (report, _), ours = _timed(lambda: explain_segments(model.report_, model, customers, seed=0))

    pre = model.preprocessor_
    (X, y), t_transform = _timed(lambda: (pre.transform(customers[model.report_.features]),
                                          customers["__segment__"].to_numpy()))
    surrogate, t_train = _timed(lambda: fit_surrogate(X, y, pre.feature_names_out_, pre.feature_map_))
    probe = min(n, PROBE_ROWS)
    _, t_probe = _timed(lambda: surrogate.shap_values(X[:probe]))
    estimate = t_probe * n / probe
    if n == probe or estimate <= max_baseline_seconds:
        _, t_shap = _timed(lambda: surrogate.shap_values(X)) if n > probe else (None, t_probe)
        note = "measured on all rows"
    else:
        t_shap = estimate
        note = f"SHAP pass measured on {probe:,} rows ({t_probe:.1f} s) and extrapolated linearly"
    baseline = t_transform + t_train + t_shap
    exp = report.explanation
    return {"rows": n, "ours": ours, "baseline": baseline, "train_all": t_train, "shap_all": t_shap,
            "fidelity": exp["surrogate_fidelity"], "rows_trained": exp["rows_trained"],
            "rows_explained": exp["rows_explained"], "segments": len(report.real_segments), "note": note}


def markdown(results: list[dict]) -> str:
    lines = [
        "# SHAP stage benchmark",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; demo data, K-Means segments. "
        f"Target: ours <= {TARGET_SECONDS:.0f} s at 100,000 rows. Times are wall-clock seconds.",
        "",
        "| rows | segments | ours: `explain_segments` (s) | rows trained / explained | fidelity (macro-F1) "
        "| baseline: all rows (s) | of which train / SHAP (s) | speed-up | target met | baseline note |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---|",
    ]
    for r in results:
        met = "yes" if r["ours"] <= TARGET_SECONDS else "no"
        lines.append(
            f"| {r['rows']:,} | {r['segments']} | {r['ours']:.2f} | {r['rows_trained']:,} / {r['rows_explained']:,} "
            f"| {r['fidelity']:.4f} | {r['baseline']:.1f} | {r['train_all']:.1f} / {r['shap_all']:.1f} "
            f"| {r['baseline'] / r['ours']:.1f}x | {met} | {r['note']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--max-baseline-seconds", type=float, default=300.0)
    args = parser.parse_args(argv)
    results = []
    for n in args.sizes:
        print(f"benchmarking {n:,} rows ...", flush=True)
        results.append(bench_size(n, args.max_baseline_seconds))
    table = markdown(results)
    print(table)
    print(f"written to {publish('shap', table).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
