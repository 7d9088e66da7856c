"""`miner report`: the data it gathers, the HTML it writes (escaped, self-contained, no network),
--since, --label-lang, --browse-url, and one-line errors. The page in a real browser:
tests/test_report_browser.py."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import numpy as np
import pytest

from miner.arrays import pack_arrays
from miner.backlog import build_backlog, set_status
from miner.cli.main import app
from miner.report import build_report, write_report
from miner.report.gather import gather
from miner.report.safety import esc, neutralise, safe_url, script_json
from miner.store import index_fts, open_db, set_setting, transaction
from tests.store_builder import StoreBuilder

HOSTILE_LABEL = '<img src=x onerror="window.__pwned=1">Login <script>window.__pwned=2</script>'
HOSTILE_QUOTES = [
    '<script>window.__pwned=3</script> the refund never came',
    '<a href="javascript:window.__pwned=4">click me</a> javascript:window.__pwned=5',
    'my invoice \u202egnp.exe is wrong </script><script>window.__pwned=6</script>',
    'بازپرداخت پول من هنوز انجام نشده است',
]
START = date(2026, 6, 1)


def make_report_store(path) -> None:
    """A small store with everything the report shows: 4 themes (one labelled with markup, one
    praise), 16 weeks of documents with sentiment, NPS scores, touchpoints, quotes and keywords
    (hostile ones too), theme centroids, an alert and a shipped backlog item."""
    db = open_db(path)
    with transaction(db):
        b = StoreBuilder(db)
        for key, stage, label, owner in (("pricing", "discover", "Prices", "pricing"), ("app", "use", "Mobile app", "mobile"),
                                         ("billing", "pay", "Bills & <charges>", "finance")):
            db.execute("INSERT INTO touchpoints VALUES (?, ?, ?, '', ?, 'test', 'x')", [key, stage, label, owner])
        t_refund = b.theme("Refund not received")
        t_login = b.theme("Cannot log in", custom_label=HOSTILE_LABEL)
        t_crash = b.theme("App crashes")
        t_staff = b.theme("Friendly staff")
        for tid, concept, kind in ((t_refund, "refund_not_received", "complaint"), (t_login, "login_problem", "complaint"),
                                   (t_crash, "app_crashes", "complaint"), (t_staff, "praise_friendly_staff", "praise")):
            db.execute("UPDATE themes SET level = 1, concept = ?, kind = ?, label_lang = 'en', label_confidence = 0.6 WHERE id = ?",
                       [concept, kind, tid])
        sub = b.theme("Refund late")
        db.execute("UPDATE themes SET level = 2, parent_id = ?, concept = 'refund_not_received' WHERE id = ?", [t_refund, sub])
        rng = np.random.default_rng(0)
        quote_segments = {}
        for day in range(16 * 7):
            when = (START + timedelta(days=day)).isoformat()
            plan = [(t_refund, "neg", "billing"), (t_crash, "neg", "app")]
            if day % 2 == 0:
                plan.append((t_staff, "pos", None))
            if day >= 13 * 7 or day % 9 == 0:
                plan.append((t_login, "neg", "app"))  # grows in the last weeks
            for i, (theme, sentiment, tp) in enumerate(plan):
                text = None
                if theme == t_refund and day < len(HOSTILE_QUOTES):
                    text = HOSTILE_QUOTES[day]
                lang = ("en", "de", "fr", "fa")[day] if text else "en"
                doc = b.doc(when, [{"theme": theme, "sentiment": sentiment, "touchpoint": tp, "text": text}],
                            channel="survey" if i % 2 == 0 else "app_review", lang=lang,
                            score=float(rng.integers(0, 4) if sentiment == "neg" else rng.integers(9, 11)))
                seg = db.execute("SELECT id FROM segments WHERE document_id = ?", [doc]).fetchone()[0]
                if text:
                    quote_segments[lang] = [seg]
                db.execute("INSERT INTO document_themes (document_id, theme_id, subtheme_id, score, method, run_id) VALUES (?, ?, ?, 0.9, 'cluster', 1)",
                           [doc, theme, sub if theme == t_refund else None])
                if theme == t_refund:
                    db.execute("UPDATE segment_themes SET subtheme_id = ? WHERE segment_id = ?", [sub, seg])
        db.execute("UPDATE themes SET quotes = ?, keywords = ? WHERE id = ?",
                   [json.dumps(quote_segments), json.dumps({"en": [["refund", 0.5], ["<b>money</b>", 0.4]]}), t_refund])
        for tid in (t_refund, t_login, t_crash, t_staff):
            db.execute("INSERT INTO theme_touchpoints VALUES (?, 'billing', 0.7, 10)", [tid])
        T = rng.normal(size=(4, 8)).astype(np.float32)
        db.execute("INSERT INTO theme_state (key, value, run_id) VALUES ('centroids', ?, 1)",
                   [pack_arrays({"C": T, "sub_ids": np.full(4, -1), "theme_ids": np.array([1, 2, 3, 4]), "T": T, "T_ids": np.array([1, 2, 3, 4])})])
        db.execute("INSERT INTO alerts (id, rule, dimension, key, label, granularity, period, kind, severity, owner, payload, raised_at, delivery) "
                   "VALUES ('a1', 'spikes', 'theme', '2', ?, 'week', '2026-W36', 'spike', 'high', 'mobile', '{}', '2026-09-08T06:00:00Z', 'none')",
                   [HOSTILE_LABEL])
        set_setting(db, "label_lang", "en")
        index_fts(db, 1, b.n)
    build_backlog(db)
    set_status(db, "BL-1", "shipped", on="2026-08-01", note="<script>window.__pwned=7</script>", today=date(2026, 9, 30))
    db.conn.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "store.db"
    make_report_store(path)
    return path


@pytest.fixture
def rdb(store):
    return open_db(store, create=False)


def test_gather_counts_every_section(rdb):
    d = gather(rdb, store_name="store.db")
    themes = {t["id"]: t for t in d["themes"]["themes"]}
    assert set(themes) == {1, 2, 3, 4}  # level-1 active themes only (5 is a sub-theme)
    assert themes[1]["documents"] == 112 and themes[1]["negative_share"] == 1.0
    assert themes[4]["kind"] == "praise" and themes[4]["negative_share"] == 0.0
    assert themes[2]["growth"] is not None and themes[2]["growth"] > 1  # logins grew in the last 4 weeks
    assert themes[1]["children"] == [{"id": 5, "label": "Refund late", "documents": 0}]
    assert len(d["themes"]["map"]) == 4
    assert d["overview"]["documents"] == 112 * 2 + 56 + 21 + 11
    assert d["overview"]["scores"]["nps"]["responses"] == d["overview"]["documents"]
    assert [t["key"] for t in d["journey"]["touchpoints"]] == ["pricing", "app", "billing"]
    assert d["journey"]["touchpoints"][0]["documents"] == 0
    assert d["trends"]["alerts"][0]["label"] == HOSTILE_LABEL
    assert d["backlog"]["fixes"][0]["id"] == "BL-1"
    assert {a["theme"] for a in d["backlog"]["set_aside"]["thanks"]} == {"Friendly staff"}
    assert "nps" in d["impact"]["kinds"] and d["impact"]["kinds"]["nps"]["rows"]


def test_since_narrows_counts(rdb):
    whole = gather(rdb)
    late = gather(rdb, since=date(2026, 8, 31))
    assert late["overview"]["documents"] < whole["overview"]["documents"]
    assert late["overview"]["first_day"] == "2026-08-31"
    assert late["meta"]["since"] == "2026-08-31"
    t = {x["id"]: x for x in late["themes"]["themes"]}
    assert t[1]["documents"] == 21


def test_label_lang_names_themes_from_their_concept_without_writing(rdb, store):
    before = store.read_bytes()
    d = gather(rdb, label_lang="de")
    labels = {t["id"]: t["label"] for t in d["themes"]["themes"]}
    assert labels[1] == "Erstattung nicht erhalten" and labels[3] == "App stürzt ab"
    assert labels[2] == HOSTILE_LABEL  # a person's label wins
    assert d["meta"]["label_lang"] == "de" and "de" in d["meta"]["label_note"]
    assert any(it["title"] == "Erstattung nicht erhalten" and "Erstattung" in it["summary"] for it in d["backlog"]["items"])
    assert store.read_bytes() == before


def test_html_is_self_contained_and_escapes_every_text(rdb):
    html = build_report(rdb, store_name="store.db")
    assert html.startswith("<!doctype html>")
    for bad in ("<script>window.__pwned", '<img src=x onerror', 'href="javascript:', "\u202e"):
        assert bad not in html, bad
    assert "&lt;script&gt;window.__pwned=3&lt;/script&gt;" in html
    assert "⟨U+202E⟩gnp.exe" in html
    # no resource from anywhere: no src= or href= to another host, a CSP that forbids requests
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)
    assert not re.search(r'''(src|href)\s*=\s*["']?(https?:)?//''', markup)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src &#x27;none&#x27;" in csp and "connect-src &#x27;none&#x27;" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    scripts = re.findall(r"<script(?: [^>]*)?>", html)
    assert scripts == ['<script type="application/json" id="report-data">', "<script>", "<script>"]
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S).group(1)
    charts = json.loads(data)["charts"]
    assert {"weekly_volume", "sentiment_mix", "theme_map", "journey", "trend_volume", "impact_nps", "priority_parts"} <= set(charts)
    assert "theme_trend_1" in charts
    flat = json.dumps(charts)
    assert "<script" not in flat and "&lt;img src=x onerror" in flat  # labels escaped for plotly's HTML-ish labels


def test_browse_links_only_with_a_url(rdb):
    assert "127.0.0.1:8001" not in build_report(rdb)
    html = build_report(rdb, browse_url="http://127.0.0.1:8001/", store_name="my store.db")
    assert 'href="http://127.0.0.1:8001/my%20store/themes/1"' in html
    assert 'href="http://127.0.0.1:8001/my%20store/backlog_items/BL-1"' in html


def test_safety_helpers():
    assert esc('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"
    assert neutralise("a\u202eb\u2067c\u200cd") == "a⟨U+202E⟩b⟨U+2067⟩c\u200cd"  # ZWNJ stays (Persian needs it)
    assert script_json({"x": "</script><!--"}) == '{"x":"\\u003c/script\\u003e\\u003c!--"}'
    assert safe_url("javascript:alert(1)") is None and safe_url("data:text/html,x") is None
    assert safe_url("http://127.0.0.1:8001/") == "http://127.0.0.1:8001"


def test_cli_writes_the_report(store, runner, tmp_path):
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["report", "--db", str(store), "--out", str(out), "--since", "2026-07-01", "--label-lang", "de"])
    assert r.exit_code == 0, r.output
    assert "Wrote" in r.output and out.stat().st_size > 1_000_000
    assert "Erstattung nicht erhalten" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("args, code", [
    (["--label-lang", "xx"], "E816"),
    (["--since", "yesterday"], "E903"),
    (["--browse-url", "javascript:alert(1)"], "E655"),
    (["--out", "{tmp}"], "E651"),
    (["--out", "{tmp}/no/such/folder/r.html"], "E652"),
])
def test_cli_bad_input_is_one_line(store, runner, tmp_path, args, code):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "r.html")]
    r = runner.invoke(app, ["report", "--db", str(store), *args])
    assert r.exit_code in (1, 2), r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and f"[{code}]" in lines[0] and "Traceback" not in r.output, r.output


def test_unwritable_folder_and_store_without_themes(runner, tmp_path, store):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        import os

        if os.access(locked, os.W_OK):  # root writes anywhere: make the target a path under a file instead
            target = tmp_path / "afile"
            target.write_text("x")
            out = target / "r.html"
        else:
            out = locked / "r.html"
        r = runner.invoke(app, ["report", "--db", str(store), "--out", str(out)])
        assert r.exit_code in (1, 2) and ("[E653]" in r.output or "[E652]" in r.output), r.output
        assert len(r.output.strip().splitlines()) == 1
    finally:
        locked.chmod(0o700)
    empty = tmp_path / "empty.db"
    open_db(empty).conn.close()
    r = runner.invoke(app, ["report", "--db", str(empty), "--out", str(tmp_path / "r.html")])
    assert r.exit_code == 1 and "[E650]" in r.output and len(r.output.strip().splitlines()) == 1, r.output


def test_a_failed_write_keeps_the_previous_report(rdb, tmp_path, monkeypatch):
    from pathlib import Path

    from miner.errors import MinerError

    out = tmp_path / "r.html"
    out.write_text("previous", encoding="utf-8")
    real = Path.write_text

    def full_disk(self, *a, **k):
        if self.name.startswith(".r.html."):
            real(self, "half a rep", encoding="utf-8")
            raise OSError(28, "No space left on device")
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(MinerError, match="No space left"):
        write_report(rdb, out)
    assert out.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
