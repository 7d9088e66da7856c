"""Tests for miner.ingest.segment: split points per script, non-splits, long and short pieces."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miner.ingest.segment import MAX_CHARS, Segment, segment


def texts(text: str, lang: str = "und") -> list[str]:
    segs = segment(text, lang)
    for i, s in enumerate(segs):  # the offset contract, checked everywhere
        assert s.index == i
        assert text[s.start:s.end] == s.text
        assert s.text == s.text.strip()
    return [s.text for s in segs]


def test_empty_and_whitespace() -> None:
    assert segment("") == []
    assert segment("   \n\t  \r\n") == []


def test_one_sentence_keeps_offsets() -> None:
    assert segment("  The app crashes on startup  ") == [Segment(0, "The app crashes on startup", 2, 28)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # en: ! ? and line breaks
            "I ordered a phone on Monday. It never arrived! Where is my parcel?\nNobody answers the phone.",
            ["I ordered a phone on Monday.", "It never arrived!", "Where is my parcel?", "Nobody answers the phone."],
        ),
        (  # runs of punctuation
            "This is the worst app ever!!! Why does it keep logging me out?! Fix it please.",
            ["This is the worst app ever!!!", "Why does it keep logging me out?!", "Fix it please."],
        ),
        (  # zh simplified, full-width punctuation
            "这个产品质量很差。客服也不回复！我要退款，怎么办？",
            ["这个产品质量很差。", "客服也不回复！", "我要退款，怎么办？"],
        ),
        (  # zh traditional with ASCII periods and no spaces
            "房間很乾淨,服務也不錯.但是早餐太差了.下次不會再來",
            ["房間很乾淨,服務也不錯.", "但是早餐太差了.", "下次不會再來"],
        ),
        (  # ja
            "この商品は最悪です。二度と買いません！返品したいです。",
            ["この商品は最悪です。", "二度と買いません！", "返品したいです。"],
        ),
        (  # fa: Persian question mark
            "غذا کاملا سرد رسید؟ بله خیلی سرد بود. دیگر سفارش نمی‌دهم",
            ["غذا کاملا سرد رسید؟", "بله خیلی سرد بود.", "دیگر سفارش نمی‌دهم"],
        ),
        (  # ar
            "التوصيل تأخر ثلاث ساعات؛ الطعام وصل باردا. لن أطلب مرة أخرى",
            ["التوصيل تأخر ثلاث ساعات؛", "الطعام وصل باردا.", "لن أطلب مرة أخرى"],
        ),
        (  # hi: danda
            "यह उत्पाद बहुत खराब है। मैं इसे वापस करना चाहता हूँ।",
            ["यह उत्पाद बहुत खराब है।", "मैं इसे वापस करना चाहता हूँ।"],
        ),
        (  # vi, tokenised and lowercased as in UIT-VSFC
            "slide giáo trình đầy đủ . nhiệt tình giảng dạy , gần gũi với sinh viên .",
            ["slide giáo trình đầy đủ .", "nhiệt tình giảng dạy , gần gũi với sinh viên ."],
        ),
        (
            "La aplicación no funciona desde ayer. ¿Alguien sabe por qué? Nadie responde.",
            ["La aplicación no funciona desde ayer.", "¿Alguien sabe por qué?", "Nadie responde."],
        ),
    ],
)
def test_split_points(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith and Dr. Jones from the U.S. office called me twice today",
        "Das ist z.B. ein Problem, d.h. die App stürzt ab und niemand hilft mir",
        "C'est un problème, p.ex. avec la connexion, qui dure depuis des semaines",
        "Version 5.0.1 costs 1.5 dollars more than the old one, which is silly",
        "Details on www.example.com/help?id=3 or write to support.team@example.com now",
        "Apples, pears, etc. and other fruit were missing from the delivery box",
        "I waited... and waited for the courier the whole afternoon for nothing",
        "The item No. 5 in my order was missing and the invoice was wrong",
        "J. R. R. Tolkien books arrived damaged and the box was wet inside",
    ],
)
def test_no_split(text: str) -> None:
    assert texts(text) == [text]


def test_ellipsis_before_uppercase_splits() -> None:
    assert texts("I waited three hours... Nobody came to fix the router.") == [
        "I waited three hours...",
        "Nobody came to fix the router.",
    ]


def test_german_ordinals() -> None:
    assert texts("Am 3. Mai habe ich bestellt. Bis heute kam nichts an.", "de") == [
        "Am 3. Mai habe ich bestellt.",
        "Bis heute kam nichts an.",
    ]


def test_short_fragments_are_merged() -> None:
    assert texts("Hi. I have been charged twice for the same order.") == [
        "Hi. I have been charged twice for the same order."
    ]
    assert texts("The card was blocked without any reason. Again!") == [
        "The card was blocked without any reason. Again!"
    ]
    assert texts("太差了。客服态度非常恶劣，再也不买了。") == ["太差了。客服态度非常恶劣，再也不买了。"]
    # list markers go with the item they number
    assert texts("Two problems:\n1. The app crashes on start.\n2. The login fails.") == [
        "Two problems:",
        "1. The app crashes on start.",
        "2. The login fails.",
    ]
    assert texts("Problem:\nThe card was blocked twice this week.") == [
        "Problem:\nThe card was blocked twice this week."
    ]
    assert texts("OK!") == ["OK!"]  # a text with nothing to merge into stays


def test_long_sentence_split_at_contrastive_conjunction() -> None:
    head = "The delivery was supposed to arrive on Monday and I stayed home the whole day " * 4
    text = head.strip() + ", but the worst part is that the agent blamed me for it"
    out = texts(text)
    assert len(out) >= 2
    assert out[-1].startswith("but the worst part")
    assert all(len(s) <= MAX_CHARS + 12 for s in out)


@pytest.mark.parametrize(
    ("sentence", "conj"),
    [
        ("我在周一下单了一部手机，等了整整一个星期都没有收到，物流信息一直显示在运输中" * 8 + "，但是客服一直不回复我的消息", "但是"),
        ("mình đặt hàng từ thứ hai mà đến giờ vẫn chưa nhận được, shop không trả lời tin nhắn " * 4 + ", nhưng vẫn trừ tiền", "nhưng"),
        ("غذا خیلی دیر رسید و کاملا سرد بود و پیک هم برخورد خوبی نداشت و بسته بندی هم خراب بود " * 4 + "، اما طعمش خوب بود", "اما"),
        ("Die Lieferung kam viel zu spät und das Paket war beschädigt und nass und verschmutzt " * 4 + ", aber der Support war nett", "aber"),
        ("La livraison est arrivée avec trois jours de retard et le colis était abîmé et mouillé " * 4 + ", mais le support était gentil", "mais"),
        ("El pedido llegó con tres días de retraso y la caja estaba rota y mojada por completo " * 4 + ", pero el soporte fue amable", "pero"),
    ],
)
def test_long_sentence_multilingual(sentence: str, conj: str) -> None:
    out = texts(sentence)
    assert any(s.startswith(conj) for s in out), out
    assert all(len(s) <= MAX_CHARS + 12 for s in out)


def test_no_absurdly_long_segment() -> None:
    for text in ["a" * 5000, "word " * 2000, "很好" * 3000, "one, two, three, four, " * 300]:
        out = texts(text)
        assert all(len(s) <= MAX_CHARS for s in out)
        assert "".join(out).replace(" ", "") == text.replace(" ", "")


def test_zero_width_only() -> None:
    assert segment("\u200b\ufeff ") == []


def test_control_characters_and_surrogates() -> None:
    text = "First part\x00 is here. Second\ud800 part is also here.\x0cThird one is here too."
    out = texts(text)
    assert len(out) == 3


def test_mixed_scripts() -> None:
    assert texts("The hotel was fine. 早餐太差了，服务员态度也不好。Overall not recommended.") == [
        "The hotel was fine.",
        "早餐太差了，服务员态度也不好。",
        "Overall not recommended.",
    ]


def test_speed() -> None:
    sample = [
        "I ordered a phone on Monday. It never arrived! Where is my parcel?",
        "这个产品质量很差。客服也不回复！",
        "غذا کاملا سرد رسید؟ دیگر سفارش نمی‌دهم",
        "Great app, works fine",
    ] * 1000
    t0 = time.perf_counter()
    for t in sample:
        segment(t)
    rate = len(sample) / (time.perf_counter() - t0)
    assert rate > 10000  # measured ~100,000/s on corpus texts; loose for slow CI


ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()))  # surrogates included


@settings(max_examples=300, deadline=None)
@given(st.text() | ANY_TEXT | st.text(alphabet=".!?。 \n…abcX1,但是but"))
def test_never_raises_and_offsets_exact(text: str) -> None:
    segs = segment(text)
    prev_end = 0
    for i, s in enumerate(segs):
        assert s.index == i
        assert text[s.start:s.end] == s.text
        assert s.text and s.text == s.text.strip()
        assert s.start >= prev_end
        prev_end = s.end
    # nothing visible is lost before the first segment (or at all, when there is none)
    head = text if not segs else text[: segs[0].start]
    assert all(ch.isspace() or ch in "\u200b\ufeff" for ch in head)
