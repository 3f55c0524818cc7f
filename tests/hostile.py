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


def padded_model_file(source, path, description_bytes: int):
    """A copy of the model file ``source`` whose object description (``schema.json``) holds one more
    entry, a list of tiny text nodes, until it is ``description_bytes`` long: a zip of about
    1/400 of that (the padding compresses well) that skops would parse node by node."""
    import json
    import zipfile

    node = json.dumps({"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
                       "content": '"x"', "is_json": True, "__id__": 10**9}).encode()
    stem, end = node.split(b"1000000000")  # every node gets its own id, as skops writes them
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "schema.json":
                dst.writestr(item, src.read(item.filename))
                continue
            tree = json.loads(src.read(item.filename))
            tree["content"]["padding"] = "@PAD@"
            first_key = tree["key_types"]["content"][0]
            tree["key_types"]["content"].append(dict(first_key))
            head, tail = json.dumps(tree).encode().split(b'"@PAD@"')
            n = max(0, description_bytes - len(head) - len(tail)) // (len(node) + 1)
            with dst.open("schema.json", "w", force_zip64=True) as out:
                out.write(head + b'{"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", '
                          b'"__id__": 2, "content": [')
                for start in range(0, n, 10_000):
                    ids = range(10**9 + start, 10**9 + min(n, start + 10_000))
                    out.write((b"," if start else b"") + b",".join(stem + str(i).encode() + end for i in ids))
                out.write(b"]}" + tail)
    return path


def _text_node(value: str) -> dict:
    import json

    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode", "content": json.dumps(value),
            "is_json": True, "__id__": 7}


def built_with(module: str, cls: str, *args) -> dict:
    """A skops node that builds ``module.cls(*args)`` on load (text and None arguments), as a
    tampered file would write it: skops calls a trusted type with arguments from the file."""
    none = {"__class__": "NoneType", "__module__": "builtins", "__loader__": "JsonNode", "content": "null",
            "is_json": True, "__id__": 8}
    content = [none if a is None else _text_node(str(a)) for a in args]
    return {"__class__": cls, "__module__": module, "__loader__": "ConstructorFromReduceNode", "__id__": 9,
            "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "__id__": 10,
                        "content": content}}


def tampered_model_file(source, path, extras: dict | None = None, replace: dict | None = None):
    """A copy of the model file ``source`` with skops nodes added to its extras (``extras``: name ->
    node) or put in place of top-level entries (``replace``: key -> node)."""
    import json
    import zipfile

    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "schema.json":
                tree = json.loads(data)
                top = tree["content"]
                for key, node in (replace or {}).items():
                    top[key] = node
                target = top["extras"]
                for key, node in (extras or {}).items():
                    if target.get("__loader__") != "DictNode":
                        break
                    target.setdefault("content", {})[key] = node
                    kinds = target.setdefault("key_types", {"__class__": "list", "__module__": "builtins",
                                                            "__loader__": "ListNode", "content": []})
                    kinds["content"].append({"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode",
                                             "__id__": 11})
                data = json.dumps(tree).encode()
            dst.writestr(item, data)
    return path


def listing(*folders, recursive: bool = True) -> dict:
    """Every path under each folder (or only its entries), with size and modification time."""
    from pathlib import Path

    out = {}
    for folder in folders:
        for p in sorted(Path(folder).rglob("*") if recursive else Path(folder).iterdir()):
            stat = p.lstat()
            out[str(p)] = (p.is_dir(), stat.st_size, stat.st_mtime_ns)
    return out


def first_node(source, loader: str) -> dict:
    """The first skops node with ``__loader__ == loader`` in a model file's object description."""
    import json
    import zipfile

    def walk(node):
        if isinstance(node, dict):
            if node.get("__loader__") == loader:
                return node
            node = list(node.values())
        if isinstance(node, list):
            for child in node:
                found = walk(child)
                if found is not None:
                    return found
        return None

    with zipfile.ZipFile(source) as archive:
        return walk(json.loads(archive.read("schema.json")))
