"""Tests for miner.ingest.html on the demo complaint pages and on broken HTML."""

from __future__ import annotations

import json
import socket
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miner.ingest import html as html_mod
from miner.ingest.clean import clean_text
from miner.ingest.html import extract_main_text
from miner.paths import demo_corpus_dir

PAGES = demo_corpus_dir() / "pages"
# What a person extracts from each page (text, date, labels): the reference for extraction.
LABELS = Path(__file__).resolve().parent.parent / "corpora" / "demo" / "page_extractions.jsonl"

# How each page is saved (decoding is another module's job; here we know the answer).
CODECS = {
    "page_zh_hans": "gb18030",
    "page_zh_hant_pinyin": "big5",
    "page_fa": "cp1256",
    "page_fr": "cp1252",
    "page_en_mixed": "utf-8",
    "page_de": "utf-8",
}

# Noise that must be gone after extract_main_text + clean_text (compared after NFKC).
NOISE = {
    "page_zh_hans": ["登录", "注册", "当前位置", "分享到", "微博", "版权所有", "ICP备", "请文明发言", "广告",
                     "北京|上海", "NovaLink怎么投诉", "百家乐", "娱乐城", "加微信", "相关投诉"],
    "page_zh_hant_pinyin": ["(guāng)", "(lù)", "(de)", "(jiàn)", "(yì)", "xì", "登入", "註冊", "首頁 >", "分享到",
                            "複製連結", "檢舉", "All Rights Reserved", "版權所有", "文明發言", "台北|新北",
                            "裸聊", "成人直播", "廣告"],
    "page_fa": ["کوکی", "ورود |", "خانه »", "اشتراک", "تلگرام", "حقوق", "محفوظ", "در حال ترجمه",
                "نظرات پس از", "تهران|مشهد", "خرید فالوور", "شرط بندی", "کازینو"],
    "page_fr": ["cookies", "Connexion", "S'inscrire", "Accueil ›", "Partager", "Tous droits réservés",
                "Traduction en cours", "modérés", "Rencontres coquines", "Casino en ligne", "Paris | Lyon",
                "Publicité"],
    "page_en_mixed": ["We use cookies", "Log in", "Sign up", "Home ›", "Share on Facebook", "Tweet",
                      "All rights reserved", "Comments are moderated", "Translating", "See translation",
                      "Was this review helpful", "Replies (3)", "Sponsored", "cheap broadband", "HOT SINGLES"],
    "page_de": ["Cookies", "Anmelden", "Registrieren", "Startseite ›", "Teilen", "Alle Rechte vorbehalten",
                "moderiert", "Viagra", "Cialis", "Casino", "Freispiele", "DSL Vergleich", "Berlin | Hamburg",
                "Zitieren", "Anzeige"],
}

# Replies that must be kept (include_comments), NFKC-normalised on comparison.
REPLIES = {
    "page_zh_hans": ["您反映的重复扣费问题已登记", "我7月也被多扣了一次"],
    "page_zh_hant_pinyin": ["我家的NovaBox也是這樣", "建議你直接打去消保會申訴"],
    "page_fa": ["مشکل دريافت کد تاييد در نسخه 5.0 شناسايي شده"],
    "page_fr": ["Écrivez directement au service consommateurs"],
    "page_en_mixed": ["Please send us your order number", "我在曼彻斯特也是一模一样，师傅约了三次都没来"],
    "page_de": ["Bei mir in Köln exakt dasselbe Bild"],
}

TITLES = {
    "page_zh_hans": "NovaLink宽带7月起擅自涨价",
    "page_zh_hant_pinyin": "NovaBox路由器一直重開機",
    "page_fa": "NovaLink",
    "page_fr": "Résiliation NovaLink",
    "page_en_mixed": "Three missed installs",
    "page_de": "jeden Abend Abbrüche",
}

TOPICS = {
    "misleading_ad", "website_checkout", "delivery_late", "delivery_damaged", "install_no_show", "install_poor",
    "connection_drops", "router_faulty", "app_login", "billing_double_charge", "billing_price_increase",
    "refund_delay", "callcenter_wait", "callcenter_unhelpful", "repair_slow", "cancel_difficult", "praise",
    "suggestion", "noninformative",
}
TOUCHPOINTS = {"advertising", "website", "purchase", "delivery", "installation", "use", "app", "call_center",
               "billing", "repair", "cancellation", ""}


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def load_labels() -> dict[str, dict]:
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row["id"]: row for row in rows}


