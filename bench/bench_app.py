"""Benchmark the Gradio app: launch to first page, and the demo flow end to end.

Usage: ``python bench/bench_app.py [--runs 3]``

* **launch**: ``python app.py`` in a subprocess until ``/`` answers HTTP 200;
* **first page, segmented** (needs ``/usr/bin/chromium``): a headless browser opens the page as
  soon as the server answers and waits until the demo's persona cards are visible (what the first
  visitor waits for; the server starts computing the shared demo run when it starts,
  ``app_session.warm_demo``, so part of it may still be running); then a second visitor's page,
  which gets the finished shared run. Target: persona cards visible <= 3 s after the page opens;
* **demo flow** through ``gradio_client``: load_demo -> segment -> views (charts, cards,
  downloads, chat engine) -> cards -> chat -> predict_form -> predict, per step, ``--runs`` times;
  run ``i`` segments with seed ``i + 1``, so every run computes its segments (the page's own
  settings, seed 0, are computed once per process and shared).

Publishes a Markdown table to BENCHMARKS.md (and ``bench/results/app.md``).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.app_server import running_app  # noqa: E402
from bench.publish import publish  # noqa: E402

CHROMIUM = os.environ.get("SEGMENT_CHROMIUM", "/usr/bin/chromium")  # as in tests/browser_setup.py
TARGET_CARDS_S = 3.0
FLOW = ("load_demo", "segment", "views", "cards", "chat", "predict_form", "predict")


def first_pages_segmented(url: str) -> tuple[float, float] | None:
    """Seconds from opening the page to the demo's persona cards, for the first visitor and a
    second one (None without Chromium)."""
    if not Path(CHROMIUM).exists():
        return None
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        for _ in range(2):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(180_000)
            start = time.perf_counter()
            page.goto(url)
            page.get_by_role("tab", name="4 Personas").click()
            page.locator("#persona-cards .se-card").first.wait_for(state="visible")
            times.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return times[0], times[1]


def flow(url: str, seed: int) -> dict[str, float]:
    from gradio_client import Client

    times: dict[str, float] = {}

    def step(name: str, *args):
        start = time.perf_counter()
        out = client.predict(*args, api_name=f"/{name}")
        times[name] = time.perf_counter() - start
        return out

    start = time.perf_counter()
    client = Client(url, verbose=False)
    times["connect"] = time.perf_counter() - start
    step("load_demo")
    step("segment", "auto", 0, 0, seed)
    step("views")
    assert step("cards").count('class="se-card') >= 3
    step("chat", "How many customers are in segment 1?", [])
    form = step("predict_form")
    step("predict", form)
    times["total"] = sum(times.values())
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    start = time.perf_counter()
    with running_app() as url:  # temp files in a scratch dir removed on exit
        launch_s = time.perf_counter() - start
        pages_s = first_pages_segmented(url)
        runs = [flow(url, seed=i + 1) for i in range(args.runs)]

    keys = ["connect", *FLOW, "total"]
    lines = [
        "# App benchmark (`python bench/bench_app.py`)", "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.", "",
        "| what | seconds |", "|---|---:|",
        f"| launch: `python app.py` until `/` answers HTTP 200 | {launch_s:.1f} |",
        "| first page in Chromium until the demo's persona cards show (load + segment + explain) | "
        + (f"{pages_s[0]:.1f} |" if pages_s is not None else "not measured (no Chromium) |"),
        "| a second visitor's first page (the demo run is shared) | "
        + (f"{pages_s[1]:.1f} |" if pages_s is not None else "not measured (no Chromium) |"),
        "| from `python app.py` to the first visitor's persona cards (launch + first page) | "
        + (f"{launch_s + pages_s[0]:.1f} |" if pages_s is not None else "not measured (no Chromium) |"),
        "",
        (f"Target: persona cards visible <= {TARGET_CARDS_S:.0f} s after the page opens: first visitor "
         f"{'met' if pages_s[0] <= TARGET_CARDS_S else 'NOT met'} ({pages_s[0]:.1f} s), second visitor "
         f"{'met' if pages_s[1] <= TARGET_CARDS_S else 'NOT met'} ({pages_s[1]:.1f} s)."
         if pages_s is not None else "Target: persona cards <= 3 s after the page opens: not measured."),
        f"Load average (1 min) at start {load_start:.1f}, at the end {os.getloadavg()[0]:.1f} (2 shared cores). "
        f"Command: `python bench/bench_app.py {' '.join(sys.argv[1:])}`".rstrip() + ".",
        "", f"Demo flow through `gradio_client`, median of {len(runs)} runs (min-max; run i segments "
        "with seed i, so each computes its segments):", "",
        "| step | median s | min-max s |", "|---|---:|---:|",
    ]
    for key in keys:
        values = [r[key] for r in runs]
        lines.append(f"| {key} | {statistics.median(values):.2f} | {min(values):.2f}-{max(values):.2f} |")
    text = "\n".join(lines) + "\n"
    publish("app", text)
    print(text)


if __name__ == "__main__":
    main()
