"""Helpers of the hostile-input suite (``tests/test_hostile_*.py``): bounded timing, small runs.

``timed(limit)`` measures a block and stops it with SIGALRM once ``limit`` seconds have passed,
so code that would run for hours (a regex over a 1 MB message) fails the test instead of
hanging CI. The SIGALRM handler runs between bytecodes and inside ``re``'s matching loop.
"""
from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Elapsed:
    seconds: float = float("nan")


class Runaway(AssertionError):
    """The timed block was stopped after its limit."""


@contextlib.contextmanager
def timed(limit: float) -> Iterator[Elapsed]:
    """``with timed(10) as t: ...`` then ``t.seconds``; raises :class:`Runaway` past ``limit``."""
    out = Elapsed()
    main = threading.current_thread() is threading.main_thread()

    def stop(signum, frame):
        raise Runaway(f"still running after {limit:.0f} s")

    previous = signal.signal(signal.SIGALRM, stop) if main else None
    if main:
        signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.perf_counter()
    try:
        yield out
    finally:
        out.seconds = time.perf_counter() - start
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def small_run(rows: int = 1200, seed: int = 3, k: int = 6):
    """(report, customers) of a quick K-Means run on the demo generator, named like the app's."""
    from explainers.naming import name_segments
    from segmenter.demo import make_demo_customers
    from segmenter.export import customers_frame
    from segmenter.model import CustomerSegmenter
    from segmenter.schema import apply_schema

    table = make_demo_customers(rows, seed=seed).table
    model = CustomerSegmenter(algorithm="kmeans", k=k, seed=0, compare=False, stability_runs=0).fit(table)
    report = name_segments(model.report_)
    return report, customers_frame(report, apply_schema(table, model.schema_))


def xlsx_with_dimension(path, ref: str = "A1:XFD1048576", rows: int = 300, stray_row: int | None = 100_000):
    """A small valid workbook (about 15 KB) whose sheet claims the size ``ref`` (the whole grid of
    16,384 columns by 1,048,576 rows by default) and, like many real files, holds one empty cell far
    below the table (``stray_row``). Only those two things differ from what pandas writes."""
    import re
    import zipfile

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    group = rng.integers(0, 3, rows)
    plain = path.with_name(path.stem + "-plain.xlsx")
    pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(rows)],
                  "visits": np.array([2.0, 12.0, 30.0])[group] + rng.normal(0, 1, rows).round(1),
                  "basket": np.array([20.0, 80.0, 200.0])[group] + rng.normal(0, 5, rows).round(2),
                  "tier": np.array(["bronze", "silver", "gold"])[group]}).to_excel(plain, index=False)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + ref.encode() + b'"', data)
                if stray_row:
                    data = data.replace(b"</sheetData>", f'<row r="{stray_row}"><c r="A{stray_row}" s="0"/></row>'
                                        "</sheetData>".encode())
            dst.writestr(item, data)
    plain.unlink()
    return path
