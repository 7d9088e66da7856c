"""The encoder contract, for every backend: a batch of texts in, L2-normalised float32 out."""

import numpy as np
import pytest

from miner.errors import UsageError
from miner.nlp.encoders import get_encoder

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
