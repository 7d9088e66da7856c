"""Issue 18's targets: `miner report` on the demo store (< 3 s) and on a 100k-document store
(< 30 s, < 10 MB), and `miner browse`'s first page of the 100k store (< 1 s); screenshots of
each section of the demo report (docs/img/).

The 100k store is the analyzed demo store (bench/_work/themes/demo.db, copied) with its 375
documents copied 267 times by SQL: every row of documents, segments, their sentiment, themes and
touchpoints, with new ids, record keys and dates spread over the next 10 weeks (copy k moves k % 70
days later), then indexed for full-text search. Themes, centroids and touchpoints stay those of
the demo: it measures the report's and Datasette's reads, not discovery.

    .venv/bin/python bench/bench_report.py [--copies 267] [--no-shots]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402

DEMO = ROOT / "bench" / "_work" / "themes" / "demo.db"
WORK = ROOT / "bench" / "_work" / "report"
IMG = ROOT / "docs" / "img"
MINER = [sys.executable, "-m", "miner.cli.main"]
DOC_STEP, SEG_STEP = 1000, 2000  # id offsets per copy (the demo has < 1000 documents, < 2000 segments)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


def columns(conn, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def copy_rows(conn, table: str, k: int, exprs: dict[str, str]) -> None:
    cols = columns(conn, table)
    sel = ", ".join(exprs.get(c, f'"{c}"') for c in cols)
    names = ", ".join(f'"{c}"' for c in cols)
    conn.execute(f'INSERT INTO "{table}" ({names}) SELECT {sel} FROM "{table}" WHERE {exprs["_where"]}'.replace("{k}", str(k)))


def build_large(path: Path, copies: int) -> dict:
    """The demo store's rows copied `copies` times (see the module's docstring)."""
    import sqlite3

    shutil.copy(DEMO, path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    started = time.perf_counter()
    n_docs = conn.execute("SELECT MAX(id) FROM documents").fetchone()[0]
    n_segs = conn.execute("SELECT MAX(id) FROM segments").fetchone()[0]
    assert n_docs < DOC_STEP and n_segs < SEG_STEP
    d, s = f"{{k}} * {DOC_STEP}", f"{{k}} * {SEG_STEP}"
    plans = {
        "documents": {"id": f"id + {d}", "record_key": "record_key || '#{k}'", "duplicate_of": f"duplicate_of + {d}",
                      "created_at": "CASE WHEN created_at IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%SZ', created_at, '+' || ({k} % 70) || ' days') END",
                      "_where": f"id < {DOC_STEP}"},
        "segments": {"id": f"id + {s}", "document_id": f"document_id + {d}", "_where": f"id < {SEG_STEP}"},
        "segment_sentiment": {"segment_id": f"segment_id + {s}", "_where": f"segment_id < {SEG_STEP}"},
        "document_sentiment": {"document_id": f"document_id + {d}", "_where": f"document_id < {DOC_STEP}"},
        "segment_themes": {"segment_id": f"segment_id + {s}", "_where": f"segment_id < {SEG_STEP}"},
        "document_themes": {"document_id": f"document_id + {d}", "_where": f"document_id < {DOC_STEP}"},
        "segment_touchpoints": {"segment_id": f"segment_id + {s}", "_where": f"segment_id < {SEG_STEP}"},
        "document_touchpoints": {"document_id": f"document_id + {d}", "_where": f"document_id < {DOC_STEP}"},
    }
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    with conn:
        for k in range(1, copies + 1):
            for table, plan in plans.items():
                if table in tables:
                    copy_rows(conn, table, k, plan)
        conn.execute("INSERT INTO documents_fts (rowid, clean_text) SELECT id, clean_text FROM documents WHERE id >= ?", [DOC_STEP])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    out = {"documents": conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0],
           "segments": conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0],
           "seconds": round(time.perf_counter() - started, 1), "bytes": path.stat().st_size}
    conn.close()
    return out


def timed_cli(args: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run(MINER + args, capture_output=True, text=True, cwd=ROOT)
    if r.returncode:
        raise SystemExit(r.stderr)
    return time.perf_counter() - t, r.stderr.strip()


def time_report(db: Path, out: Path, runs: int) -> dict:
    """Wall time of the command (a fresh process: imports included), and of the library call alone."""
    from miner.report import write_report
    from miner.store import open_db

    wall = [timed_cli(["report", "--db", str(db), "--out", str(out)])[0] for _ in range(runs)]
    lib = []
    for _ in range(runs):
        t = time.perf_counter()
        write_report(open_db(db, create=False), out, store_name=db.name)
        lib.append(time.perf_counter() - t)
    return {"wall_s": wall, "library_s": lib, "bytes": out.stat().st_size}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_browse(db: Path, runs: int = 5) -> dict:
    """Seconds to serve the index page, the database page and the documents table page, first request
    (cold) and the median of the next `runs`."""
    port = free_port()
    proc = subprocess.Popen(MINER + ["browse", "--db", str(db), "--port", str(port)], stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        t0 = time.perf_counter()
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.perf_counter() - t0 > 120:
                raise SystemExit(proc.stderr.read())
            time.sleep(0.1)
        startup = time.perf_counter() - t0
        out = {"startup_s": startup}
        for name, path in (("index", "/"), ("database", f"/{db.stem}"), ("documents", f"/{db.stem}/documents"),
                           ("search", f"/{db.stem}/documents?_search=router"),
                           ("top_themes_this_month", f"/{db.stem}/top_themes_this_month")):
            times = []
            for _ in range(runs + 1):
                t = time.perf_counter()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as r:
                    r.read()
                    assert r.status == 200
                times.append(time.perf_counter() - t)
            out[name] = {"first_s": times[0], "median_s": statistics.median(times[1:])}
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def screenshots(report: Path) -> list[str]:
    """A PNG of each section of the report, light, at a laptop's width; the overview dark and on a phone too."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    IMG.mkdir(parents=True, exist_ok=True)
    made = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for scheme, viewport, suffix, sections in (
            ("light", {"width": 1280, "height": 900}, "", ("overview", "themes", "journey", "trends", "impact", "backlog")),
            ("dark", {"width": 1280, "height": 900}, "-dark", ("overview",)),
            ("light", {"width": 390, "height": 844}, "-phone", ("overview",)),
        ):
            page = browser.new_page(viewport=viewport, color_scheme=scheme, device_scale_factor=1)
            page.goto(report.as_uri())
            page.wait_for_function("window.minerReport && window.minerReport.ready")
            page.add_style_tag(content="header{position:static !important}")
            if "themes" in sections:
                page.click('#themes-table tbody:first-of-type button.open')  # one theme opened
                page.wait_for_timeout(300)
            page.wait_for_timeout(400)
            for section in sections:
                path = IMG / f"report-{section}{suffix}.png"
                page.locator(f"#{section}").screenshot(path=str(path))
                made.append(str(path.relative_to(ROOT)))
            page.close()
        browser.close()
    return made


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=267)
    ap.add_argument("--no-shots", action="store_true")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    demo = WORK / "demo.db"
    shutil.copy(DEMO, demo)
    from datetime import date

    from miner.backlog import build_backlog, set_status
    from miner.store import open_db

    db = open_db(demo, create=False)  # a shipped item, so that "did the fix work?" shows
    build_backlog(db)
    set_status(db, "BL-3", "shipped", on="2026-09-28", note="app 5.0.2 restores the login", today=date(2026, 11, 1))
    db.conn.close()
    small = time_report(demo, WORK / "demo.html", runs=3)
    shots = [] if args.no_shots else screenshots(WORK / "demo.html")
    large_db = WORK / "large.db"
    built = build_large(large_db, args.copies)
    large = time_report(large_db, WORK / "large.html", runs=2)
    browse = time_browse(large_db)
    import os

    results = {"demo": small, "large_store": built, "large": large, "browse": browse, "screenshots": shots,
               "load_average_at_end": [round(x, 1) for x in os.getloadavg()]}
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    write_section("report", render(results))


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(r: dict) -> str:
    d, big, b, built = r["demo"], r["large"], r["browse"], r["large_store"]
    dw, bw = min(d["wall_s"]), min(big["wall_s"])
    lines = [
        "## Report and browse (issue 18)",
        "",
        "`bench/bench_report.py`. The demo store is the analyzed demo (bench/_work/themes/demo.db) with BL-3 marked shipped. "
        f"The large store is that store's rows copied by SQL to {built['documents']:,} documents and {built['segments']:,} segments "
        f"(themes, centroids and touchpoints of the demo; dates spread over 10 more weeks; full-text indexed; built in {built['seconds']} s, "
        f"{built['bytes'] / 1e6:.0f} MB). `miner report` times are a fresh process (imports included), best of "
        f"{len(d['wall_s'])} and {len(big['wall_s'])} runs; the library call alone in brackets.",
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| report, demo store, < 3 s | {dw:.2f} s ({min(d['library_s']):.2f} s) | {verdict(dw < 3)} |",
        f"| report, {built['documents']:,} documents, < 30 s | {bw:.2f} s ({min(big['library_s']):.2f} s) | {verdict(bw < 30)} |",
        f"| report size, {built['documents']:,} documents, < 10 MB | {big['bytes'] / 1e6:.2f} MB (demo: {d['bytes'] / 1e6:.2f} MB; plotly.js is 4.8 MB of it) | {verdict(big['bytes'] < 10e6)} |",
        f"| `miner browse` first page, {built['documents']:,} documents, < 1 s | index {b['index']['first_s']:.2f} s first, "
        f"{b['index']['median_s']:.3f} s after | {verdict(b['index']['first_s'] < 1)} |",
        "",
        f"Other pages of the large store (first request / median of 5 after): database {b['database']['first_s']:.2f} / "
        f"{b['database']['median_s']:.2f} s, documents table with its facets {b['documents']['first_s']:.2f} / {b['documents']['median_s']:.2f} s, "
        f"full-text search {b['search']['first_s']:.2f} / {b['search']['median_s']:.2f} s, canned query 'top themes this month' "
        f"{b['top_themes_this_month']['first_s']:.2f} / {b['top_themes_this_month']['median_s']:.2f} s. Server start (process to listening): "
        f"{b['startup_s']:.1f} s.",
        "",
        f"The machine's 2 cores were shared with other jobs (load average {', '.join(map(str, r.get('load_average_at_end', [])))} at the end "
        "of the run): the demo report's command time is almost all imports (scipy.stats, through the backlog's fix checks, and "
        "sqlite_utils/pandas), which `miner backlog` pays alike.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
