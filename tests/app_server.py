"""The app in a subprocess for the API and browser tests, and a hostile table to feed it.

``running_app`` lives in ``bench/app_server.py`` (benchmarks import the library and bench only).
"""
from __future__ import annotations

from pathlib import Path

from bench.app_server import ROOT, free_port, running_app, wait_until_ready

__all__ = ["ROOT", "free_port", "running_app", "wait_until_ready", "hostile_csv"]


def hostile_csv(path: Path, n: int = 90) -> Path:
    """A small valid table whose names and values try HTML, template and formula injection."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    group = rng.integers(0, 3, n)
    pd.DataFrame({
        "customer_id": [f"=HYPERLINK(\"http://x\",\"{i}\")" if i % 2 else f"<b>c{i}</b>" for i in range(n)],
        "<img src=x onerror=alert(1)>": np.array([5.0, 50.0, 500.0])[group] + rng.normal(0, 2, n),
        "visits {{ 7*7 }}": np.array([1.0, 10.0, 30.0])[group] + rng.normal(0, 1, n),
        "plan": np.array(["<script>alert(1)</script>", "=cmd()", "{{ config }}"])[group],
    }).to_csv(path, index=False)
    return path
