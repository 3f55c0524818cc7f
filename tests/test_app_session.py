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


def test_segment_settings_are_checked_before_any_work():
    """k=2.5 is refused (not read as 2), and so is a seed the library cannot take, in the form's words."""
    import pytest

    from segmenter.errors import ParameterError

    cases = {(2.5, 0, 0): "number of segments must be a whole number between 2 and 50",
             (1, 0, 0): "number of segments must be between 2 and 50",
             (0, 0, 2**40): "random seed must be a whole number from 0 to 4,294,967,295; got 1,099,511,627,776",
             (0, 1, 0): "smallest segment size must be 2 or more",
             (0, 0, -3): "random seed must be a whole number"}
    for (k, mcs, seed), words in cases.items():
        with pytest.raises(ParameterError, match=words):
            sup.segment_params("kmeans", k, mcs, seed)
    assert sup.segment_params("kmeans", 4.0, 0, 2**32 - 1) == {
        "algorithm": "kmeans", "k": 4, "min_cluster_size": None, "seed": 2**32 - 1}


def test_an_uploaded_file_is_deleted_once_its_table_is_read(tmp_path, monkeypatch):
    """The table lives on in the visitor's session only; the uploaded copy in Gradio's folder is
    removed at once (also when it cannot be read), so it cannot be downloaded after they leave."""
    import shutil

    import pytest

    app = pytest.importorskip("app")
    from segmenter.demo import make_demo_customers

    monkeypatch.setattr(app, "FILES_BASE", str(tmp_path), raising=False)
    upload = tmp_path / "3f2a9c" / "members.csv"
    upload.parent.mkdir()
    make_demo_customers(200).table.to_csv(upload, index=False)
    out = app.on_upload(str(upload))
    assert "200 customers" in out[1]
    assert not upload.exists() and not upload.parent.exists()
    broken = tmp_path / "77aa01" / "broken.csv"
    broken.parent.mkdir()
    broken.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(app.gr.Error):
        app.on_upload(str(broken))
    assert not broken.exists()
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere.csv"  # never touched outside the folder
    shutil.copy(__file__, outside)
    assert sup.forget_upload(outside, tmp_path) is False and outside.exists()
    outside.unlink()


def test_leaving_removes_the_visitors_own_files_and_nobody_elses(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import pytest

    app = pytest.importorskip("app")
    monkeypatch.setattr(app, "FILES_BASE", str(tmp_path), raising=False)
    mine, theirs = sup.session_dir("visitor-a", tmp_path), sup.session_dir("visitor-b", tmp_path)
    (mine / "run").mkdir()
    (mine / "run" / "assignments.csv").write_text("id,segment\n1,1\n")
    (theirs / "predicted_segments.csv").write_text("id,segment\n2,1\n")
    assert tmp_path in mine.parents  # the visitor's files live under the folder Gradio serves from
    app.on_unload(SimpleNamespace(session_hash="visitor-a"))
    assert not mine.exists() and (theirs / "predicted_segments.csv").exists()


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
