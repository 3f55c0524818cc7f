"""Command-line front end over the library: demo, run, assign, explain, ask.

Exit code 0 on success; on bad input exit code 2 with one ``error: ...`` line on stderr;
``assign`` exits with 3 when some rows could not be assigned (the others are; a ``warning: ...``
line on stderr, every problem in ``OUT.problems.csv``).
Only the standard library and ``segmenter.errors``/``segmenter.paths`` are imported up
front: paths are checked before the library (pandas, scikit-learn, SHAP) is loaded, so
``--help`` and a wrong path answer at once. Answers print as plain text, not Markdown.
"""
from __future__ import annotations

import argparse
import html
import re
import sys
from contextlib import contextmanager
from pathlib import Path

from segmenter.errors import ParameterError, SegmenterError
from segmenter.paths import require_file, require_run_dir

#: Rows of the tables ``cli.py demo`` writes: the demo table (default), new customers, the Parquet dataset.
DEMO_ROWS, NEW_ROWS, PARQUET_ROWS, PARQUET_PARTS = 5000, 500, 4000, 4
#: Seeds and first customer numbers of the extra demo files (another seed, ids of their own).
NEW_SEED, NEW_FIRST_ID, PARQUET_SEED, PARQUET_FIRST_ID = 1, 200000, 2, 300000
TABLE_SUFFIXES = (".csv", ".parquet")
_MD_ESCAPED = re.compile(r"\\([\\`*_\[\](){}#!|~+\-.>])")
_MD_STYLES = (
    (re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),      # links and images: their text
    (re.compile(r"\*\*(.+?)\*\*|__(.+?)__"), r"\1\2"),          # bold
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),  # italics
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"`([^`\n]*)`"), r"\1"),                         # code
    (re.compile(r"^#{1,6}[ \t]+", re.M), ""),                     # headings
)


def plain_text(markdown: str) -> str:
    """Markdown (as the library words answers) for a terminal: no ``**``, no escapes.

    Backslash-escaped characters are table text and are kept as they are; HTML entities
    from :func:`explainers.format.md_escape` are turned back into their characters.
    """
    kept: list[str] = []

    def hold(match: re.Match) -> str:
        kept.append(match.group(1))
        return f"\x00{len(kept) - 1}\x00"

    text = _MD_ESCAPED.sub(hold, markdown)
    for pattern, replacement in _MD_STYLES:
        text = pattern.sub(replacement, text)
    text = re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)
    return html.unescape(text)


@contextmanager
def progress_bar(enabled: bool = True):
    """A tqdm bar driven by the library's ``progress(fraction, message)`` callback."""
    from tqdm import tqdm

    bar = tqdm(total=100, disable=not enabled, file=sys.stderr, leave=False,
               bar_format="{l_bar}{bar}| {elapsed}")

    def update(fraction: float, message: str) -> None:
        bar.set_description_str(message)
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


def _weights(values: list[str] | None) -> dict | None:
    if not values:
        return None
    out = {}
    for item in values:
        column, sep, weight = item.rpartition("=")
        try:
            number = float(weight)
        except ValueError:
            number = None
        if not sep or not column or number is None:
            raise SegmenterError(f"--weight expects COLUMN=WEIGHT (e.g. income=2, notes=0), got '{item}'.")
        out[column] = number
    return out


def _read_table(value: str):
    if value == "demo":
        from segmenter.demo import make_demo_customers

        return make_demo_customers().table
    path = require_file(value)  # before any import: a wrong path answers at once
    from segmenter.load import load_table  # pandas only: a bad file is refused before the library loads

    return load_table(path)


def _table_path(value: str, option: str) -> Path:
    path = Path(value)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise ParameterError(f"{option} '{value}' should end in .csv or .parquet.")
    return path


def _write_table(table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)


