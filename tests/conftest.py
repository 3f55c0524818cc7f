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
def chromium() -> Path:
    """The Chromium the browser tests drive (see ``tests/browser_setup.py``).

    Skips with the reason when there is none; with CI=true installs Debian's chromium (as
    root) or fails loudly, because CI requires the browser tests.
    """
    from browser_setup import BrowserSetupError, browser_or_reason

    try:
        path, reason = browser_or_reason()
    except BrowserSetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    if path is None:
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def app_url():
    """One ``python app.py`` for the whole session (API and browser tests); visitors' sessions
    are separate, so tests sharing it do not see each other's tables."""
    from app_server import running_app

    with running_app() as url:
        yield url


@pytest.fixture(scope="session")
def demo():
    from segmenter.demo import make_demo_customers

    return make_demo_customers(5000, seed=0)


@pytest.fixture(scope="session")
def kmeans_model(demo):
    from segmenter.model import CustomerSegmenter

    return CustomerSegmenter(algorithm="kmeans", seed=0, compare=True).fit(demo.table)


@pytest.fixture(scope="session")
def hdbscan_model(demo):
    from segmenter.model import CustomerSegmenter

    return CustomerSegmenter(algorithm="hdbscan", seed=0, compare=True).fit(demo.table)


def shared_csvs() -> list[Path]:
    return sorted(SHARED_DATA.glob("*.csv")) if SHARED_DATA.is_dir() else []


def _explained(model, table) -> dict:
    from explainers.drivers import explain_segments
    from segmenter.export import customers_frame
    from segmenter.schema import apply_schema

    customers = customers_frame(model.report_, apply_schema(table, model.schema_))
    report, surrogate = explain_segments(model.report_, model, customers, seed=0)
    return {"model": model, "customers": customers, "report": report, "surrogate": surrogate}


@pytest.fixture(scope="session")
def kmeans_explained(kmeans_model, demo) -> dict:
    """The K-Means fit with SHAP drivers: model, customers, report, surrogate."""
    return _explained(kmeans_model, demo.table)


@pytest.fixture(scope="session")
def hdbscan_explained(hdbscan_model, demo) -> dict:
    return _explained(hdbscan_model, demo.table)


@pytest.fixture(scope="session")
def kmeans_report(kmeans_explained):
    """The explained K-Means report with persona names (the app's flow)."""
    from explainers.naming import name_segments

    return name_segments(kmeans_explained["report"])


@pytest.fixture(scope="session")
def hdbscan_report(hdbscan_explained):
    from explainers.naming import name_segments

    return name_segments(hdbscan_explained["report"])
