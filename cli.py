"""Command-line front end over the library: run, assign, explain, ask.

Exit code 0 on success; on bad input exit code 2 with one ``error: ...`` line on stderr.
"""
from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

from segmenter.errors import SegmenterError


@contextmanager
def progress_bar(enabled: bool = True):
    """A tqdm bar driven by the library's ``progress(fraction, message)`` callback."""
    from tqdm import tqdm

    bar = tqdm(total=100, disable=not enabled, file=sys.stderr, leave=False,
               bar_format="{l_bar}{bar}| {elapsed}")

    def update(fraction: float, message: str) -> None:
        bar.set_description_str(message[:40])
        bar.n = int(round(100 * min(max(fraction, 0.0), 1.0)))
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _types(values: list[str] | None) -> dict | None:
    if not values:
        return None
    out = {}
    for item in values:
        column, sep, kind = item.rpartition("=")
        if not sep or not column:
            raise SegmenterError(f"--type expects COLUMN=KIND (e.g. region=categorical), got '{item}'.")
        out[column] = kind
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from explainers.analysis import analyse, write_run
    from segmenter.demo import make_demo_customers
    from segmenter.load import load_table

    table = make_demo_customers().table if args.input == "demo" else load_table(args.input)
    params = dict(algorithm=args.algorithm, k=args.k, seed=args.seed, features=_split(args.features),
                  exclude=_split(args.exclude), types=_types(args.type), id_column=args.id_column,
                  min_cluster_size=args.min_cluster_size, fit_sample_size=args.sample_size,
                  stratify=args.stratify, projection=args.map)
    with progress_bar(not args.quiet) as progress:
        analysis = analyse(table, progress=progress, **params)
        written = write_run(analysis, Path(args.out), progress=progress)
    report = analysis.report
    print(f"{report.n_rows:,} customers -> {len(report.real_segments)} segments "
          f"({report.algorithm}); wrote {', '.join(p.name for p in written)} to {args.out}")
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    from explainers.analysis import assign_file

    with progress_bar(not args.quiet) as progress:
        out = assign_file(Path(args.dir), args.input, Path(args.out), engine=args.engine,
                          scheduler=args.scheduler, progress=progress)
    print(f"wrote {out}")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from explainers.analysis import explain_customer_in_dir

    print(explain_customer_in_dir(Path(args.dir), args.customer_id))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from explainers.chat import ChatEngine

    engine = ChatEngine.from_dir(Path(args.dir))
    print(engine.ask(args.question).text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description="Segment customers and explain the segments.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="segment a table (or the word 'demo') and write the results to --out")
    run.add_argument("input", help="CSV/Parquet/Excel file, or 'demo'")
    run.add_argument("--algorithm", default="auto", choices=["auto", "kmeans", "hdbscan", "gmm", "agglomerative"])
    run.add_argument("--k", type=int, default=None, help="number of segments (default: chosen automatically)")
    run.add_argument("--min-cluster-size", type=int, default=None, help="HDBSCAN: smallest segment")
    run.add_argument("--features", help="comma-separated columns to use (default: all usable)")
    run.add_argument("--exclude", help="comma-separated columns to leave out")
    run.add_argument("--type", action="append", help="force a column type: COLUMN=numeric|categorical|boolean|datetime")
    run.add_argument("--id-column", help="the customer id column")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--sample-size", type=int, default=None, help="rows to fit on (default: by algorithm)")
    run.add_argument("--stratify", default=None,
                     help="column whose levels keep their shares in the fit sample (e.g. region)")
    run.add_argument("--map", default="pca", choices=["pca", "umap"],
                     help="2-D map of customers in plots.html: pca (fast) or umap (needs umap-learn)")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    assign = sub.add_parser("assign", help="assign new customers with a saved run")
    assign.add_argument("dir", help="folder written by 'run'")
    assign.add_argument("input", help="CSV/Parquet/Excel file, or a folder of Parquet files with --engine dask")
    assign.add_argument("--out", required=True, help="output CSV (or folder with --engine dask)")
    assign.add_argument("--engine", default="pandas", choices=["pandas", "dask"])
    assign.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a local cluster)")
    assign.add_argument("--quiet", action="store_true")
    assign.set_defaults(func=cmd_assign)

    explain = sub.add_parser("explain", help="why one customer is in their segment")
    explain.add_argument("dir")
    explain.add_argument("customer_id")
    explain.set_defaults(func=cmd_explain)

    ask = sub.add_parser("ask", help="ask a question about the segments")
    ask.add_argument("dir")
    ask.add_argument("question")
    ask.set_defaults(func=cmd_ask)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SegmenterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"error: cannot open '{exc.filename}': {exc.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