def cmd_demo(args: argparse.Namespace) -> int:
    out = _table_path(args.out, "--out")
    new = _table_path(args.new_customers, "--new-customers") if args.new_customers else None
    if args.rows < 1:
        raise ParameterError(f"--rows must be 1 or more; got {args.rows}.")
    from segmenter.demo import make_demo_customers

    _write_table(make_demo_customers(args.rows, seed=args.seed).table, out)
    written = [str(out)]
    if new is not None:
        table = make_demo_customers(NEW_ROWS, seed=args.seed + NEW_SEED, first_id=NEW_FIRST_ID).table
        _write_table(table, new)
        written.append(str(new))
    if args.parquet_dir:
        import numpy as np

        folder = Path(args.parquet_dir)
        if folder.exists() and not folder.is_dir():
            raise ParameterError(f"--parquet-dir '{folder}' is a file; give a folder.")
        folder.mkdir(parents=True, exist_ok=True)
        table = make_demo_customers(PARQUET_ROWS, seed=args.seed + PARQUET_SEED, first_id=PARQUET_FIRST_ID).table
        for i, rows in enumerate(np.array_split(np.arange(len(table)), PARQUET_PARTS)):
            table.iloc[rows].to_parquet(folder / f"customers-{i}.parquet", index=False)
        written.append(f"{folder}/ ({PARQUET_PARTS} Parquet files)")
    print(f"wrote {', '.join(written)}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    if args.meanings:
        require_file(args.meanings)
    weights = _weights(args.weight)
    table = _read_table(args.input)
    from explainers.analysis import analyse, write_run
    from segmenter.meanings import read_overrides

    params = dict(algorithm=args.algorithm, k=args.k, seed=args.seed, features=_split(args.features),
                  exclude=_split(args.exclude), types=_types(args.type), id_column=args.id_column,
                  min_cluster_size=args.min_cluster_size, fit_sample_size=args.sample_size,
                  stratify=args.stratify, projection=args.map, weights=weights,
                  meanings=read_overrides(args.meanings) if args.meanings else None,
                  drop_implausible=args.drop_implausible, compare=args.compare)
    with progress_bar(not args.quiet) as progress:
        analysis = analyse(table, progress=progress, **params)
        written = write_run(analysis, Path(args.out), progress=progress)
    report = analysis.report
    print(f"{report.n_rows:,} customers -> {len(report.real_segments)} segments "
          f"({report.algorithm}); wrote {', '.join(p.name for p in written)} to {args.out}")
    if not args.compare:
        print("comparison of the other algorithms: not run (pass --compare)")
    return 0


def cmd_meanings(args: argparse.Namespace) -> int:
    """Print how each column is read (label, role, unit) and write an editable file for --meanings."""
    table = _read_table(args.input)
    from segmenter.meanings import meaning_rows, write_overrides
    from segmenter.schema import infer_schema

    schema = infer_schema(table, id_column=args.id_column)
    rows = meaning_rows(schema.meanings)
    width = max([len(r["column"]) for r in rows] + [6])
    for r in rows:
        note = f"  ({r['note']})" if r["note"] else ""
        print(f"{r['column']:<{width}}  {r['role']:<12} {r['unit']:<8} {r['label']}{note}")
    if args.out:
        path = write_overrides(schema.meanings, Path(args.out))
        print(f"wrote {path}: edit labels, roles or units, then run with --meanings {path}")
    return 0


#: Exit code of ``assign`` when some rows were assigned and others could not be (listed in a file).
PARTIAL = 3


def cmd_assign(args: argparse.Namespace) -> int:
    require_run_dir(args.dir)
    if args.engine == "pandas":
        require_file(args.input)
    from explainers.analysis import assign_file_checked, problems_path

    with progress_bar(not args.quiet) as progress:
        out, check = assign_file_checked(Path(args.dir), args.input, Path(args.out), engine=args.engine,
                                         scheduler=args.scheduler, progress=progress)
    print(f"wrote {out}")
    if check is not None and check.problems:
        print(f"warning: {check.summary(5)} Every problem is listed in {problems_path(out)}.", file=sys.stderr)
        return PARTIAL
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    require_run_dir(args.dir)
    from explainers.analysis import explain_customer_in_dir

    print(plain_text(explain_customer_in_dir(Path(args.dir), args.customer_id)).rstrip())
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    require_run_dir(args.dir)
    from explainers.chat import ChatEngine

    engine = ChatEngine.from_dir(Path(args.dir))
    print(plain_text(engine.ask(args.question).text).rstrip())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cli.py", description="Segment customers and explain the segments.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="write the built-in demo table (and sample files to try the commands)")
    demo.add_argument("--out", required=True, help="the demo table: a .csv or .parquet file")
    demo.add_argument("--rows", type=int, default=DEMO_ROWS, help=f"customers in the table (default {DEMO_ROWS:,})")
    demo.add_argument("--seed", type=int, default=0, help="same seed, same table")
    demo.add_argument("--new-customers", metavar="FILE",
                      help=f"also write {NEW_ROWS} new customers (another seed) to assign: .csv or .parquet")
    demo.add_argument("--parquet-dir", metavar="DIR",
                      help=f"also write {PARQUET_ROWS:,} new customers as a folder of {PARQUET_PARTS} Parquet "
                           "files (for assign --engine dask)")
    demo.set_defaults(func=cmd_demo)

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
    run.add_argument("--weight", action="append", metavar="COLUMN=WEIGHT",
                     help="a column's say in the segments: 1 is the default, 2 doubles it, 0 leaves it out")
    run.add_argument("--meanings", metavar="FILE",
                     help="corrections of the column meanings, a JSON or YAML file (see 'cli.py meanings')")
    run.add_argument("--drop-implausible", action="store_true",
                     help="leave out rows with implausible values (birth year before 1900, placeholder incomes)")
    run.add_argument("--compare", action="store_true",
                     help="also fit K-Means, HDBSCAN, Gaussian mixture and agglomerative clustering on a "
                          "sample and report them side by side (report.json 'comparison'; a few seconds more)")
    run.add_argument("--out", required=True, help="output folder")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    meanings = sub.add_parser("meanings", help="how each column of a table is read (label, role, unit); "
                                                "--out writes a file to edit and pass to 'run --meanings'")
    meanings.add_argument("input", help="CSV/Parquet/Excel file, or 'demo'")
    meanings.add_argument("--id-column", help="the customer id column")
    meanings.add_argument("--out", metavar="FILE", help="write the meanings to FILE (.json, .yaml or .yml)")
    meanings.set_defaults(func=cmd_meanings)

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
