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


# ------------------------------------------------------------------ links in the rendered page
CHROMIUM = "/usr/bin/chromium"
URLS = "Visit https://evil.example or www.evil.example"


def _browser_or_skip():
    import os

    in_ci = os.environ.get("CI", "").lower() == "true"
    if not Path(CHROMIUM).exists():
        if in_ci:
            pytest.fail(f"{CHROMIUM} is missing on CI: run 'bash tests/install_browser.sh' first", pytrace=False)
        pytest.skip(f"{CHROMIUM} is not installed (bash tests/install_browser.sh installs it)")
    return pytest.importorskip("playwright.sync_api")


def test_web_addresses_from_table_text_are_not_links_in_the_chat_and_explain_panes(app_url):
    """Gradio's Markdown and Chatbot link bare ``https://`` and ``www.`` text; table text (here a
    segment renamed by the visitor) must stay text in the rendered page, in Chromium."""
    import re

    sync_api = _browser_or_skip()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(app_url)
            page.locator("#data-status").get_by_text("5,000 customers").wait_for()
            page.get_by_role("tab", name="2 Segment").click()
            page.locator("#segment-summary").get_by_text("Separation", exact=False).first.wait_for()
            page.get_by_role("tab", name="4 Personas").click()
            page.locator("#persona-cards .se-card").first.wait_for()  # the views are drawn: the chat is ready
            page.get_by_role("tab", name="5 Chat").click()

            def ask(question: str) -> str:
                before = page.locator("#chatbot [data-testid=bot]").count()
                page.get_by_label("Your question").fill(question)
                page.get_by_role("button", name="Ask", exact=True).click()
                page.wait_for_function(f"document.querySelectorAll('#chatbot [data-testid=bot]').length > {before}")
                return page.locator("#chatbot [data-testid=bot]").last.inner_text()

            name = re.search(r"is in (.+?) \(", ask("Which segment is customer C100000 in?")).group(1)
            page.get_by_role("tab", name="4 Personas").click()
            page.get_by_label("Rename segment").click()
            option = page.get_by_role("option", name=re.compile(rf"^\d+\. {re.escape(name)}$"))
            segment = option.inner_text().split(".")[0]
            option.click()
            page.get_by_label("New name").fill(URLS)
            page.get_by_role("button", name="Rename", exact=True).click()
            page.locator("#persona-cards").get_by_text("evil.example", exact=False).first.wait_for()
            page.get_by_role("tab", name="5 Chat").click()
            answer = ask(f"How big is segment {segment}?")
            assert "https://evil.example" in answer and "www.evil.example" in answer, answer
            page.get_by_role("tab", name="3 Explain").click()
            page.get_by_label("Look up one customer by ID").fill("C100000")
            page.get_by_role("button", name="Why is this customer here?").click()
            why = page.locator("#customer-why")
            why.get_by_text("evil.example", exact=False).first.wait_for()
            assert "https://evil.example" in why.inner_text() and "www.evil.example" in why.inner_text()
            links = page.eval_on_selector_all("#chatbot a, #customer-why a", "els => els.map(e => e.href)")
            assert not links, links
        finally:
            browser.close()
