"""The report and `miner browse` in a real browser: Debian's chromium, driven by Playwright (one
browser for the module). The page loads with no console error and no request but its own file,
every chart draws marks, sorting and drill-down work, hostile texts show as text and run
nothing; `miner browse` serves the store from 127.0.0.1 only, with facets and search."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from miner.report import write_report
from miner.store import open_db
from tests.test_report import HOSTILE_LABEL, HOSTILE_QUOTES, make_report_store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:  # Playwright gives the browser a fresh temporary profile
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report-browser")
    store = folder / "store.db"
    make_report_store(store)
    out = folder / "report.html"
    write_report(open_db(store, create=False), out, store_name="store.db")
    return store, out


class Watch:
    """Console errors, page errors, dialogs and requests of a page."""

    def __init__(self, page):
        self.errors, self.requests, self.dialogs = [], [], []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))


def open_report(browser, out, **context):
    page = browser.new_page(**context)
    watch = Watch(page)
    page.goto(out.as_uri())
    page.wait_for_function("window.minerReport && window.minerReport.ready")
    return page, watch


def marks(page, selector: str) -> int:
    return page.eval_on_selector(selector, "el => el.querySelectorAll('svg .point, svg path.point, svg .bars path, svg g.slice path, "
                                           "svg .scatterlayer .trace path, svg .barlayer path').length")


def test_report_loads_offline_and_every_chart_draws(browser, report):
    _, out = report
    page, watch = open_report(browser, out, viewport={"width": 1280, "height": 900})
    page.wait_for_timeout(300)
    assert watch.errors == [] and watch.dialogs == []
    assert watch.requests == [out.as_uri()]  # no script, style, font or image from anywhere
    visible = page.eval_on_selector_all(".chart[data-chart]", "els => els.filter(e => e.offsetParent !== null).map(e => e.dataset.chart)")
    assert {"weekly_volume", "sentiment_mix", "languages", "channels", "theme_map", "journey", "trend_volume", "trend_share",
            "impact_nps", "priority_parts"} <= set(visible)
    for key in visible:
        assert marks(page, f'.chart[data-chart="{key}"]') > 0, key
    assert page.evaluate("window.__pwned") is None
    page.close()


def test_hostile_texts_show_as_text(browser, report):
    _, out = report
    page, watch = open_report(browser, out)
    page.click('button.open[data-theme-id="1"]')
    page.click('button.open[data-theme-id="2"]')
    for b in page.query_selector_all("#backlog-table button.open"):
        b.click()
    text = page.inner_text("body")
    assert HOSTILE_LABEL in text
    assert "<script>window.__pwned=3</script> the refund never came" in text
    assert "javascript:window.__pwned=5" in text
    assert "⟨U+202E⟩gnp.exe" in text and HOSTILE_QUOTES[3] in text
    assert page.query_selector_all("img") == []
    assert page.eval_on_selector_all("a[href]", "as => as.filter(a => !a.getAttribute('href').startsWith('#')).length") == 0
    assert page.evaluate("window.__pwned") is None and watch.dialogs == [] and watch.errors == []
    page.close()


def test_sorting_and_drill_down(browser, report):
    _, out = report
    page, watch = open_report(browser, out)
    column = lambda n: page.eval_on_selector_all(  # noqa: E731
        f"#themes-table tbody tr:first-child td:nth-child({n})", "tds => tds.map(t => t.dataset.v)")
    page.click("#themes-table th:nth-child(3) button.sort")  # documents, ascending
    docs = [int(v) for v in column(3)]
    assert docs == sorted(docs) and docs[0] < docs[-1]
    assert page.get_attribute("#themes-table th:nth-child(3)", "aria-sort") == "ascending"
    page.click("#themes-table th:nth-child(3) button.sort")
    assert [int(v) for v in column(3)] == sorted(docs, reverse=True)
    page.click("#themes-table th:nth-child(5) button.sort")  # negative share
    neg = [float(v) for v in column(5)]
    assert neg == sorted(neg)
    page.click("#themes-table th:nth-child(2) button.sort")  # label, as text
    labels = column(2)
    assert labels == sorted(labels)
    detail = page.locator("#theme-1")
    assert detail.is_hidden()
    page.click('button.open[data-theme-id="1"]')
    assert detail.is_visible() and page.get_attribute('button.open[data-theme-id="1"]', "aria-expanded") == "true"
    page.wait_for_function("document.querySelector('[data-chart=\"theme_trend_1\"]').dataset.drawn === '1'")
    assert marks(page, '[data-chart="theme_trend_1"]') > 0
    assert "Refund late" in detail.inner_text()  # its sub-theme
    page.click('button.open[data-theme-id="1"]')
    assert detail.is_hidden()
    assert watch.errors == []
    page.close()


def test_dark_mode_and_phone_width(browser, report):
    _, out = report
    page, watch = open_report(browser, out, viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True)
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(20, 23, 29)"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # nothing wider than the phone
    page.click("#theme-toggle")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    assert watch.errors == []
    page.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browse_server(report):
    store, _ = report
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "miner.cli.main", "browse", "--db", str(store), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                pytest.fail(proc.stderr.read())
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", store
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_browse_in_the_browser(browser, browse_server):
    base, store = browse_server
    before = store.stat().st_mtime_ns, store.read_bytes()
    page = browser.new_page()
    watch = Watch(page)
    page.goto(f"{base}/store/documents")
    assert "one row per stored record" in page.inner_text("body")  # the table described from docs/schema.md
    facets = page.eval_on_selector_all(".facet-info", "fs => fs.map(f => f.getAttribute('data-column'))")
    assert {"lang", "channel"} <= set(facets)
    page.fill("input[name=_search]", "refund never")
    page.press("input[name=_search]", "Enter")
    page.wait_for_load_state()
    assert "1 row" in page.inner_text("body") and "<script>window.__pwned=3</script>" in page.inner_text("body")
    for path in ("/store/document_sentiment", "/store/document_themes", "/store/segment_touchpoints", "/store/top_themes_this_month",
                 "/store/backlog", "/store/documents_of_a_theme?theme=1"):
        page.goto(base + path)
        assert page.query_selector(".facet-info, table.rows-and-columns"), path
    page.goto(f"{base}/store/themes")
    assert HOSTILE_LABEL in page.inner_text("body")
    assert page.evaluate("window.__pwned") is None and watch.dialogs == []
    assert watch.errors == []
    hosts = {urlsplit(u).hostname for u in watch.requests}
    assert hosts == {"127.0.0.1"}, hosts
    page.close()
    assert (store.stat().st_mtime_ns, store.read_bytes()) == before  # read-only


def test_report_links_reach_browse_rows(browser, browse_server, tmp_path):
    base, store = browse_server
    out = tmp_path / "linked.html"
    write_report(open_db(store, create=False), out, browse_url=base, store_name=store.name)
    page = browser.new_page()
    page.goto(out.as_uri())
    href = page.get_attribute("#themes-table a[href*='/themes/1']", "href")
    assert href == f"{base}/store/themes/1"
    page.goto(href)
    assert "Refund not received" in page.inner_text("body")
    page.close()
