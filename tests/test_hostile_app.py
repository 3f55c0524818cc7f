"""The app on 127.0.0.1 under hostile load: a 1 MB chat message, 20 visitors at once.

The app runs in a subprocess (``tests/app_server.py``); every wait is bounded, so an app that
stalls fails the test instead of hanging it.
"""
from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

gradio_client = pytest.importorskip("gradio_client")

from app_server import running_app  # noqa: E402

MB = 1_000_000
N_VISITORS = 20


@pytest.fixture(scope="module")
def app_url():
    with running_app() as url:
        yield url


def client(url: str):
    return gradio_client.Client(url, verbose=False, download_files=False)


def members_csv(path: Path, n: int, tag: str, seed: int = 7) -> Path:
    """A small table with three clear groups; ``tag`` goes into a column name and every id."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    pd.DataFrame({
        "member_key": [f"{tag}-{i:04d}" for i in range(n)],
        f"visits_{tag}": np.round(np.array([2.0, 12.0, 30.0])[group] + rng.normal(0, 1.5, n), 1),
        "basket": np.round(np.array([20.0, 80.0, 200.0])[group] + rng.normal(0, 8, n), 2),
    }).to_csv(path, index=False)
    return path


def segmented(url: str, path: Path):
    c = client(url)
    c.predict(gradio_client.handle_file(str(path)), api_name="/upload")
    c.predict("kmeans", 3, 0, 0, api_name="/segment")
    return c


def last_answer(history) -> str:
    """The last chat message's text (Gradio returns a string or a list of typed parts)."""
    content = history[-1]["content"]
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def test_a_1_mb_chat_message_is_refused_while_other_visitors_are_served(app_url, tmp_path):
    attacker = segmented(app_url, members_csv(tmp_path / "a.csv", 240, "attacker"))
    victim = segmented(app_url, members_csv(tmp_path / "v.csv", 300, "victim", seed=8))
    job = attacker.submit("how big is segment 2 " + "a" * MB, [], api_name="/chat")
    timings = {"page": [], "chat": []}
    start = time.perf_counter()
    while time.perf_counter() - start < 3.0:  # bounded: about 3 s of other visitors' requests
        t0 = time.perf_counter()
        with urllib.request.urlopen(app_url, timeout=5) as response:
            assert response.status == 200 and b"Segment Explainer" in response.read()
        timings["page"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        answer = last_answer(victim.submit("How big is segment 2?", [], api_name="/chat").result(timeout=5)[0])
        timings["chat"].append(time.perf_counter() - t0)
        assert "segment 2" in answer.lower()
    assert max(timings["page"]) < 1.0 and max(timings["chat"]) < 1.0, timings
    with pytest.raises(Exception, match="2,000 characters"):
        job.result(timeout=1.0)
    assert job.done()


def test_twenty_visitors_at_once_never_see_each_others_data(app_url, tmp_path):
    """Each visitor uploads a table of their own (their tag in a column name and every id, their
    own row count), segments it and asks the chat; every answer and card is about their table only."""
    tags = [f"v{i:02d}" for i in range(N_VISITORS)]
    paths = {tag: members_csv(tmp_path / f"{tag}.csv", 100 + i, tag, seed=i) for i, tag in enumerate(tags)}
    results: dict[str, object] = {}
    barrier = threading.Barrier(N_VISITORS, timeout=90)

    def visitor(tag: str) -> None:
        try:
            c = client(app_url)
            c.predict(gradio_client.handle_file(str(paths[tag])), api_name="/upload")
            barrier.wait()  # everyone segments and asks at the same time
            c.predict("kmeans", 3, 0, 0, api_name="/segment")
            count = last_answer(c.predict("How many customers are there?", [], api_name="/chat")[0])
            who = last_answer(c.predict(f"Which segment is customer {tag}-0003 in?", [], api_name="/chat")[0])
            results[tag] = (count, who, c.predict(api_name="/cards"))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            results[tag] = exc

    threads = [threading.Thread(target=visitor, args=(tag,), daemon=True) for tag in tags]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 150
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    for i, tag in enumerate(tags):
        got = results.get(tag)
        assert got is not None and not isinstance(got, BaseException), (tag, got)
        count, who, cards = got
        assert f"{100 + i:,} customers" in count, (tag, count)
        assert f"{tag}-0003" in who, (tag, who)
        assert f"visits {tag}" in cards.lower(), tag
        others = [o for o in tags if o != tag]
        assert not any(f"visits {o}" in cards.lower() or f"{o}-0" in cards for o in others), tag
        assert not any(f"{o}-0" in count + who for o in others), tag