def read_page(stem: str) -> str:
    return (PAGES / f"{stem}.html").read_bytes().decode(CODECS[stem])


@pytest.fixture(scope="module")
def processed() -> dict[str, tuple[str, dict, str, dict]]:
    out = {}
    for stem in CODECS:
        raw, meta = extract_main_text(read_page(stem))
        text, counts = clean_text(raw)
        out[stem] = (raw, meta, text, counts)
    return out


# --------------------------------------------------------------------------- the demo pages


def test_pages_exist_in_their_encodings():
    for stem, codec in CODECS.items():
        data = (PAGES / f"{stem}.html").read_bytes()
        data.decode(codec)  # strict: the page really is in that codec
        if codec != "utf-8":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")
    zh = (PAGES / "page_zh_hans.html").read_bytes()
    assert b'<meta charset="gb2312">' in zh
    assert b"charset" not in (PAGES / "page_zh_hant_pinyin.html").read_bytes().lower()
    assert b"charset" not in (PAGES / "page_fr.html").read_bytes().lower()
    assert b"windows-1256" in (PAGES / "page_fa.html").read_bytes()
    assert b'dir="rtl"' in (PAGES / "page_fa.html").read_bytes()


@pytest.mark.parametrize("stem", list(CODECS))
def test_page_complaint_is_extracted_whole(stem, processed):
    _, _, text, _ = processed[stem]
    label = load_labels()[f"page-{stem}"]
    lines = text.split("\n")
    for para in label["text"].split("\n"):
        assert nfkc(para) in lines, f"missing paragraph: {para[:40]}"


@pytest.mark.parametrize("stem", list(CODECS))
def test_page_noise_is_gone(stem, processed):
    _, _, text, counts = processed[stem]
    for noise in NOISE[stem]:
        assert nfkc(noise) not in text, f"noise left: {noise}"
    assert counts["spam"] >= 1  # every page hides spam inside or next to the content


@pytest.mark.parametrize("stem", list(CODECS))
def test_page_replies_are_kept(stem, processed):
    _, _, text, _ = processed[stem]
    for reply in REPLIES[stem]:
        assert nfkc(reply) in text


@pytest.mark.parametrize("stem", list(CODECS))
def test_page_metadata(stem, processed):
    _, meta, _, _ = processed[stem]
    label = load_labels()[f"page-{stem}"]
    assert set(meta) == {"title", "date"}
    assert TITLES[stem] in meta["title"]
    assert meta["date"] == label["created_at"]


def test_pinyin_page_paragraphs_stay_separate(processed):
    raw, _, text, _ = processed["page_zh_hant_pinyin"]
    # layout table unwrapped: no "| cell | cell |" row, one line per paragraph
    assert "\\|" not in raw
    assert any(line.startswith("上個月剛換NovaLink光纖") for line in text.split("\n"))
    assert "寬頻大家談" not in text


def test_persian_zwnj_survives_extraction(processed):
    raw, _, text, _ = processed["page_fa"]
    assert "نمي\u200cتونم" in raw
    assert "نمي\u200cتونم" in text
    assert "\U00011ff0" not in raw  # the stand-in used through trafilatura is restored


def test_mixed_language_page_keeps_both_languages(processed):
    _, _, text, counts = processed["page_en_mixed"]
    assert "I want to share this so nobody else falls for" in text  # "share" inside a sentence stays
    assert "真的无语" in text
    assert counts["mt_placeholder"] >= 1


def test_extraction_needs_no_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    text, meta = extract_main_text(read_page("page_de"))
    assert "Warteschleife" in text and meta["date"] == "2026-09-28"


# --------------------------------------------------------------------------- labels file


