"""The hf: encoder, through the real loading path, on a tiny BERT built and saved here (offline, fast)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from miner.errors import UsageError
from miner.nlp.cache import EmbeddingCache, embed_texts
from miner.nlp.encoders.registry import get_encoder
from miner.nlp.encoders.hf import TransformersEncoder

WORDS = (
    "the cat dog sat on mat refund delivery late broken app crash bad good service "
    "el la envío tarde roto der die paket kaputt le colis cassé giao hàng trễ "
    "پول برگشت تحویل دیر استرداد التوصيل متأخر "
    "我 的 包 裹 没 有 到 貨 還 沒 配 達 が 遅 い です"
).split()
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(WORDS), "##s", "##ed"]

TEXTS = [
    "the cat sat on the mat",  # en
    "refund delivery late",  # en
    "el envío llegó tarde y roto",  # es
    "das Paket ist kaputt",  # de
    "le colis est cassé",  # fr
    "giao hàng trễ",  # vi
    "پول برگشت تحویل دیر",  # fa
    "التوصيل متأخر",  # ar
    "我的包裹没有到",  # zh-Hans
    "包裹還沒到貨",  # zh-Hant
    "配達が遅いです",  # ja
    "app crash 我 cat التوصيل",  # mixed scripts
]


def build_model(folder, seed: int = 0) -> None:
    """A 2-layer, 32-dim BERT with a small multilingual vocab, saved as safetensors."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(str(vocab_file))  # positional: the vocab file in v4 and v5
    assert tokenizer.tokenize("the cat") == ["the", "cat"]  # the vocab really loaded (no [UNK])
    config = transformers.BertConfig(
        vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512,
    )
    torch.manual_seed(seed)
    transformers.BertModel(config).save_pretrained(str(folder))  # safetensors: the default, the only format in v5
    tokenizer.save_pretrained(str(folder))


