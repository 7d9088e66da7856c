"""Tests for miner.ingest.language: script rules, model languages, segments, robustness."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miner.ingest.language import LangResult, detect, detect_segments


@pytest.mark.parametrize(
    ("text", "lang", "script"),
    [
        # Chinese: simplified vs traditional from cedict's script-only characters
        ("这个产品的质量很差，客服也不回复。", "zh", "Hans"),
        ("這個產品的品質很差，客服也不回覆。", "zh", "Hant"),
        ("外卖送得很快，味道不错", "zh", "Hans"),
        ("房間很乾淨，服務人員態度親切", "zh", "Hant"),
        ("好吃好吃", "zh", "Hani"),  # nothing that tells the two apart
        # Japanese: any real share of kana
        ("このアプリは最悪です。すぐに落ちます。", "ja", "Jpan"),
        ("配送が遅すぎる", "ja", "Jpan"),
        ("배송이 너무 늦어요", "ko", "Kore"),
        ("สินค้าไม่ดีเลย", "th", "Thai"),
        ("המוצר לא טוב בכלל", "he", "Hebr"),
        ("यह उत्पाद बहुत खराब है", "hi", "Deva"),
        # Arabic script: marker letters
        ("این محصول خیلی بد بود و پشتیبانی جواب نداد", "fa", "Arab"),
        ("غذا سرد بود و دیر رسید", "fa", "Arab"),
        ("هذا المنتج سيء جدا ولم يرد الدعم", "ar", "Arab"),
        ("الخدمة سيئة والتوصيل متأخر", "ar", "Arab"),
        ("یہ پروڈکٹ بہت خراب ہے اور سپورٹ نے جواب نہیں دیا", "ur", "Arab"),
        # Cyrillic / Greek
        ("Это ужасный сервис, ничего не работает", "ru", "Cyrl"),
        ("Η υπηρεσία είναι απαίσια", "el", "Grek"),
        # Latin: the model
        ("The app keeps crashing every time I open it", "en", "Latn"),
        ("La aplicación no funciona desde la actualización", "es", "Latn"),
        ("Die App stürzt ständig ab, sehr ärgerlich", "de", "Latn"),
        ("L'application plante tout le temps depuis la mise à jour", "fr", "Latn"),
        ("Il servizio clienti non risponde mai", "it", "Latn"),
        ("O aplicativo não funciona e o suporte não responde", "pt", "Latn"),
        ("Sản phẩm này rất tệ, giao hàng chậm", "vi", "Latn"),
        # Vietnamese typed without diacritics
        ("san pham nay rat te, giao hang cham", "vi", "Latn"),
        ("khong co gi de noi", "vi", "Latn"),
        ("giang vien nhiet tinh, day de hieu", "vi", "Latn"),
    ],
)
def test_languages(text: str, lang: str, script: str) -> None:
    res = detect(text)
    assert (res.lang, res.script) == (lang, script), res
    assert 0.0 < res.confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "I waited two weeks and the card never arrived",
        "How do I change my PIN",
        "This is not what I ordered and nobody answers",
        "Can I top up by bank transfer",
    ],
)
def test_english_is_not_mistaken_for_vietnamese(text: str) -> None:
    assert detect(text).lang == "en"


def test_noise_does_not_decide() -> None:
    # English hashtags and handles on an Arabic tweet must not make it Latin
    res = detect("@user صرخات ألم ودم وما من مجيب #Aleppo #Syria #PutinAssadCrimes http://t.co/x")
    assert (res.lang, res.script) == ("ar", "Arab")
    assert detect("#ServiceFail the delivery was late again https://example.com/x?y=1").lang == "en"


def test_no_letters_and_too_short() -> None:
    for text in ["", "   ", "\n\t", "12345 !!!", "😀😀😀", "@user http://x.com", "---"]:
        assert detect(text) == LangResult("und", "Zyyy", 0.0), text
    assert detect("ok") == LangResult("und", "Latn", 0.0)
    assert detect("好").lang == "und"  # one CJK character counts as two letters
    assert detect("不错").lang == "zh"


def test_mixed_scripts_dominant_wins() -> None:
    assert detect("I love 北京 so much, the food was great").lang == "en"
    res = detect("Great hotel. 酒店很好但是早餐太差了，服务员态度也不好。")
    assert (res.lang, res.script) == ("zh", "Hans")
    assert res.confidence < 0.95  # part of the text is not Chinese


def test_low_model_score_keeps_label_with_low_confidence() -> None:
    res = detect("hello world")
    assert res.lang == "en" and res.confidence < 0.5


def test_control_characters_surrogates_and_huge_input() -> None:
    assert detect("\x00\x01 the delivery was late again \x7f").lang == "en"
    assert detect("\ud800 la livraison était en retard \udfff").lang == "fr"
    huge = "Der Kundendienst antwortet nicht. " * 20000
    t0 = time.perf_counter()
    assert detect(huge).lang == "de"
    assert time.perf_counter() - t0 < 0.5  # only the head is looked at


def test_detect_segments_mixed_document() -> None:
    segments = [
        "The delivery took three weeks and the box was damaged.",
        "Thanks!",
        "您好，我们已经联系快递公司，很抱歉给您带来不便。",
        "好的",
    ]
    doc = detect(" ".join(segments))
    out = detect_segments(segments, doc)
    assert len(out) == len(segments)
    assert out[0].lang == "en"
    assert out[1] == doc  # short: inherits
    assert (out[2].lang, out[2].script) == ("zh", "Hans")
    assert out[3] == doc


def test_detect_segments_hani_takes_document_script() -> None:
    doc = LangResult("zh", "Hant", 0.95)
    out = detect_segments(["好吃好吃好吃好吃好吃好吃好吃"], doc)
    assert (out[0].lang, out[0].script) == ("zh", "Hant")


def test_detect_segments_empty() -> None:
    assert detect_segments([], LangResult("en", "Latn", 0.9)) == []


def test_speed_short_texts() -> None:
    texts = [
        "The app keeps crashing every time I open it",
        "La aplicación no funciona desde la actualización",
        "外卖送得很快，味道不错",
        "این محصول خیلی بد بود",
        "Die App stürzt ständig ab",
        "配送が遅すぎる",
    ] * 500
    texts = [f"{t} {i}" for i, t in enumerate(texts)]  # unique: measure work, not the cache
    detect("warm up")
    t0 = time.perf_counter()
    for t in texts:
        detect(t)
    rate = len(texts) / (time.perf_counter() - t0)
    assert rate > 5000  # measured ~25,000/s; loose bound for slow CI machines


# every code point, lone surrogates included
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=()))


@settings(max_examples=300, deadline=None)
@given(st.text() | ANY_TEXT)
def test_never_raises(text: str) -> None:
    res = detect(text)
    assert isinstance(res, LangResult)
    assert 0.0 <= res.confidence <= 1.0
    assert res.lang and res.script


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=5))
def test_segments_never_raise(texts: list[str]) -> None:
    assert len(detect_segments(texts, detect(" ".join(texts)))) == len(texts)


def test_persian_in_arabic_letters_from_legacy_code_pages():
    # Windows-1256 pages write Persian with Arabic yeh and kaf (ي ك).
    text = "از وقتي اپليکيشن رو به نسخه ۵.۰ آپديت کردم نمي‌تونم وارد حسابم بشم. پيامکي نمياد و پشتيباني جواب نمي‌ده."
    assert detect(text).lang == "fa"
    assert detect("الخدمة سيئة جدا والشبكة مقطوعة منذ يومين ولا أحد يرد على الهاتف").lang == "ar"
