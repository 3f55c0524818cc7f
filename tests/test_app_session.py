"""The app's glue without a server: the demo run is computed once and shared, uploads never are."""
from __future__ import annotations

import app_session as sup


def test_the_demo_run_is_computed_once_per_setting_and_uploads_every_time(monkeypatch):
    calls = []

    def fake_analyse(table, progress=None, **settings):
        calls.append(settings)
        return object()  # stands for an Analysis

    monkeypatch.setattr(sup, "analyse", fake_analyse)
    monkeypatch.setattr(sup, "_DEMO_RUNS", {})
    demo = sup.demo_session()
    params = sup.segment_params("auto", 0, 0, 0)
    first = sup.run_analysis(demo, params).analysis
    assert sup.run_analysis(sup.demo_session(), params).analysis is first  # another visitor
    other_seed = sup.run_analysis(demo, sup.segment_params("auto", 0, 0, 7)).analysis
    assert other_seed is not first and len(calls) == 2 and calls[1]["seed"] == 7
    chosen = sup.with_choices(demo, None, ["region"], None, {"gender": "categorical"})
    assert sup.run_analysis(chosen, params).analysis is not first and calls[-1]["exclude"] == ["region"]
    upload = demo.replace(source="'customers.csv'")
    sup.run_analysis(upload, params)
    sup.run_analysis(upload, params)
    assert len(calls) == 5, "an uploaded table is segmented every time"
    for _ in range(sup.DEMO_RUNS_KEPT + 2):
        sup.run_analysis(demo, sup.segment_params("kmeans", len(calls), 0, 0))
    assert len(sup._DEMO_RUNS) == sup.DEMO_RUNS_KEPT


def test_a_rename_leaves_the_shared_analysis_as_it_was(kmeans_explained, kmeans_report):
    from explainers.analysis import Analysis

    shared = Analysis(kmeans_report, kmeans_explained["model"], kmeans_explained["surrogate"],
                      kmeans_explained["customers"])
    session = sup.demo_session().replace(analysis=shared)
    before = [s.name for s in shared.report.segments]
    renamed = sup.rename(session, 1, "Renamed by one visitor")
    assert renamed.report.segment(1).name == "Renamed by one visitor"
    assert [s.name for s in shared.report.segments] == before and session.analysis is shared


def test_the_warm_up_computes_the_opening_demo_run_the_page_then_shares(monkeypatch):
    """The server's warm-up runs the page's opening settings once; the first visitor gets that run."""
    calls = []

    def fake_analyse(table, progress=None, **settings):
        calls.append(settings)
        return object()

    monkeypatch.setattr(sup, "analyse", fake_analyse)
    monkeypatch.setattr(sup, "_DEMO_RUNS", {})
    sup.warm_demo().join(timeout=60)
    assert len(calls) == 1 and calls[0]["compare"] is sup.APP_COMPARE
    page = sup.run_analysis(sup.demo_session(), sup.segment_params("auto", 0, 0, 0))  # the page's opening run
    assert len(calls) == 1 and page.analysis is next(iter(sup._DEMO_RUNS.values()))