def write_st_layout(folder, pooling: dict, extra_modules: list | None = None) -> None:
    """A sentence-transformers layout written by hand: Transformer at the root, then Pooling (+ Normalize)."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        *(extra_modules or []),
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 32, **pooling}))
    (folder / "2_Normalize").mkdir(exist_ok=True)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hf") / "tiny-bert"
    build_model(folder)
    return folder


@pytest.fixture(scope="module")
def enc(model_dir):
    return get_encoder(f"hf:{model_dir}")


def reference(folder, text: str, pooling: str = "mean") -> np.ndarray:
    """The expected vector, computed straight from transformers for one unpadded text."""
    tok = transformers.AutoTokenizer.from_pretrained(str(folder))
    model = transformers.AutoModel.from_pretrained(str(folder)).eval()
    with torch.inference_mode():
        hidden = model(**tok([text], return_tensors="pt")).last_hidden_state[0]
    pools = {"cls": lambda: hidden[0], "max": lambda: hidden.max(0).values, "lasttoken": lambda: hidden[-1]}
    vec = pools.get(pooling, lambda: hidden.mean(0))()
    vec = vec.numpy()
    return vec / np.linalg.norm(vec)


def test_contract_shape_dtype_norm(enc, model_dir):
    assert isinstance(enc, TransformersEncoder)
    assert enc.dim == 32 and enc.pooling == "mean"
    assert re.fullmatch(r"hf/tiny-bert-[0-9a-f]{12}", enc.id)
    out = enc.embed_batch(TEXTS)
    assert out.shape == (len(TEXTS), 32) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(out).all()


def test_mean_pooling_matches_transformers(enc, model_dir):
    for text in ("the cat sat on the mat", "配達が遅いです", "التوصيل متأخر"):
        np.testing.assert_allclose(enc.embed_batch([text])[0], reference(model_dir, text), atol=1e-5)


def test_deterministic_across_calls_and_loads(enc, model_dir):
    again = get_encoder(f"hf:{model_dir}", threads=1)
    assert again.id == enc.id
    np.testing.assert_array_equal(enc.embed_batch(TEXTS), enc.embed_batch(TEXTS))
    np.testing.assert_allclose(again.embed_batch(TEXTS), enc.embed_batch(TEXTS), atol=1e-6)


def test_different_texts_differ(enc):
    out = enc.embed_batch(TEXTS)
    sims = out @ out.T
    off_diagonal = sims[~np.eye(len(TEXTS), dtype=bool)]
    assert off_diagonal.max() < 0.9999
    assert len({row.tobytes() for row in out}) == len(TEXTS)


def test_batch_composition_does_not_leak(enc, model_dir):
    """Padding to a longer neighbour, or splitting into sub-batches, must not move a vector."""
    alone = np.vstack([enc.embed_batch([t]) for t in TEXTS])
    long_neighbour = "the cat sat on the mat " * 40
    together = enc.embed_batch([*TEXTS, long_neighbour])[: len(TEXTS)]
    np.testing.assert_allclose(together, alone, atol=1e-5)
    small = TransformersEncoder(str(model_dir), batch_size=3)  # 12 texts -> 4 batches, reordered by length
    np.testing.assert_allclose(small.embed_batch(TEXTS[::-1]), alone[::-1], atol=1e-5)
    assert small.id == enc.id  # batching is not part of the vectors' identity


def test_empty_list(enc):
    out = enc.embed_batch([])
    assert out.shape == (0, 32) and out.dtype == np.float32


@pytest.mark.parametrize(
    "text",
    ["", "   \t\n ", "a\x00b\x07c\x1b[0m", "bad \ud800 surrogate", "🙂" * 50, "x" * 5000, "the cat " * 20000],
    ids=["empty", "whitespace", "control", "lone-surrogate", "emoji", "one-long-word", "huge"],
)
def test_edge_cases(enc, text):
    out = enc.embed_batch([text, "the cat"])
    assert out.shape == (2, 32) and np.isfinite(out).all()
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_truncation_at_max_length(model_dir):
    short = TransformersEncoder(str(model_dir), max_length=6)
    assert short.id.endswith(":len6") and short.max_length == 6
    a, b = short.embed_batch(["the cat sat on mat refund delivery", "the cat sat on mat app crash bad"])
    np.testing.assert_allclose(a, b, atol=1e-6)  # only [CLS] + 4 tokens + [SEP] are seen


def test_prefix_changes_id_and_vectors(enc, model_dir):
    prefixed = TransformersEncoder(str(model_dir), prefix="cat ")
    assert prefixed.id == enc.id + ":cat "
    np.testing.assert_allclose(prefixed.embed_batch(["sat"])[0], enc.embed_batch(["cat sat"])[0], atol=1e-5)


def test_id_changes_when_weights_change(model_dir, tmp_path):
    folder = tmp_path / "tiny-bert"
    shutil.copytree(model_dir, folder)
    first = get_encoder(f"hf:{folder}")
    assert first.id == get_encoder(f"hf:{model_dir}").id  # same name, same bytes, same id
    build_model(folder, seed=1)  # "retrained" in place
    second = get_encoder(f"hf:{folder}")
    assert second.id != first.id and second.id.startswith("hf/tiny-bert-")
    assert not np.allclose(first.embed_batch(["the cat"]), second.embed_batch(["the cat"]))


def test_missing_model_is_e703(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in (str(tmp_path / "nope"), "no-such-org/no-such-model", "./relative/missing"):
        with pytest.raises(UsageError) as err:
            get_encoder(f"hf:{name}")
        assert err.value.code == "E703" and "could not be found locally" in err.value.message
        assert "\n" not in str(err.value) and "config.json" in str(err.value)


def test_hub_id_from_the_cache(monkeypatch, tmp_path, model_dir, enc):
    """A hub id already in the Hugging Face cache loads offline; its id names the commit."""
    huggingface_hub = pytest.importorskip("huggingface_hub")
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--acme--tiny-bert"
    shutil.copytree(model_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub = get_encoder("hf:acme/tiny-bert")
    assert hub.id == "hf/acme/tiny-bert@0123456789ab"
    np.testing.assert_allclose(hub.embed_batch(TEXTS), enc.embed_batch(TEXTS), atol=1e-6)
    with pytest.raises(UsageError, match="E703|could not be found"):
        get_encoder("hf:acme/not-cached")


def test_folder_without_config_or_safetensors_is_e703(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no config.json") as err:
        TransformersEncoder(str(tmp_path / "empty"))
    assert err.value.code == "E703"
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(UsageError, match="safetensors") as err:
        TransformersEncoder(str(pickled))
    assert err.value.code == "E703"


def test_sentence_transformers_cls_pooling(model_dir, tmp_path, enc):
    folder = tmp_path / "tiny-bert"
    shutil.copytree(model_dir, folder)
    write_st_layout(folder, {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    cls = get_encoder(f"hf:{folder}")
    assert cls.pooling == "cls" and cls.id != enc.id  # pooling is part of the id
    for text in ("the cat sat on the mat", "我的包裹没有到"):
        np.testing.assert_allclose(cls.embed_batch([text])[0], reference(folder, text, "cls"), atol=1e-5)
    assert not np.allclose(cls.embed_batch(TEXTS), enc.embed_batch(TEXTS), atol=1e-3)
    # padding must not leak into CLS either
    np.testing.assert_allclose(cls.embed_batch(TEXTS), np.vstack([cls.embed_batch([t]) for t in TEXTS]), atol=1e-5)


def test_sentence_transformers_max_lasttoken_and_mean_modes(model_dir, tmp_path, enc):
    folder = tmp_path / "tiny-bert"
    shutil.copytree(model_dir, folder)
    write_st_layout(folder, {"pooling_mode": "max"})
    mx = TransformersEncoder(str(folder))
    assert mx.pooling == "max"
    np.testing.assert_allclose(mx.embed_batch(["giao hàng trễ"])[0], reference(folder, "giao hàng trễ", "max"), atol=1e-5)
    write_st_layout(folder, {"pooling_mode_lasttoken": True})
    last = TransformersEncoder(str(folder))
    assert last.pooling == "lasttoken" and len({mx.id, last.id}) == 2
    for text in ("配達が遅いです", "the cat"):  # padded next to a longer text: the last *real* token
        np.testing.assert_allclose(last.embed_batch([text, TEXTS[0] * 3])[0], reference(folder, text, "lasttoken"), atol=1e-5)
    write_st_layout(folder, {"pooling_mode_mean_sqrt_len_tokens": True})  # same direction as mean
    sq = TransformersEncoder(str(folder))
    assert sq.pooling == "mean"
    np.testing.assert_allclose(sq.embed_batch(TEXTS), enc.embed_batch(TEXTS), atol=1e-5)


def test_sentence_transformers_unsupported_is_refused(model_dir, tmp_path):
    folder = tmp_path / "tiny-bert"
    shutil.copytree(model_dir, folder)
    write_st_layout(folder, {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": True})
    with pytest.raises(UsageError) as err:
        TransformersEncoder(str(folder))
    assert err.value.code == "E705"
    dense = {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"}
    write_st_layout(folder, {"pooling_mode_cls_token": True}, [dense])
    with pytest.raises(UsageError, match="Dense") as err:
        TransformersEncoder(str(folder))
    assert err.value.code == "E705"


def test_through_embedding_cache(enc):
    cache = EmbeddingCache(sqlite_utils.Database(memory=True))
    calls = []
    real = enc.embed_batch

    class Counting:
        id, dim = enc.id, enc.dim

        def embed_batch(self, texts):
            calls.append(len(texts))
            return real(texts)

    texts = [*TEXTS, TEXTS[0], TEXTS[3]]  # duplicates are embedded once
    first, stats = embed_texts(Counting(), texts, cache, batch_size=5)
    assert stats.embedded == len(TEXTS) and sum(calls) == len(TEXTS) and cache.count(enc.id) == len(TEXTS)
    np.testing.assert_allclose(first, enc.embed_batch(texts), atol=1e-5)
    calls.clear()
    second, stats = embed_texts(Counting(), texts, cache)
    assert calls == [] and stats.encoder_calls == 0 and stats.cached == len(TEXTS)
    np.testing.assert_array_equal(first, second)


def test_import_is_cheap():
    code = "import sys, miner.nlp.encoders.hf, miner.nlp.encoders.registry; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=200), max_size=5))
def test_never_raises_on_arbitrary_text(enc, texts):
    out = enc.embed_batch(texts)
    assert out.shape == (len(texts), 32) and np.isfinite(out).all()
