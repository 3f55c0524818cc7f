"""Shared fixtures: one demo table and one fit per algorithm for the whole session."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Real datasets nobody here wrote (see its SOURCES.md); tests skip when absent.
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def demo():
    from segmenter.demo import make_demo_customers

    return make_demo_customers(5000, seed=0)


@pytest.fixture(scope="session")
def kmeans_model(demo):
    from segmenter.model import CustomerSegmenter

    return CustomerSegmenter(algorithm="kmeans", seed=0).fit(demo.table)


@pytest.fixture(scope="session")
def hdbscan_model(demo):
    from segmenter.model import CustomerSegmenter

    return CustomerSegmenter(algorithm="hdbscan", seed=0).fit(demo.table)


def shared_csvs() -> list[Path]:
    return sorted(SHARED_DATA.glob("*.csv")) if SHARED_DATA.is_dir() else []
