"""Tests for miner.ingest.informative: non-answers in many languages, and real answers kept."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miner.errors import UsageError
from miner.ingest import informative
from miner.ingest.informative import is_informative, normalize_key

NON_ANSWERS = [
    # en
    "n/a", "N/A", "na", "N.A.", "none", "None.", "nothing", "Nothing!!", "nothinggg", "no comment",
    "No comments", "nothing to add", "ok", "OK!", "no", "Nooo", "nope", "idk", "don't know",
    "I don't know", "Not applicable", "Nothing, thanks!", "None so far.", "nothing else really",
    "Thanks!", "no no no",
    # zh simplified / traditional
    "不知道", "没有", "没有了", "暂时没有", "无", "無", "沒有意見", "没意见。", "谢谢",
    # ja, ko
    "特になし", "なし", "特にないです", "特にありません。", "わからない", "없음", "없어요",
    # vi, with and without diacritics
    "không có", "không", "ko có", "khong co", "Không có gì ạ.", "không có ý kiến !",
    # fa, ar (Arabic and Persian letter forms)
    "هیچی", "هیچ", "ندارم", "نظری ندارم", "هيچي", "لا شيء", "لا يوجد", "لا", "بدون تعليق",
    # es, de, fr, it, pt, nl, ru, tr, id, pl
    "nada", "ninguno", "sin comentarios", "No sé", "nichts", "keine", "k.A.", "K. A.", "Keine Ahnung",
    "rien", "aucun", "rien à signaler", "RAS", "nessuno", "niente", "nenhum", "não sei", "nao sei",
    "geen", "n.v.t.", "нет", "ничего", "Не знаю", "yok", "hiçbir şey", "tidak ada", "gak ada",
    "nic", "brak", "nie wiem",
]

SYMBOLS_AND_MASHING = [
    "", " ", "\n\t ", "-", ".", "...", ".....", "????", "?!", "12345", "10/10", "😀😀", "👍",
    "aaaa", "jjjj", "x", "asdf", "sdfghjkl", "qwerty", "asdasd", "asdasdasd", "jkjk", "hahaha",
    "Hahahaha", "ㅋㅋㅋ", "ههههه", "kkkkkk", "lol",
]

REAL_ANSWERS = [
    "no signal for three days",
    "nothing works",
    "Nothing arrived and nobody answers",
    "none of the buttons work",
    "不知道为什么扣费",
    "没有收到货",
    "無法登入",
    "贵",  # one CJK character can be an answer
    "好吃",
    "特になし、と言いたいが配送が遅い",
    "배송 느림",
    "không có ai trả lời",
    "chậm",
    "هیچ کس جواب نمی‌دهد",
    "لا يوجد رد من خدمة العملاء",
    "nada funciona",
    "keine Antwort vom Support",
    "rien ne marche depuis la mise à jour",
    "ok but the app crashes",
    "Terrible service",
    "were",  # neighbouring keys, but a word
    "tree",
    "5G drops every evening",
    "The price is too high",
    "why",
]


@pytest.mark.parametrize("text", NON_ANSWERS)
def test_non_answers(text: str) -> None:
    assert is_informative(text) is False


@pytest.mark.parametrize("text", SYMBOLS_AND_MASHING)
def test_symbols_repeats_and_mashing(text: str) -> None:
    assert is_informative(text) is False


@pytest.mark.parametrize("text", REAL_ANSWERS)
def test_real_answers_stay(text: str) -> None:
    assert is_informative(text) is True


def test_lang_hint_does_not_change_lists() -> None:
    assert is_informative("nada", "en") is False
    assert is_informative("nada funciona", "es") is True


def test_normalize_key() -> None:
    assert normalize_key("  N/A!! ") == "na"
    assert normalize_key("Nooooo") == "no"
    assert normalize_key("ＮＯ") == "no"  # full-width, NFKC
    assert normalize_key("هيچي") == normalize_key("هیچی")  # Arabic yeh -> Persian yeh


def test_huge_input_and_control_characters() -> None:
    assert is_informative("The delivery was late again. " * 10000) is True
    assert is_informative("." * 100000) is False
    assert is_informative("ha" * 5000) is False
    assert is_informative("\x00\x01nothing\x7f") is False
    assert is_informative("\ud800 nothing \udfff") is False
    assert is_informative("\ud800 the app crashes") is True


def test_mixed_scripts() -> None:
    assert is_informative("没有 nothing") is True  # not one listed phrase; kept
    assert is_informative("The hotel was fine. 早餐太差了") is True


def test_bad_yaml_is_a_usage_error(tmp_path, monkeypatch) -> None:
    bad = tmp_path / "noninformative.yaml"
    bad.write_text("phrases:\n  en:\n    - no\n", encoding="utf-8")  # unquoted: a boolean
    monkeypatch.setattr(informative, "model_file", lambda name: tmp_path / name)
    informative._lists.cache_clear()
    try:
        with pytest.raises(UsageError) as err:
            is_informative("hello there")
        assert err.value.code == "E270"
    finally:
        informative._lists.cache_clear()


def test_speed() -> None:
    answers = ["n/a", "nothing", "The app crashes on start", "不知道", "特になし", "không có", "هیچی", "asdf"]
    batch = answers * 2500
    is_informative("warm up")
    t0 = time.perf_counter()
    for t in batch:
        is_informative(t)
    rate = len(batch) / (time.perf_counter() - t0)
    assert rate > 20000  # measured ~300,000/s; loose for slow CI


ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()))  # surrogates included


@settings(max_examples=500, deadline=None)
@given(st.text() | ANY_TEXT)
def test_never_raises(text: str) -> None:
    assert isinstance(is_informative(text), bool)
    assert isinstance(is_informative(text, "zh"), bool)
