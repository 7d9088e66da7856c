"""Terminal output that tells the truth (issue 15): progress with a label, counts, rate and
time left; no "None" shown to a user; tables aligned for wide characters; ids where two
items can share a label."""

import io
import json
import re

import pytest

from miner.display import columns, date_span, pad_to
from miner.nlp.cache import EmbeddingCache, embed_texts
from miner.nlp.encoders.fake import FakeEncoder

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def _terminal():
    from rich.console import Console

    buf = io.StringIO()
    return buf, Console(file=buf, force_terminal=True, width=140)


def test_progress_shows_label_counts_rate_and_time_left():
    from miner.cli.common import stage_progress

    buf, console = _terminal()
    with stage_progress(False, console=console) as report:
        report("themes: clustering")
        for done in (100, 200, 300):
            report("analyze: documents embedded and labelled", done, 1000)
    text = ANSI.sub("", buf.getvalue())
    assert "themes: clustering" in text
    last = text.rsplit("analyze: documents embedded and labelled", 1)[1]
    assert "300/1,000" in last and "/s" in last and "ETA" in last and re.search(r"\d:\d\d:\d\d", last)


def test_progress_is_silent_when_not_a_terminal_or_quiet():
    from miner.cli.common import count_progress, input_progress, stage_progress

    for helper in (stage_progress, count_progress, input_progress):
        with helper(False) as report:  # pytest's stderr is not a terminal
            assert report is None
    buf, console = _terminal()
    with stage_progress(True, console=console) as report:
        assert report is None


def test_embedding_reports_each_encoder_call(db):
    calls = []
    texts = [f"text number {i}" for i in range(10)]
    embed_texts(FakeEncoder(), texts, EmbeddingCache(db), batch_size=4, progress=lambda done, todo: calls.append((done, todo)))
    assert calls == [(4, 10), (8, 10), (10, 10)]
    calls.clear()
    embed_texts(FakeEncoder(), texts + ["one more"], EmbeddingCache(db), batch_size=4, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 1)]  # the cached ones are not counted as work to do


