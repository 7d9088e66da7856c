"""`miner crawl` against generated complaint sites served on 127.0.0.1 (tests/sites): politeness
read from the server's log, every complaint and reply stored once, noise gone, traps cut,
incremental re-crawls, resume after SIGKILL, profiles and their errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from miner.crawl.crawler import CrawlOptions, crawl, preview
from miner.crawl.profile import load_profile, parse_profile, url_profile
from miner.errors import InputError, UsageError
from miner.ingest.pipeline import IngestOptions
from miner.store import open_db
from tests.sites.server import SiteServer
from tests.sites.site import fa_site, tw_board, vi_site, zh_board

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "docs" / "sites"
FORBIDDEN = ("/admin/", "/search", "/member.php", "/account/")
FAST = CrawlOptions(delay=0, backoff=0.01)


@pytest.fixture
def serve():
    servers = []

    def _serve(site):
        server = SiteServer(site)
        servers.append(server)
        return server

    yield _serve
    for server in servers:
        server.close()


def zh_profile(server, **kw):
    return load_profile(SITES / "zh-board.yaml", base_override=server.base, **kw)


def fa_profile(server):
    return load_profile(SITES / "fa-complaints.yaml", base_override=server.base)


def tw_profile(server):
    text = (SITES / "zh-board.yaml").read_text(encoding="utf-8").replace("site: zh-board", "site: tw-board")
    return parse_profile(text, "tw-board.yaml", base_override=server.base)


def docs(db, **where):
    rows = db.execute("SELECT external_id, clean_text, text, channel, created_at, score, meta, duplicate_of, lang, script "
                      "FROM documents ORDER BY id").fetchall()
    out = [dict(zip(("external_id", "clean_text", "text", "channel", "created_at", "score", "meta", "duplicate_of", "lang",
                     "script"), r)) for r in rows]
    for d in out:
        d["meta"] = json.loads(d["meta"]) if d["meta"] else {}
    return out


def fetched(server) -> Counter:
    return Counter(h.path for h in server.log if h.path != "/robots.txt")


def assert_site_stored(db, site, base, *, upto=None):
    """Every complaint of the site once, with each of its replies once; spam replies dropped."""
    by_id = Counter(d["external_id"] for d in docs(db))
    assert max(by_id.values()) == 1
    stored = {d["external_id"]: d for d in docs(db)}
    for tid in range(1, (upto or site.top()) + 1):
        item = site.item(tid)
        url = base + site.item_path(tid)
        if tid in site.broken_items:
            assert url not in stored
            continue
        complaint = stored[url]
        assert complaint["channel"] == "complaint_site"
        assert complaint["meta"]["kind"] == "complaint" and complaint["meta"]["site"] and complaint["meta"]["crawled_at"]
        assert complaint["created_at"].startswith(f"{item['date']:%Y-%m-%d}")
        for reply in item["replies"]:
            key = f"{url}#reply-{reply['id']}"
            if reply["spam"]:
                assert key not in stored or not stored[key]["clean_text"].strip(), stored.get(key)
            else:
                assert stored[key]["meta"]["reply_to"] == url


# --- a whole site --------------------------------------------------------------------------


def test_crawl_stores_every_complaint_and_reply_once_politely(serve, db):
    site = zh_board(n_items=25, flaky_items={4}, broken_items={6}, slow_items={7: 0.2})
    server = serve(site)
    summary = crawl(db, zh_profile(server), FAST)
    assert summary.status == "done" and summary.queued == 0
    assert_site_stored(db, site, server.base)
    hits = fetched(server)
    assert not [p for p in hits if p.startswith(FORBIDDEN)]  # robots.txt obeyed
    twice = {p: n for p, n in hits.items() if n > 1}
    assert set(twice) == {site.item_path(4), site.item_path(6)}  # the 503 once, the 500 retried
    assert hits[site.item_path(6)] == 1 + 3  # max_retries 3, then failed
    assert all("acme-cx-research" in h.user_agent for h in server.log)
    state = dict(db.execute("SELECT url, state || ':' || COALESCE(reason, '') FROM crawl_urls").fetchall())
    assert state[server.base + site.item_path(6)] == "failed:http_500"
    assert summary.errors_by["http_500"] == 4 and summary.errors_by["http_503"] == 1
    # tracking and session-id duplicates, fragments and the /t/N redirects all lead to one fetch per page
    urls = [u for (u,) in db.execute("SELECT url FROM crawl_urls WHERE state = 'done'")]
    assert not [u for u in urls if "utm_" in u or "sid=" in u or "#" in u or "spm=" in u]


def test_noise_never_reaches_the_clean_text(serve, db):
    site = zh_board(n_items=20)
    server = serve(site)
    crawl(db, zh_profile(server), FAST)
    texts = "\n".join(d["clean_text"] for d in docs(db))
    for line in site.noise():
        assert line not in texts, line
    assert "正在翻译" not in texts and "请文明发言" not in texts and "百家乐" not in texts


def test_persian_site_in_windows_1256_with_sitemap_and_ratings(serve, db):
    site = fa_site(n_items=12)
    server = serve(site)
    summary = crawl(db, fa_profile(server), FAST)
    assert summary.status == "done"
    assert_site_stored(db, site, server.base)
    complaint = next(d for d in docs(db) if d["meta"]["kind"] == "complaint")
    assert complaint["lang"] == "fa" and "ی" in complaint["clean_text"] and "ي" not in complaint["clean_text"]
    assert complaint["score"] in (1.0, 2.0, 3.0)
    assert "[PHONE]" in "".join(d["text"] for d in docs(db)) and "09121234567" not in "".join(d["text"] for d in docs(db))
    assert db.execute("SELECT COUNT(*) FROM crawl_urls WHERE kind = 'sitemap' AND state = 'done'").fetchone()[0] == 1


def test_big5_board(serve, db):
    site = tw_board(n_items=8)
    server = serve(site)
    crawl(db, tw_profile(server), FAST)
    assert_site_stored(db, site, server.base)
    assert {d["script"] for d in docs(db) if d["meta"]["kind"] == "complaint"} == {"Hant"}


# --- politeness ------------------------------------------------------------------------------


def intervals(server) -> list[float]:
    times = [h.t for h in server.log]
    return [b - a for a, b in zip(times, times[1:])]


def test_the_delay_and_robots_crawl_delay_are_respected(serve, db):
    site = zh_board(n_items=4, per_page=10, crawl_delay=0.25)
    server = serve(site)
    crawl(db, zh_profile(server), CrawlOptions(delay=0.1))  # below Crawl-delay: robots wins
    gaps = intervals(server)
    assert len(gaps) >= 5 and min(gaps) >= 0.25 - 0.01


def test_the_user_delay_applies_without_crawl_delay(serve, db):
    site = vi_site(n_items=3, per_page=10)
    server = serve(site)
    crawl(db, load_profile_vi(server), CrawlOptions(delay=0.15))
    gaps = intervals(server)
    assert len(gaps) >= 4 and min(gaps) >= 0.15 - 0.01


def load_profile_vi(server):
    text = (SITES / "fa-complaints.yaml").read_text(encoding="utf-8").replace("site: fa-complaints", "site: vi-site")
    return parse_profile(text, "vi.yaml", base_override=server.base)


def test_429_retry_after_is_honoured(serve, db):
    site = zh_board(n_items=25, busy_listing=2, retry_after="1")
    server = serve(site)
    summary = crawl(db, zh_profile(server), FAST)
    log = server.log
    busy = [i for i, h in enumerate(log) if h.path == site.listing_path(2)]
    assert len(busy) == 2  # 429, then the page
    assert log[busy[0] + 1].t - log[busy[0]].t >= 1.0 - 0.01  # nothing asked of the host during Retry-After
    assert summary.errors_by["http_429"] == 1 and summary.status == "done"
    assert_site_stored(db, site, server.base)


def test_a_retry_after_beyond_the_limit_pauses_the_run(serve, db):
    site = zh_board(n_items=25, busy_listing=2, retry_after="3600")
    server = serve(site)
    summary = crawl(db, zh_profile(server), CrawlOptions(delay=0, max_retry_after=60))
    assert summary.status == "paused" and summary.stop_reason == "retry_after" and summary.queued > 0
    assert crawl(db, zh_profile(server), FAST).stop_reason == "retry_after"  # still an hour to wait: nothing asked
    db.execute("UPDATE crawl_urls SET next_at = 0")  # an hour later
    again = crawl(db, zh_profile(server), FAST)  # the same run goes on
    assert again.resumed and again.status == "done" and again.run_id == summary.run_id


def test_slow_page_over_the_timeout_is_an_error_not_a_stop(serve, db):
    site = zh_board(n_items=5, slow_items={2: 0.6})
    server = serve(site)
    summary = crawl(db, zh_profile(server), CrawlOptions(delay=0, backoff=0.01, timeout=0.2, max_retries=1))
    assert summary.status == "done" and summary.errors_by["timeout"] == 2
    assert db.execute("SELECT reason FROM crawl_urls WHERE url LIKE '%thread-2-1-1.html'").fetchone()[0] == "timeout"


# --- budgets, since, dry run -------------------------------------------------------------------


def test_page_budget_pauses_and_the_next_run_goes_on_without_refetching(serve, db):
    site = zh_board(n_items=12)
    server = serve(site)
    first = crawl(db, zh_profile(server), CrawlOptions(delay=0, max_pages=5))
    assert first.status == "paused" and first.stop_reason == "max_pages" and first.pages == 5
    second = crawl(db, zh_profile(server), FAST)
    assert second.resumed and second.status == "done"
    assert max(fetched(server).values()) == 1
    assert_site_stored(db, site, server.base)
    assert db.execute("SELECT COUNT(*) FROM sources WHERE format = 'crawl'").fetchone()[0] == 1


def test_since_keeps_only_recent_records(serve, db):
    site = zh_board(n_items=12)
    server = serve(site)
    crawl(db, zh_profile(server), CrawlOptions(delay=0, since="2026-09-03"))
    dates = [d["created_at"] for d in docs(db)]
    assert dates and min(dates) >= "2026-09-03"


def test_dry_run_writes_nothing_and_shows_records(serve, tmp_path, runner):
    from miner.cli.main import app

    site = zh_board(n_items=12)
    server = serve(site)
    db_path = tmp_path / "x.db"
    result = runner.invoke(app, ["crawl", str(SITES / "zh-board.yaml"), "--db", str(db_path), "--base", server.base,
                                 "--delay", "0", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert not db_path.exists()
    assert "item" in result.output and "Records of the first complaint page" in result.output
    data = preview(zh_profile(server), FAST)
    assert data["records"] and data["records"][0]["kind"] == "complaint"
    assert not [h for h in server.log if h.path.startswith(FORBIDDEN)]


# --- traps, no-profile mode ------------------------------------------------------------------


def test_url_mode_stores_main_content_and_cuts_the_calendar_trap(serve, db):
    site = vi_site(n_items=6, per_page=3)
    server = serve(site)
    summary = crawl(db, url_profile(server.base + "/", depth=6), FAST)
    assert summary.status == "done"
    hits = fetched(server)
    calendar = [p for p in hits if p.startswith("/events")]
    months = sorted(p.split("date=")[1][:7] for p in calendar)
    earlier, later = [m for m in months if m < "2026-09"], [m for m in months if m > "2026-09"]
    assert "2026-09" in months and len(months) == len(set(months)), calendar  # the start, each month once
    assert "2026-08" in earlier and "2026-10" in later, calendar  # followed both ways ...
    assert len(earlier) <= 3 + 1 and len(later) <= 3 + 1, calendar  # ... then cut: at most max_fruitless + 1 pages each way
    assert summary.urls["trap:fruitless"] + summary.urls["trap:future_date"] >= 1
    assert not [p for p in hits if p.startswith(FORBIDDEN)]
    pages = [d for d in docs(db) if d["meta"]["kind"] == "page"]
    item = site.item(2)
    page = next(d for d in pages if d["external_id"] == server.base + site.item_path(2))
    assert all(s in page["clean_text"] for s in item["body"] if not any(c.isdigit() for c in s))


# --- incremental and resumable -------------------------------------------------------------------


def test_recrawl_asks_conditionally_and_adds_only_what_is_new(serve, db):
    site = zh_board(n_items=25, changed_item=3)
    server = serve(site)
    first = crawl(db, zh_profile(server), FAST)
    n_docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    server.log.clear()
    site.version = 2  # a new thread 26 and a new reply on thread 3
    second = crawl(db, zh_profile(server), FAST)
    assert second.incremental and not second.resumed and second.run_id != first.run_id
    new = docs(db)[n_docs:]
    new_item, changed = site.item(26), site.item(3)
    expected = {server.base + site.item_path(26)} | {
        f"{server.base}{site.item_path(26)}#reply-{r['id']}" for r in new_item["replies"] if not r["spam"]} | {
        f"{server.base}{site.item_path(3)}#reply-{changed['replies'][-1]['id']}"}
    assert {d["external_id"] for d in new if d["clean_text"]} == expected
    assert second.not_modified >= 20  # pages linked from changed listings are asked again, conditionally
    unconditional = {h.path for h in server.log if not h.if_none_match} - {"/robots.txt"}
    assert unconditional == {site.item_path(26)}  # the one page never seen before
    assert_site_stored(db, site, server.base)


def test_resume_after_sigkill_loses_nothing_and_doubles_nothing(serve, tmp_path):
    site = zh_board(n_items=60)
    server = serve(site)
    db_path = tmp_path / "killed.db"
    cmd = [sys.executable, "-m", "miner.cli.main", "crawl", str(SITES / "zh-board.yaml"), "--db", str(db_path),
           "--base", server.base, "--delay", "0.01", "-q"]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    deadline = time.time() + 30
    stored = 0
    while time.time() < deadline:
        time.sleep(0.05)
        if db_path.exists():
            try:
                probe = open_db(db_path)
                stored = probe.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
                probe.conn.close()
            except Exception:
                continue
            if stored >= 20:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 20 <= stored
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    db = open_db(db_path)
    assert_site_stored(db, site, server.base)
    twice = [p for p, n in fetched(server).items() if n > 1]
    assert len(twice) <= 1  # at most the page in flight when the process died
    run = db.execute("SELECT status, COUNT(*) FROM crawl_runs GROUP BY status").fetchall()
    assert run == [("done", 1)]


def test_a_live_crawl_of_the_same_site_is_refused(serve, db):
    site = zh_board(n_items=3)
    server = serve(site)
    profile = zh_profile(server)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        crawl(db, profile, CrawlOptions(delay=0, max_pages=1))
        db.execute("UPDATE crawl_runs SET status = 'running', pid = ?", [sleeper.pid])
        with pytest.raises(UsageError) as exc:
            crawl(db, profile, FAST)
        assert exc.value.code == "E464"
    finally:
        sleeper.kill()
        sleeper.wait()
    assert crawl(db, profile, FAST).status == "done"  # its process is gone: resumed


# --- profiles, options and errors -----------------------------------------------------------------


@pytest.mark.parametrize("text, line, words", [
    ("site: x\nstart: http://h/\nlisting: '(('\nitem: a", 3, "not a valid regular expression"),
    ("site: x\nstart: http://h/\nfields:\n  body: 'div[['", 4, "not a valid CSS selector"),
    ("site: x\nstart: http://h/\nfields:\n  body: {xpath: '//div['}", 4, "not a valid XPath"),
    ("site: x\nstart: http://h/\nfields:\n  title: h1", 4, "needs a body"),
    ("site: x\nstart: /a", 2, "relative URLs need base"),
    ("site: x\nstart: http://h/\npoliteness:\n  delay: fast", 4, "must be a number"),
    ("site: x\nstart: http://h/\nspeed: 3", 3, "unknown key 'speed'"),
    ("site: x\n  start: [", 2, "not valid YAML"),
    ("start: http://h/", 1, "no 'site'"),
])
def test_profile_errors_name_the_file_and_line(text, line, words):
    with pytest.raises(InputError) as exc:
        parse_profile(text, "site.yaml")
    assert exc.value.code == "E461" and f"site.yaml:{line}:" in exc.value.message and words in exc.value.message


def test_cli_errors_are_one_line(runner, tmp_path, write):
    from miner.cli.main import app

    bad = write("bad.yaml", "site: x\nstart: http://127.0.0.1:9/\nfields:\n  body: 'div[['\n")
    result = runner.invoke(app, ["crawl", str(bad), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 1 and "E461" in result.output and "bad.yaml:4" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["crawl", str(tmp_path / "missing.yaml"), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 1 and "E460" in result.output
    result = runner.invoke(app, ["crawl", "not a url", "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2 and "E462" in result.output
    result = runner.invoke(app, ["crawl", "http://127.0.0.1:9/", "--db", str(tmp_path / "a.db"), "--delay", "-1"])
    assert result.exit_code == 2 and "E463" in result.output
    # a host where nothing listens: one line, exit 1, and the run waits to be resumed
    down = write("down.yaml", "site: down\nstart: http://127.0.0.1:9/\npoliteness: {delay: 0, backoff: 0, max_retries: 1}\n")
    result = runner.invoke(app, ["crawl", str(down), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 1 and "E465" in result.output and "Traceback" not in result.output


def test_cli_crawl_prints_a_summary(serve, runner, tmp_path):
    from miner.cli.main import app

    site = fa_site(n_items=5)
    server = serve(site)
    result = runner.invoke(app, ["crawl", str(SITES / "fa-complaints.yaml"), "--db", str(tmp_path / "c.db"),
                                 "--base", server.base, "--delay", "0"])
    assert result.exit_code == 0, result.output
    assert "Crawled fa-complaints (run 1, new)" in result.output and "Done" in result.output
    again = runner.invoke(app, ["crawl", str(SITES / "fa-complaints.yaml"), "--db", str(tmp_path / "c.db"),
                                "--base", server.base, "--delay", "0", "--json"])
    data = json.loads(again.output)
    assert data["incremental"] and data["documents"]["stored"] == 0 and data["not_modified"] >= 1
