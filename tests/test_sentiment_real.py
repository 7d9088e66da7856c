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


DOCUMENTS = [
    # Written for this test before the opt-in head was run on them.
    ("The router had dropped twice before. Since the technician replaced it last week everything works perfectly, thank you!", "pos"),
    ("How do I change my plan to the cheaper one?", "neu"),
    ("I was charged twice this month. I called three times and nobody fixed it. Very disappointed.", "neg"),
    ("Die Rechnung ist seit zwei Monaten falsch und der Kundendienst antwortet nicht.", "neg"),
    ("配送很快，包装也很好，非常满意。", "pos"),
]


@pytest.mark.models
def test_opt_in_document_head_reads_documents():
    """The issue-16 head (`--head sentiment-e5-small-documents`): calibrated, with its document model."""
    from miner.nlp.sentiment_data import Example
    from miner.nlp.train_sentiment import document_predictions

    head = SentimentHead.load(resolve_head("sentiment-e5-small-documents"))
    assert head.document is not None and head.temperature != 1.0
    encoder = get_encoder("e5-small")
    examples = [Example(t, gold, "test", "und", "test") for t, gold in DOCUMENTS]
    results = document_predictions(head, encoder, None, examples)
    got = [r.label for r in results]
    assert got == [gold for _, gold in DOCUMENTS], got
    for r in results:
        assert abs(sum(r.proba) - 1.0) < 1e-3 and -1.0 <= r.score <= 1.0


@pytest.mark.models
def test_opt_in_complaints_head_reads_documents():
    """`--head sentiment-e5-small-complaints`: calibrated, with its document model and the class
    priors chosen for complaint data. Bound fixed before the head was run on these texts: at
    least 4 of the 5 documents right."""
    from miner.nlp.sentiment_data import Example
    from miner.nlp.train_sentiment import document_predictions

    head = SentimentHead.load(resolve_head("sentiment-e5-small-complaints"))
    assert head.document is not None and head.temperature != 1.0 and head.document.prior.any()
    encoder = get_encoder("e5-small")
    examples = [Example(t, gold, "test", "und", "test") for t, gold in DOCUMENTS]
    results = document_predictions(head, encoder, None, examples)
    right = sum(r.label == gold for r, (_, gold) in zip(results, DOCUMENTS))
    assert right >= 4, [r.label for r in results]
    for r in results:
        assert abs(sum(r.proba) - 1.0) < 1e-3 and -1.0 <= r.score <= 1.0
