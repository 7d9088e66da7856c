"""Document sentiment learned from segments (issue 16): contrast words, features, the model,
calibration, `mixed`, the rule kept as an option, and the team's questions and requests."""

import numpy as np
import pytest

from miner.nlp.sentiment import SentimentHead, document_input, document_sentiment
from miner.nlp.sentiment_data import LABELS, load_requests
from miner.nlp.sentiment_document import (
    N_FEATURES, any_negative, decide, features, fit_document_model, fit_temperature, is_question, opens_with_contrast, softmax,
)

NEG, NEU, POS = [0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.05, 0.05, 0.9]


@pytest.mark.parametrize(
    "text, lang",
    [
        ("But the bill was wrong again.", "en"),
        ("However, nobody called back.", "en"),
        ("Aber die Rechnung stimmt nicht.", "de"),
        ("Mais la facture est fausse.", "fr"),
        ("Pero nadie contesta.", "es"),
        ("Nhưng giao hàng quá chậm.", "vi"),
        ("اما پشتیبانی جواب نمیده.", "fa"),
        ("لكن خدمة العملاء سيئة.", "ar"),
        ("但是客服一直不回复。", "zh"),
        ("可是送貨太慢了。", "zh-Hant"),
        ("でも配達が遅すぎる。", "ja"),
        ("— but then it broke", "und"),
    ],
)
def test_contrast_words_open_a_segment_in_every_language(text, lang):
    assert opens_with_contrast(text, lang)


@pytest.mark.parametrize(
    "text, lang",
    [("Butter arrived melted.", "en"), ("The router works but slowly.", "en"), ("Abendessen war kalt.", "de"), ("客服很好。", "zh")],
)
def test_words_that_only_look_like_contrast_do_not(text, lang):
    assert not opens_with_contrast(text, lang)


def test_questions_in_several_scripts():
    assert is_question("How do I change my plan?")
    assert is_question("¿Puedo pagar en tres veces?")
    assert is_question("請問帳單的扣款日可以改嗎？")
    assert is_question("هل يعمل التطبيق خارج الدولة؟")
    assert not is_question("Thanks, all sorted.")


def test_features_are_fixed_length_and_see_order_and_contrast():
    doc = document_input(np.array([POS, NEG]), ["Great install.", "But I was billed twice."], ["en", "en"], np.array(NEG))
    f = features(doc)
    assert f.shape == (N_FEATURES,) and np.isfinite(f).all()
    reordered = features(document_input(np.array([NEG, POS]), ["I was billed twice.", "Great install."], ["en", "en"], np.array(NEG)))
    assert not np.allclose(f, reordered)  # first and last differ
    assert f[20] == 1.0 and reordered[20] == 0.0  # a contrast turn only in the first


def test_mixed_needs_both_a_clear_negative_and_a_clear_positive_segment():
    two = np.array([NEG, POS])
    assert decide(np.array([0.4, 0.2, 0.4]), two) == "mixed"
    assert decide(np.array([0.7, 0.1, 0.2]), two) == "neg"  # the document model is sure
    assert decide(np.array([0.35, 0.2, 0.45]), np.array([NEU, POS])) == "pos"  # no clearly negative segment
    assert decide(np.array([0.45, 0.1, 0.45]), np.array([NEG])) in ("neg", "pos")  # one segment is never mixed


def test_the_rule_any_negative_is_unchanged():
    assert any_negative(["pos", "neg", "neu"], [0.8, -0.9, 0.0], [20, 30, 10])[0] == "neg"
    assert any_negative(["neu", "pos"], [0.0, 0.7], [10, 10])[0] == "pos"
    assert any_negative([], [], []) == (None, None)


def synthetic_documents(n: int, seed: int = 0):
    """Documents whose label is their last segment's (a review's verdict comes last)."""
    rng = np.random.default_rng(seed)
    docs, y = [], []
    for _ in range(n):
        k = int(rng.integers(1, 5))
        seg = softmax(rng.normal(0, 2, size=(k, 3)))
        docs.append(document_input(seg, ["x" * 20] * k, ["en"] * k, seg.mean(axis=0)))
        y.append(int(seg[-1].argmax()))
    return docs, np.array(y)