def test_analyze_moves_within_a_batch_of_documents(db, write, tmp_path):
    import numpy as np

    from miner.analyze import analyze
    from miner.ingest.pipeline import IngestOptions, ingest
    from miner.nlp.sentiment import SentimentHead

    enc = FakeEncoder()
    head = tmp_path / "toy.npz"
    rng = np.random.default_rng(0)
    SentimentHead([(rng.normal(size=(enc.dim, 3)).astype(np.float32), np.zeros(3, np.float32))], enc.id, {"name": "toy"}).save(head)
    rows = "\n".join(json.dumps({"id": str(i), "text": f"Complaint {i}: the router drops the line. Support never calls back {i}."})
                     for i in range(12))
    ingest(db, [str(write("c.jsonl", rows))], IngestOptions(workers=0))
    seen = []
    analyze(db, encoder=enc, head_path=str(head), encoder_batch=5, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (12, 12)
    assert len(seen) > 3 and all(b[0] >= a[0] for a, b in zip(seen, seen[1:]))  # several moves in one 512-document batch
    assert any(0 < done < 12 for done, _ in seen)


# --- never "None" ----------------------------------------------------------------------


def test_date_span_never_shows_none():
    assert date_span("2026-06-01", "2026-08-23") == "2026-06-01 to 2026-08-23"
    assert date_span("2026-06-01", "2026-06-01") == "2026-06-01"
    assert date_span(None, None) == "no dated document"
    assert date_span(None, "2026-06-01") == "2026-06-01"


def test_backlog_item_of_undated_documents_shows_no_none():
    from miner.cli.format_backlog import item_lines

    item = {
        "id": "BL-3", "rank": 1, "priority": 50.0, "status": "open", "status_date": None, "title": "Refunds", "summary": "s",
        "explanation": "e", "breakdown": {}, "documents": 4, "segments": 4, "negative_share": None, "first_seen": None,
        "last_seen": None, "languages": {"en": 4}, "channels": {"chat": 4}, "trend": {}, "quotes": [],
        "impacts": {"nps": {"impact": None, "note": "too few scored responses"}},
    }
    text = "\n".join(item_lines(item))
    assert "None" not in text and "seen no dated document" in text and "Impact on NPS: n/a (too few scored responses)" in text


# --- wide characters and ids --------------------------------------------------------------

LABELS = ["Refund delays", "退款一直没到账的问题", "تأخیر در بازپرداخت وجه", "返金が遅い"]


def _starts(lines, marker):
    return {columns(line[: line.index(marker)]) for line in lines}


def test_trend_lines_align_whatever_the_script(db):
    from miner.cli.format_trends import trends_text
    from miner.trends.series import trends
    from tests.store_builder import StoreBuilder

    b = StoreBuilder(db)
    ids = [b.theme(label) for label in LABELS + ["x" * 60]]
    for day in ("2026-03-02", "2026-03-09"):
        for t in ids:
            b.doc(day, [t])
    lines = trends_text(trends(db, "theme", "week"), "volume", 20)[2:]
    assert len(lines) == 1 + len(ids)
    assert len(_starts(lines, "▁" if "▁" in lines[0] else "█")) == 1  # every sparkline starts in the same column
    assert any(f"[{ids[-1]}]" in line for line in lines)  # a cut label keeps its id


def test_emerging_lines_align(db):
    from miner.cli.format_trends import detect_text

    findings = [{"kind": "spike", "label": label, "key": i, "new": False, "growth": 1.0, "q_value": 0.01, "volume": 9,
                 "share": 0.1, "baseline_share": 0.05, "net_sentiment": -0.5} for i, label in enumerate(LABELS, start=7)]
    result = {"period": "2026-W10", "baseline_periods": ["w"] * 8, "granularity": "week", "dimension": "theme", "note": None,
              "settings": {"alpha": 0.05, "min_count": 5, "min_growth": 0.5}, "findings": findings, "flagged": findings}
    lines = detect_text(result)[1:]
    assert len(_starts(lines, " docs")) == 1


def test_touchpoint_sentiment_by_theme_shows_theme_ids():
    from miner.cli.format_touchpoints import sentiment_lines

    row = {"touchpoint": "billing", "segments": 5, "documents": 5, "neg": 3, "neu": 1, "pos": 1, "net": -0.4}
    rows = [row | {"group": 12, "label": "Refund delays"}, row | {"group": 40, "label": "Refund delays"},
            row | {"group": 7, "label": "退款一直没到账的问题"}]
    lines = sentiment_lines(rows, "theme")
    assert lines[0].split()[:3] == ["touchpoint", "id", "theme"]
    assert [line.split()[1] for line in lines[1:]] == ["12", "40", "7"]
    assert len(_starts(lines[1:], "     5")) == 1


def test_impact_by_theme_shows_theme_ids():
    from miner.cli.format_backlog import impact_lines

    imp = {"nps": {"impact": -3.2, "ci95": [-5.0, -1.4], "responses_with": 20}}
    r = {"scores": {"nps": {"figure": 10.0, "responses": 200, "sources": ["survey"]}},
         "rows": [{"key": 3, "label": "Refund delays", "documents": 20, "impacts": imp},
                  {"key": 11, "label": "Refund delays", "documents": 18, "impacts": imp},
                  {"key": 5, "label": "退款一直没到账的问题", "documents": 9, "impacts": {"nps": {"impact": None, "responses_with": 2}}}]}
    lines = impact_lines(r, "theme", 20)
    assert lines[1].split()[:2] == ["id", "theme"]
    assert [line.split()[0] for line in lines[2:]] == ["3", "11", "5"]
    cells = {columns(line[: re.search(r"  (?:[+-]\d|n/a)", line).start()]) for line in lines[2:]}
    assert len(cells) == 1  # the impact column starts in the same place on every row
    assert "None" not in "\n".join(lines)


def test_pad_to_never_cuts():
    assert pad_to("退款", 6) == "退款  " and pad_to("account-1234567890", 4) == "account-1234567890"
