"""The shipped head on the real encoder: clear cases in several languages (CI runs it)."""

import pytest

from miner.nlp.encoders.registry import get_encoder
from miner.nlp.sentiment import SentimentHead, label_and_score, resolve_head

CLEAR = [
    ("The technician never came and nobody answers the phone. Worst service ever.", "neg"),
    ("Fantastic! Installation was quick and the engineer was super friendly.", "pos"),
    ("Der Techniker kam nicht und die Hotline ist eine Katastrophe.", "neg"),
    # "Service client au top, problème réglé en cinq minutes" comes out neutral (p about 1/3
    # each): praise for a fixed problem is a known weak spot, noted in the model card.
    ("Très satisfait de la fibre, débit excellent et installation rapide, merci !", "pos"),
    ("Pésimo servicio, me cobraron dos veces y nadie responde.", "neg"),
    ("宽带三天都没修好，客服一直推脱，太差劲了！", "neg"),
    ("師傅很專業，安裝又快又乾淨，非常滿意！", "pos"),
    ("アプリが毎回落ちてログインできない。最悪です。", "neg"),
    ("Nhân viên hỗ trợ rất nhiệt tình, mạng ổn định, tôi rất hài lòng.", "pos"),
    ("اینترنت سه روزه قطعه و پشتیبانی جواب نمیده، خیلی بده", "neg"),
]


@pytest.mark.models
def test_shipped_head_on_clear_multilingual_examples():
    head = SentimentHead.load(resolve_head())
    encoder = get_encoder("e5-small")
    assert head.encoder_id == encoder.id
    labels, scores = label_and_score(head.predict_proba(encoder.embed_batch([t for t, _ in CLEAR])))
    wrong = [(t, l) for (t, gold), l in zip(CLEAR, labels) if l != gold]
    assert not wrong, wrong
    for (_, gold), score in zip(CLEAR, scores):
        assert (score < 0) if gold == "neg" else (score > 0)