def test_the_document_model_learns_what_decides_a_document():
    docs, y = synthetic_documents(600)
    model = fit_document_model(np.stack([features(d) for d in docs]), y, np.ones(len(y)), c=1.0)
    test_docs, test_y = synthetic_documents(300, seed=1)
    pred = model.predict_proba(np.stack([features(d) for d in test_docs])).argmax(axis=1)
    assert np.mean(pred == test_y) > 0.85


def test_temperature_undoes_overconfidence():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, size=(4000, 3))
    y = np.array([rng.choice(3, p=p) for p in softmax(logits)])  # calibrated at temperature 1
    assert fit_temperature(logits, y) == pytest.approx(1.0, abs=0.1)
    assert fit_temperature(logits * 3, y) == pytest.approx(3.0, rel=0.1)


def test_head_saves_its_document_model_and_temperature_without_pickle(tmp_path):
    docs, y = synthetic_documents(200)
    rng = np.random.default_rng(0)
    head = SentimentHead([(rng.normal(size=(8, 3)).astype(np.float32), np.zeros(3, np.float32))], "enc", {"temperature": 2.0})
    head.document = fit_document_model(np.stack([features(d) for d in docs]), y, np.ones(len(y)))
    head.document.temperature = 1.3
    head.save(tmp_path / "h.npz")
    back = SentimentHead.load(tmp_path / "h.npz")
    x = rng.normal(size=(5, 8)).astype(np.float32)
    assert back.temperature == 2.0 and np.allclose(back.predict_proba(x), head.predict_proba(x), atol=1e-6)
    assert not np.allclose(back.predict_proba(x), back.predict_proba(x, calibrated=False))
    a, b = document_sentiment(head, docs[:20]), document_sentiment(back, docs[:20])
    assert [r.label for r in a] == [r.label for r in b]
    for r in b:
        assert abs(sum(r.proba) - 1) < 1e-3 and r.score == pytest.approx(r.proba[2] - r.proba[0], abs=1e-3)
    with np.load(tmp_path / "h.npz", allow_pickle=False) as data:
        assert {"doc_w", "doc_b", "doc_mean", "doc_scale"} <= set(data.files)


def test_a_head_without_document_model_keeps_the_rule_and_reads_the_whole_text():
    head = SentimentHead([(np.eye(3, dtype=np.float32), np.zeros(3, np.float32))], "enc")
    doc = document_input(np.array([POS, NEG]), ["a", "b"], ["en", "en"], np.array(NEU))
    result = document_sentiment(head, [doc])[0]
    assert result.label == "neg" and result.proba == pytest.approx(NEU, abs=1e-3)


def test_the_teams_questions_and_requests():
    rows = load_requests()
    langs = {"en", "de", "fr", "es", "vi", "fa", "ar", "ja", "zh-Hans", "zh-Hant"}
    assert {e.lang for e in rows} == langs
    assert {e.label for e in rows} <= set(LABELS) and {e.split for e in rows} == {"train", "valid", "test"}
    for lang in langs:
        for split in ("train", "test"):
            labels = {e.label for e in rows if e.lang == lang and (e.split == split or (split == "train" and e.split == "valid"))}
            assert labels == {"neg", "neu", "pos"}, (lang, split)
    train = {e.text for e in rows if e.split != "test"}
    assert not train & {e.text for e in rows if e.split == "test"}


def test_class_priors_shift_the_document_probabilities_and_are_saved(tmp_path):
    docs, y = synthetic_documents(300)
    x = np.stack([features(d) for d in docs])
    head = SentimentHead([(np.eye(3, dtype=np.float32), np.zeros(3, np.float32))], "enc")
    head.document = fit_document_model(x, y, np.ones(len(y)))
    plain = head.document.predict_proba(x)
    head.document.prior = np.array([0.0, -1.0, -0.5])
    shifted = head.document.predict_proba(x)
    # Bayes' rule: the odds of neu against neg fall by e^-1, whatever the document
    assert np.allclose(np.log(shifted[:, 1] / shifted[:, 0]), np.log(plain[:, 1] / plain[:, 0]) - 1.0, atol=1e-6)
    assert shifted[:, 0].mean() > plain[:, 0].mean()
    head.save(tmp_path / "h.npz")
    back = SentimentHead.load(tmp_path / "h.npz")
    assert back.document.prior.tolist() == [0.0, -1.0, -0.5]
    assert np.allclose(back.document.predict_proba(x), shifted, atol=1e-5)
    assert np.allclose(back.document.predict_proba(x, np.zeros(3)), plain, atol=1e-5)
