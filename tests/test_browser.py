"""The app in a real browser: Playwright driving the system's Chromium (``/usr/bin/chromium``).

Clicks through the demo flow, checks persona cards and a chat answer appear, uploads a bad
file and reads the error, and saves screenshots to ``artifacts/screenshots/`` (CI artefacts).
The ``chromium`` fixture (``tests/browser_setup.py``) finds the browser: without one these
tests skip with the reason, except with CI=true, where Chromium is installed or the run fails.

Every wait is for a state of the page (a text, an element, no busy progress tracker), never a
fixed pause; :data:`PATIENCE_MS` is only the ceiling after which a wait fails, generous
because a shared 2-core machine can take minutes to segment.
"""
from __future__ import annotations

import os
import re

import pytest
from app_server import ROOT, hostile_csv

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "artifacts" / "screenshots"
#: Ceiling (ms) for any one wait: page load + demo segmentation on a loaded machine.
PATIENCE_MS = int(os.environ.get("SEGMENT_BROWSER_PATIENCE_MS", "300000"))
#: How long (ms) no progress tracker may be busy before a chained step counts as finished.
QUIET_MS = 500

pytestmark = pytest.mark.heavy


@pytest.fixture(scope="module")
def app_url(chromium, app_url):
    """The session's app, started only once a Chromium is known to be there."""
    return app_url


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright import sync_api

    sync_api.expect.set_options(timeout=PATIENCE_MS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_app(browser, url: str, width: int = 1280, height: int = 900):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(PATIENCE_MS)
    page.goto(url)
    page.locator("#data-status").get_by_text("5,000 customers").wait_for()
    return page


def visible(locator) -> None:
    """Wait until ``locator`` is shown (Playwright's expect, with the PATIENCE_MS ceiling)."""
    from playwright.sync_api import expect

    expect(locator).to_be_visible()


def tab(page, name: str) -> None:
    """Open a tab; at phone width some tabs sit in Gradio's "More tabs" menu."""
    visible = page.get_by_role("tab", name=name)
    if visible.count():
        visible.click()
        return
    page.get_by_role("button", name="More tabs").click()
    page.locator(".overflow-dropdown button", has_text=name).click()


def shot(page, name: str, full_page: bool = True) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def idle(page) -> None:
    """Wait until no Gradio progress tracker has been busy for QUIET_MS: a chained step
    (``.success(...)``) starts as soon as the one before it ends, so a short quiet spell means
    the whole chain is done."""
    page.evaluate("window.__idleSince = undefined")
    page.wait_for_function("""quiet => {
        const busy = [...document.querySelectorAll('[data-testid=status-tracker]')]
            .some(e => !e.classList.contains('hide') && !e.textContent.includes('Error'));
        if (busy) { window.__idleSince = undefined; return false; }
        window.__idleSince = window.__idleSince ?? performance.now();
        return performance.now() - window.__idleSince >= quiet;
    }""", arg=QUIET_MS, polling=100)


def settled(page, text: str) -> None:
    """Wait until the element showing ``text`` is fully faded in (every ancestor opaque)."""
    page.wait_for_function("""text => {
        const all = [...document.querySelectorAll('body *')].filter(e => e.children.length === 0
            && e.textContent.includes(text));
        return all.some(e => { for (let n = e; n; n = n.parentElement) {
            if (getComputedStyle(n).opacity !== '1') return false; } return true; });
    }""", arg=text, polling=100)


def wait_segmented(page) -> None:
    tab(page, "2 Segment")
    page.locator("#segment-summary").get_by_text("segments", exact=False).first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()


def test_demo_flow_by_clicking(browser, app_url):
    page = open_app(browser, app_url)
    shot(page, "01-data")
    wait_segmented(page)
    page.get_by_role("button", name="Find segments").click()  # segment again from the UI
    page.locator("#segment-summary").get_by_text("Separation").wait_for()
    idle(page)
    shot(page, "02-segment")

    tab(page, "3 Explain")
    page.get_by_label("Look up one customer by ID").fill("C100000")
    page.get_by_role("button", name="Why is this customer here?").click()
    visible(page.locator("#customer-why").get_by_text("C100000", exact=False))
    idle(page)
    shot(page, "03-explain")

    tab(page, "4 Personas")
    cards = page.locator("#persona-cards .se-card")
    visible(cards.nth(2))
    idle(page)
    assert cards.count() >= 3
    assert page.locator("#persona-cards h2").first.inner_text().strip()
    shot(page, "04-personas")

    tab(page, "5 Chat")
    page.get_by_label("Your question").fill("How many customers are in segment 1?")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.locator("#chatbot").get_by_text("customers", exact=False).first.wait_for()
    assert re.search(r"segment 1\)? has [\d,]+ customers", page.locator("#chatbot").inner_text())
    page.locator("#chatbot").get_by_text("customers", exact=False).first.wait_for()
    before = page.locator("#chatbot [data-testid=bot]").count()
    page.get_by_role("button", name=re.compile(r"^What|^How|^Which")).first.click()  # a suggested question
    page.wait_for_function(f"document.querySelectorAll('#chatbot [data-testid=bot]').length > {before}")
    shot(page, "05-chat")

    tab(page, "6 Predict")
    page.get_by_role("button", name="Reset to a typical customer").click()
    page.get_by_role("button", name="Predict", exact=True).click()
    page.locator("#predict-why").get_by_text("What put them there", exact=False).wait_for()
    shot(page, "06-predict")
    page.close()


def test_bad_upload_shows_a_clear_error(browser, app_url, tmp_path):
    garbage = tmp_path / "customers.csv"
    garbage.write_bytes(bytes(range(256)) * 40)
    page = open_app(browser, app_url)
    page.locator("input[type=file]").first.set_input_files(str(garbage))
    message = page.get_by_text("does not look like a text table", exact=False)
    visible(message.first)
    assert "Traceback" not in page.content()
    settled(page, "does not look like a text table")
    shot(page, "07-bad-upload-error", full_page=False)
    page.close()


def test_hostile_table_text_is_shown_as_text(browser, app_url, tmp_path):
    dialogs: list[str] = []
    page = open_app(browser, app_url)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.locator("input[type=file]").first.set_input_files(str(hostile_csv(tmp_path / "hostile.csv")))
    page.locator("#data-status").get_by_text("90 customers").wait_for()
    tab(page, "2 Segment")
    page.get_by_role("button", name="Find segments").click()
    page.locator("#segment-summary").get_by_text("90 customers", exact=False).wait_for()
    idle(page)
    page.locator("#view-effects .main-svg").first.wait_for()  # a level shown as text in the views
    assert "plan: <script>ale" in page.locator("#view-effects .main-svg").first.text_content()
    assert page.locator("#view-effects script, #view-distributions script").count() == 0
    tab(page, "4 Personas")
    page.locator("#persona-cards .se-card").first.wait_for()
    assert page.locator("#persona-cards").get_by_text("<script>alert(1)</script>", exact=False).count()
    assert page.locator("img[src=x], #persona-cards script, #persona-cards b").count() == 0
    assert not dialogs, dialogs
    shot(page, "08-hostile-table-personas", full_page=False)
    page.close()


def test_narrow_phone_width(browser, app_url):
    page = open_app(browser, app_url, width=390, height=844)
    shot(page, "09-mobile-data")
    wait_segmented(page)
    idle(page)
    shot(page, "10-mobile-segment")
    tab(page, "4 Personas")
    page.locator("#persona-cards .se-card").first.wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways at phone width ({width}px)"
    shot(page, "11-mobile-personas", full_page=False)
    page.locator("#persona-cards .se-card").nth(1).scroll_into_view_if_needed()
    shot(page, "12-mobile-card", full_page=False)
    page.close()


#: The analyst views of the Segment tab (``app.more_views_block``), by element id.
VIEWS = ("view-distributions", "view-correlation", "view-effects", "view-boxes")


def plot_traces(page, elem_id: str) -> int:
    """Traces with data in the Plotly chart inside ``#elem_id`` (0 until it is drawn)."""
    return page.evaluate("""id => {
        const plot = document.querySelector(`#${id} .js-plotly-plot`);
        return plot && plot.data ? plot.data.filter(t => (t.x && t.x.length) || (t.z && t.z.length)
            || (t.q1 && t.q1.length)).length : 0;
    }""", elem_id)


def wait_drawn(page, elem_id: str) -> None:
    page.locator(f"#{elem_id} .js-plotly-plot .main-svg").first.wait_for()
    page.wait_for_function("""id => { const p = document.querySelector(`#${id} .js-plotly-plot`);
        return p && p.data && p.data.length > 0; }""", arg=elem_id, polling=100)


def test_analyst_views_and_the_ward_dendrogram(browser, app_url):
    page = open_app(browser, app_url)
    wait_segmented(page)
    idle(page)
    for elem_id in VIEWS:
        wait_drawn(page, elem_id)
        assert plot_traces(page, elem_id) > 0, elem_id
    assert page.locator("#view-dendrogram").count() == 0 or not page.locator("#view-dendrogram").is_visible()
    note = page.locator("#comparison-note")
    visible(note.get_by_text("Unassigned are left out", exact=False))
    assert page.get_by_text("Calinski-Harabasz (higher is better)").count()
    page.locator("#view-distributions").scroll_into_view_if_needed()
    shot(page, "13-views-overview")
    page.locator("#view-effects").scroll_into_view_if_needed()
    shot(page, "14-views-effects-boxes", full_page=False)

    page.get_by_label("How to find segments").click()
    page.get_by_role("option", name=re.compile(r"^Agglomerative")).click()
    page.get_by_role("button", name="Find segments").click()
    wait_drawn(page, "view-dendrogram")
    idle(page)
    leaves = page.evaluate("""() => document.querySelector('#view-dendrogram .js-plotly-plot').data[1].x.length""")
    assert leaves == 30
    page.locator("#segment-summary").get_by_text("agglomerative", exact=False).first.wait_for()
    page.locator("#view-dendrogram").scroll_into_view_if_needed()
    shot(page, "15-views-dendrogram", full_page=False)
    shot(page, "16-views-segment-tab")
    page.close()


#: Figures of plots.html for a Ward run of the demo table (div id -> what it shows).
PLOTS_HTML_FIGURES = ("sizes", "map", "k_curve", "dendrogram", "algorithms", "distributions", "correlation",
                      "effects", "boxes", "drivers-1", "comparison-1")


def test_plots_html_written_by_the_cli_has_every_view(browser, tmp_path):
    import subprocess
    import sys

    def cli(*args):
        done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                              cwd=tmp_path, timeout=PATIENCE_MS / 1000)
        assert done.returncode == 0, done.stderr[-2000:]

    cli("demo", "--rows", "1500", "--out", "demo.csv")
    cli("run", "demo.csv", "--algorithm", "agglomerative", "--k", "6", "--compare", "--out", "out", "--quiet")
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto((tmp_path / "out" / "plots.html").as_uri())
    counts = {}
    for key in PLOTS_HTML_FIGURES:
        elem_id = f"plot-{key}"
        page.locator(f"#{elem_id} .main-svg").first.wait_for()
        counts[key] = page.evaluate("""id => { const p = document.getElementById(id);
            return p.data.filter(t => (t.x && t.x.length) || (t.z && t.z.length) || (t.q1 && t.q1.length)
                || (t.cells && t.cells.values && t.cells.values.length)).length; }""", elem_id)
    assert all(n > 0 for n in counts.values()), counts
    assert page.evaluate("document.getElementById('plot-dendrogram').data[1].x.length") == 30
    header = page.evaluate("document.getElementById('plot-algorithms').data[0].header.values")
    assert "Calinski-Harabasz (higher = better)" in header
    page.locator("#plot-effects").scroll_into_view_if_needed()
    shot(page, "17-plots-html", full_page=True)
    page.close()