def test_labels_file():
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [r["id"] for r in rows] == [f"page-{stem}" for stem in CODECS]
    keys = {"id", "lang", "channel", "created_at", "score", "product", "text", "topics", "touchpoints", "sentiment"}
    for r in rows:
        assert set(r) == keys
        assert r["channel"] == "complaint_site" and r["score"] is None
        assert r["lang"] in {"en", "de", "fr", "es", "vi", "fa", "ja", "zh-Hans", "zh-Hant"}
        assert r["product"] in {"fibre", "mobile", "novabox", "app"}
        assert r["sentiment"] in {"neg", "neu", "pos"}
        assert "2026-03-01" <= r["created_at"] <= "2026-10-31"
        assert len(r["topics"]) == len(r["touchpoints"]) >= 1
        assert set(r["topics"]) <= TOPICS and set(r["touchpoints"]) <= TOUCHPOINTS
        if "app_login" in r["topics"]:
            assert r["created_at"] > "2026-08-25"


# --------------------------------------------------------------------------- fallback and broken input


def test_fallback_when_trafilatura_finds_nothing(monkeypatch):
    monkeypatch.setattr(html_mod.trafilatura, "bare_extraction", lambda *a, **k: None)
    page = """<html><head><title>Router dead</title><style>p{color:red}</style>
    <script>var x = "script text";</script></head>
    <body><div>Router dead after 3 weeks.</div><p>Support never called back.<br>Still waiting.</p>
    <!-- a comment --><noscript>enable js</noscript></body></html>"""
    text, meta = extract_main_text(page)
    assert text == "Router dead after 3 weeks.\nSupport never called back.\nStill waiting."
    assert meta == {"title": "Router dead", "date": None}


def test_fallback_when_trafilatura_raises(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("internal failure")

    monkeypatch.setattr(html_mod.trafilatura, "bare_extraction", boom)
    text, meta = extract_main_text("<html><body><h1>Title</h1><p>Body text here</p></body></html>")
    assert text == "Title\nBody text here"
    assert meta["title"] == "Title"


def test_short_page():
    text, _ = extract_main_text("<html><body><p>My NovaBox overheats every night.</p></body></html>")
    assert text == "My NovaBox overheats every night."


@pytest.mark.parametrize(
    "page",
    [
        "",
        "   ",
        "<",
        "<<<>>>",
        "<html",
        "</p></div></body>",
        "<html><body></body></html>",
        "<html><head><title></title></head></html>",
        "<script>only script</script>",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>hi</p></body></html>",
        "\x00\x01<p>nul</p>",
        "<p>\ud800 lone surrogate</p>",
        "<p>unclosed <b>bold <i>italic",
        "<table><tr><td><table><tr><td><p>nested",
        "<div>" * 5000 + "deep" + "</div>" * 5000,
        "plain text, no tags at all",
        "<!-- only a comment -->",
        "<![CDATA[ x ]]>",
        "<html><body>" + "<p>Router keeps rebooting and nobody helps.</p>" * 20000 + "</body></html>",
    ],
)
def test_broken_html_never_raises(page):
    text, meta = extract_main_text(page)
    assert isinstance(text, str)
    assert set(meta) == {"title", "date"}


def test_hopeless_input_returns_empty():
    for page in ["", "   ", "<html><body></body></html>", "<!-- only a comment -->"]:
        assert extract_main_text(page)[0] == ""
    assert extract_main_text(None) == ("", {"title": None, "date": None})  # type: ignore[arg-type]
    assert extract_main_text(b"<p>bytes</p>") == ("", {"title": None, "date": None})  # type: ignore[arg-type]


def test_plain_text_input_is_returned():
    text, _ = extract_main_text("plain text, no tags at all")
    assert text == "plain text, no tags at all"


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_never_raises_on_arbitrary_text(text):
    out, meta = extract_main_text(text)
    assert isinstance(out, str) and set(meta) == {"title", "date"}


_TAGS = st.sampled_from(["<p>", "</p>", "<div class='comment'>", "</div>", "<table><tr><td>", "</td></tr></table>",
                         "<br>", "<script>", "</script>", "<title>", "</title>", "<h1>", "</h1>", "&nbsp;", "&#1740;",
                         "<time datetime='2026-05-01'>", "</time>", "<", ">", "&", "\u200c"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_TAGS, st.text(max_size=30)), max_size=40).map("".join))
def test_never_raises_on_html_like_text(page):
    out, meta = extract_main_text(page)
    assert isinstance(out, str)
    assert meta["date"] is None or len(meta["date"]) == 10
