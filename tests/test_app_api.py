"""The app through its named API endpoints (gradio_client), launched once on 127.0.0.1.

Checks real content: cards match the report, the chat quotes the report's numbers, a
known customer typed into the Predict form lands in the segment the run gave them, and two
concurrent visitors with different tables never see each other's segments.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

gradio_client = pytest.importorskip("gradio_client")
pytestmark = pytest.mark.heavy  # a real app process segmenting real tables

from segmenter.report import SegmentationReport

CARD = 'class="se-card'
DOWNLOAD_OUTPUTS = ("personas.html", "personas.md", "assignments.csv", "report.json", "model.skops")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """``client(url)``: a gradio_client.Client whose downloads go to this run's own temp folder
    (its default, /tmp/gradio, may belong to another user of the machine)."""
    folder = tmp_path_factory.mktemp("downloads")
    return lambda url: gradio_client.Client(url, verbose=False, download_files=str(folder))


def views(c) -> dict:
    """Run the view refresh and return the downloaded run files by name."""
    out = c.predict(api_name="/views")
    files = {Path(v).name: Path(v) for v in out if isinstance(v, str) and Path(v).suffix in
             (".html", ".md", ".csv", ".json", ".skops") and Path(v).is_file()}
    assert set(DOWNLOAD_OUTPUTS) <= set(files), files
    return files


def segmented_demo(client, url: str):
    c = client(url)
    status = c.predict(api_name="/load_demo")[0]
    assert "5,000 customers" in status
    summary = c.predict("auto", 0, 0, 0, api_name="/segment")[0]
    assert "segments" in summary and "Separation" in summary
    files = views(c)
    return c, SegmentationReport.from_json(files["report.json"]), files


@pytest.fixture(scope="module")
def demo_run(client, app_url):
    return segmented_demo(client, app_url)


def test_cards_match_the_report(demo_run):
    c, report, files = demo_run
    html = c.predict(api_name="/cards")
    assert html.count(CARD) == len(report.segments) >= 3
    for seg in report.segments:
        assert seg.name.replace("&", "&amp;") in html
    assert "<script" not in html.lower()
    assert pd.read_csv(files["assignments.csv"]).shape[0] == report.n_rows == 5000


def test_chat_answer_quotes_the_report(demo_run):
    c, report, _ = demo_run
    largest = report.real_segments[0]
    history = c.predict(f"How many customers are in segment {largest.id}?", [], api_name="/chat")[0]
    assert history[-1]["role"] == "assistant"
    answer = history[-1]["content"] if isinstance(history[-1]["content"], str) else str(history[-1]["content"])
    numbers = {n.replace(",", "") for n in re.findall(r"\d[\d,]*", answer)}
    assert str(largest.size) in numbers, answer


def test_predict_form_puts_a_known_customer_in_their_segment(demo_run):
    from segmenter.demo import make_demo_customers

    c, report, files = demo_run
    form = c.predict(api_name="/predict_form")
    assert [row[0] for row in form["data"]][1:] == report.features
    assigned = pd.read_csv(files["assignments.csv"], dtype={"customer_id": str})
    table = make_demo_customers().table.set_index("customer_id")
    for segment in report.real_segments[:3]:
        member = assigned.loc[(assigned["segment"] == segment.id) & (assigned["probability"] > 0.8),
                              "customer_id"].iloc[0]
        row = table.loc[member]
        values = {"customer_id": f"new-{member}"}
        for col in report.features:
            v = row[col]
            values[col] = v.date().isoformat() if isinstance(v, pd.Timestamp) else str(v)
        data = [[name, values[name], hint] for name, _, hint in form["data"]]
        result, why = c.predict({"headers": form["headers"], "data": data}, api_name="/predict")[:2]
        got = result["data"][0]
        assert int(got[1]) == segment.id, (member, got)
        assert got[2] == segment.name and 0 <= float(got[3]) <= 1
        assert f"new-{member}" in why and "What put them there" in why


def test_corrected_meanings_and_weights_reach_the_segmentation(app_url, client):
    c = client(app_url)
    c.predict(api_name="/load_demo")
    out = c.predict("customer_id", [], [], api_name="/columns")
    table = out[7]  # the table of meanings, after the type dropdown
    assert table["headers"] == ["Column", "Label", "Role", "Unit", "Weight", "Note"]
    rows = [list(r) for r in table["data"]]
    for r in rows:
        if r[0] == "annual_spend":
            r[1] = "yearly spend"
        if r[0] == "region":
            r[4] = "0"
    out = c.predict({"headers": table["headers"], "data": rows}, False, api_name="/meanings")
    schema = {row[0]: row for row in out[2]["data"]}
    assert schema["region"][1] == "excluded"
    c.predict("kmeans", 4, 0, 0, api_name="/segment")
    report = SegmentationReport.from_json(views(c)["report.json"])
    assert report.meaning("annual_spend").label == "yearly spend" and "region" not in report.features
    assert "yearly spend" in str(c.predict("What is the average yearly spend?", [], api_name="/chat")[0][-1]["content"])
    bad = [list(r) for r in rows]
    bad[0][2] = "wizard"
    with pytest.raises(Exception, match="not a role"):
        c.predict({"headers": table["headers"], "data": bad}, False, api_name="/meanings")


def test_rename_flows_to_cards_and_downloads(app_url, client):
    c, report, _ = segmented_demo(client, app_url)
    target = report.real_segments[1]
    c.predict(target.id, "VIP <b>Fans</b> {{ 7*7 }}", api_name="/rename")
    html = c.predict(api_name="/cards")
    assert "VIP &lt;b&gt;Fans&lt;/b&gt; {{ 7*7 }}" in html and "<b>Fans" not in html
    files = views(c)
    renamed = SegmentationReport.from_json(files["report.json"])
    assert renamed.segment(target.id).name == "VIP <b>Fans</b> {{ 7*7 }}"
    assert "VIP <b>Fans</b> {{ 7*7 }}" in pd.read_csv(files["assignments.csv"])["segment_name"].tolist()
    with pytest.raises(Exception, match="cannot be empty"):
        c.predict(target.id, "   ", api_name="/rename")


def test_visitor_errors_come_back_as_plain_messages(app_url, tmp_path, client):
    c = client(app_url)
    garbage = tmp_path / "customers.csv"
    garbage.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(Exception, match="binary data"):
        c.predict(gradio_client.handle_file(str(garbage)), api_name="/upload")
    with pytest.raises(Exception, match="No table is loaded yet"):
        c.predict("auto", 0, 0, 0, api_name="/segment")
    c.predict(api_name="/load_demo")
    with pytest.raises(Exception, match="k=1|between 2"):
        c.predict("kmeans", 1, 0, 0, api_name="/segment")
    with pytest.raises(Exception, match="no segments yet|There are no segments"):
        c.predict(api_name="/cards")
    hostile = tmp_path / "hostile.csv"  # error messages quote column names: shown as text, not HTML
    hostile.write_text("<img src=x onerror=alert(1)>,<img src=x onerror=alert(1)>\n1,2\n3,4\n")
    with pytest.raises(Exception) as caught:
        c.predict(gradio_client.handle_file(str(hostile)), api_name="/upload")
    assert "&lt;img src=x onerror=alert(1)&gt;" in str(caught.value) and "<img" not in str(caught.value)


def small_table(path: Path) -> Path:
    rng = np.random.default_rng(7)
    n = 300
    group = rng.integers(0, 3, n)
    frame = pd.DataFrame({
        "member_key": [f"M{i:04d}" for i in range(n)],
        "visits_per_month": np.round(np.array([2.0, 12.0, 30.0])[group] + rng.normal(0, 1.5, n), 1),
        "basket_eur": np.round(np.array([20.0, 80.0, 200.0])[group] + rng.normal(0, 8, n), 2),
        "tier": np.array(["bronze", "silver", "gold"])[group],
    })
    frame.to_csv(path, index=False)
    return path


def test_two_concurrent_visitors_never_see_each_others_segments(app_url, tmp_path, client):
    csv = small_table(tmp_path / "members.csv")
    results: dict[str, object] = {}
    barrier = threading.Barrier(2, timeout=60)

    def visitor(name: str) -> None:
        try:
            c = client(app_url)
            if name == "demo":
                c.predict(api_name="/load_demo")
            else:
                status = c.predict(gradio_client.handle_file(str(csv)), api_name="/upload")[0]
                assert "300 customers" in status
            barrier.wait()  # both segment at the same time
            algorithm = "auto" if name == "demo" else "kmeans"
            c.predict(algorithm, 0, 0, 0, api_name="/segment")
            files = views(c)
            results[name] = (SegmentationReport.from_json(files["report.json"]), c.predict(api_name="/cards"))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            results[name] = exc

    threads = [threading.Thread(target=visitor, args=(n,)) for n in ("demo", "upload")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    for name in ("demo", "upload"):
        assert not isinstance(results.get(name), BaseException), results.get(name)
    demo_report, demo_html = results["demo"]
    upload_report, upload_html = results["upload"]
    assert demo_report.n_rows == 5000 and "annual_spend" in demo_report.features
    assert upload_report.n_rows == 300 and set(upload_report.features) == {"visits_per_month", "basket_eur", "tier"}
    assert upload_report.id_column == "member_key"
    assert "visits per month" in upload_html.lower() and "annual spend" in demo_html.lower()
    assert "visits per month" not in demo_html.lower() and "annual spend" not in upload_html.lower()
    assert all(s.name not in upload_html for s in demo_report.real_segments)


def test_column_choices_reach_the_segmentation(app_url, client):
    c = client(app_url)
    c.predict(api_name="/load_demo")
    out = c.predict("customer_id", ["gender", "region"], [], api_name="/columns")
    schema = {row[0]: row for row in out[2]["data"]}
    assert schema["gender"][1] == "excluded" and schema["gender"][2] == "excluded by you"
    out = c.predict("household_size", "categorical", api_name="/set_type")
    assert "household\\_size → categorical" in out[-1]  # Markdown-escaped column name
    assert {row[0]: row[1] for row in out[2]["data"]}["household_size"] == "categorical"
    c.predict("kmeans", 4, 0, 0, api_name="/segment")
    report = SegmentationReport.from_json(views(c)["report.json"])
    assert len(report.real_segments) == 4 and report.algorithm == "kmeans"
    assert "gender" not in report.features and report.feature_types["household_size"] == "categorical"
    with pytest.raises(Exception, match="not in the list of choices"):  # Gradio checks the choices
        c.predict("customer_id", ["no_such_column"], [], api_name="/columns")
    with pytest.raises(Exception, match="cannot be the ID column"):  # our own plain message
        c.predict("gender", [], [], api_name="/columns")


def test_explain_a_customer_and_predict_a_file(demo_run, tmp_path):
    from segmenter.demo import make_demo_customers

    c, report, files = demo_run
    why = c.predict("C100000", api_name="/explain_customer")
    assert "C100000" in why and any(s.name in why for s in report.segments)
    with pytest.raises(Exception, match="No customer with id"):
        c.predict("NOPE-1", api_name="/explain_customer")
    drivers, comparison = c.predict(report.real_segments[0].id, api_name="/drivers")
    assert drivers and comparison
    new = make_demo_customers().table.head(25)
    path = tmp_path / "new_customers.csv"
    new.to_csv(path, index=False)
    result, download, why_first = c.predict(gradio_client.handle_file(str(path)), api_name="/predict_file")[:3]
    got = pd.DataFrame(result["data"], columns=result["headers"])
    assigned = pd.read_csv(files["assignments.csv"], dtype={"customer_id": str}).head(25)
    assert got["customer_id"].tolist() == assigned["customer_id"].tolist()
    assert (got["segment"].astype(int) == assigned["segment"]).mean() >= 0.95
    assert "C100000" in why_first
    assert pd.read_csv(download if isinstance(download, str) else download["value"]).shape[0] == 25


def test_hostile_table_text_stays_inert(app_url, tmp_path, client):
    from app_server import hostile_csv

    c = client(app_url)
    c.predict(gradio_client.handle_file(str(hostile_csv(tmp_path / "hostile.csv"))), api_name="/upload")
    c.predict("kmeans", 3, 0, 0, api_name="/segment")
    files = views(c)
    html = c.predict(api_name="/cards")
    assert "<img" not in html and "<script" not in html.lower() and "&lt;script&gt;" in html
    ids = pd.read_csv(files["assignments.csv"], dtype=str).iloc[:, 0]
    assert not ids.str.startswith(("=", "+", "-", "@")).any() and ids.str.startswith("'=").any()
    why = c.predict("<b>c0</b>", api_name="/explain_customer")
    assert "<b>" not in why.replace("&lt;b&gt;", "")


def test_row_limit_has_a_clear_message(app_url, tmp_path, client):
    from app_session import APP_LIMITS

    path = tmp_path / "big.csv"
    rows = APP_LIMITS.max_rows + 10
    path.write_text("a,b\n" + "1,2\n" * rows)
    with pytest.raises(Exception, match=r"limit is 100,000.*cli\.py"):
        client(app_url).predict(gradio_client.handle_file(str(path)), api_name="/upload")


def test_a_new_table_clears_the_previous_tables_results(app_url, tmp_path, client):
    """After an upload nothing of the previous table's run stays on screen: no summary, cards,
    chat, downloads or predictions of the demo, and the two main panes say why."""
    c, report, _ = segmented_demo(client, app_url)
    c.predict("How many customers are there?", [], api_name="/chat")
    out = c.predict(gradio_client.handle_file(str(small_table(tmp_path / "members.csv"))), api_name="/upload")
    assert "300 customers" in out[0]
    texts = [v for v in out if isinstance(v, str)]
    assert sum("No segments for this table yet" in t for t in texts) == 2, "the segment summary and the persona cards say why they are empty"
    assert not any(CARD in t or "Separation" in t or any(s.name in t for s in report.segments) for t in texts)
    assert not any(Path(t).suffix in (".html", ".md", ".csv", ".json", ".skops") and Path(t).is_file()
                   for t in texts), "no download of the previous run is offered"
    assert [] in out, "the chat history is cleared"
    with pytest.raises(Exception, match="no segments yet|There are no segments"):
        c.predict(api_name="/cards")


def test_an_image_upload_says_it_is_an_image(app_url, tmp_path, client):
    picture = tmp_path / "screenshot.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300))
    with pytest.raises(Exception, match=r"This file looks like an image \(PNG\), not a table: upload CSV, "
                                        r"Parquet or Excel"):
        client(app_url).predict(gradio_client.handle_file(str(picture)), api_name="/upload")


def test_segment_settings_are_refused_not_rounded(app_url, client):
    c = client(app_url)
    c.predict(api_name="/load_demo")
    with pytest.raises(Exception, match="number of segments must be a whole number between 2 and 50"):
        c.predict("kmeans", 2.5, 0, 0, api_name="/segment")  # was silently read as 2
    with pytest.raises(Exception, match="random seed must be a whole number from 0 to 4,294,967,295"):
        c.predict("kmeans", 0, 0, 2**40, api_name="/segment")


def test_downloads_are_served_from_the_visitors_own_folder(app_url):
    """Files handed out for download are the ones in the visitor's folder (removed when they
    leave), not copies in Gradio's cache that would outlive it."""
    from app_session import SESSION_ROOT

    c = gradio_client.Client(app_url, verbose=False, download_files=False)
    c.predict(api_name="/load_demo")
    c.predict("auto", 0, 0, 0, api_name="/segment")
    out = c.predict(api_name="/views")
    served = [v["path"] for v in out if isinstance(v, dict) and str(v.get("path", "")).endswith(
        tuple(DOWNLOAD_OUTPUTS))]
    assert len(served) == len(DOWNLOAD_OUTPUTS), out
    for path in served:
        assert SESSION_ROOT in Path(path).parts, path
