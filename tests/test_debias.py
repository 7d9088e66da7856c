"""LanguageDebias: language identity removed on a synthetic set, unseen languages, storage, determinism."""

import io

import numpy as np
import pytest

from miner.themes.debias import LanguageDebias

D = 384


def synthetic(n_per_lang=300, langs=("zh", "fa", "en"), topics=6, seed=0, private_spread=0.0):
    """Shared topics + a per-language offset (+ optional per-language spread in a private subspace)."""
    rng = np.random.default_rng(seed)
    topic_dirs = rng.normal(size=(topics, D))
    X, L, T = [], [], []
    for li, lang in enumerate(langs):
        offset = rng.normal(size=D) * 0.6
        private = np.linalg.qr(rng.normal(size=(D, 8)))[0].T  # (8, D)
        t = np.arange(n_per_lang) % topics
        rows = topic_dirs[t] * 0.35 + offset + rng.normal(size=(n_per_lang, D)) * 0.05
        rows += (rng.normal(size=(n_per_lang, 8)) * private_spread) @ private
        X.append(rows)
        L += [lang] * n_per_lang
        T += list(t)
    X = np.vstack(X)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), L, np.array(T)


def own_language_share(Z, langs, k=10):
    lang = np.asarray(langs)
    S = Z @ Z.T
    np.fill_diagonal(S, -np.inf)
    nn = np.argsort(-S, axis=1)[:, :k]
    return float((lang[nn] == lang[:, None]).mean())


def same_topic_share(Z, topics, k=10):
    S = Z @ Z.T
    np.fill_diagonal(S, -np.inf)
    nn = np.argsort(-S, axis=1)[:, :k]
    return float((topics[nn] == topics[:, None]).mean())


@pytest.mark.parametrize("method", ["default", "center", "coral", "subspace", "inlp"])
def test_language_identity_reduced_and_topics_kept(method):
    X, langs, topics = synthetic()
    params = {"iterations": 4} if method == "inlp" else {}  # keeps the test fast
    deb = LanguageDebias() if method == "default" else LanguageDebias(method, **params)
    Z = deb.fit(X, langs).transform(X, langs)
    assert Z.dtype == np.float32 and Z.shape == X.shape
    assert np.allclose(np.linalg.norm(Z, axis=1), 1.0, atol=1e-5)
    assert own_language_share(Z, langs) < 0.75  # 1.0 before; chance is 1/3
    assert same_topic_share(Z, topics) > 0.95


def test_none_keeps_language_identity():
    X, langs, _ = synthetic()
    Z = LanguageDebias("none").fit(X, langs).transform(X, langs)
    assert own_language_share(Z, langs) > 0.95
    assert np.allclose(Z, X, atol=1e-6)


def test_default_beats_centring_on_private_subspaces():
    # Centring removes the offset, not the language-specific spread (as on real e5 vectors).
    X, langs, topics = synthetic(private_spread=0.3)
    centred = LanguageDebias("center").fit(X, langs).transform(X, langs)
    default = LanguageDebias().fit(X, langs).transform(X, langs)
    assert own_language_share(centred, langs) > 0.8
    assert own_language_share(default, langs) < 0.6
    assert same_topic_share(default, topics) > 0.95


def test_unseen_and_rare_languages_fall_back_to_global():
    X, langs, _ = synthetic()
    langs = list(langs)
    langs[:5] = ["ja"] * 5  # too rare for own statistics
    deb = LanguageDebias().fit(X, langs)
    assert "ja" not in deb.langs and {"zh", "fa", "en"} <= set(deb.langs)
    Z = deb.transform(X[:10], ["vi"] * 10)  # never seen
    assert Z.shape == (10, D) and np.isfinite(Z).all()
    assert np.allclose(np.linalg.norm(Z, axis=1), 1.0, atol=1e-5)
    # rare and unseen languages are treated alike
    assert np.array_equal(deb.transform(X[:5], ["ja"] * 5), deb.transform(X[:5], ["und"] * 5))


@pytest.mark.parametrize("method", ["none", "center", "standardize", "coral", "subspace", "inlp", "coral+inlp"])
def test_round_trip_through_npz(method):
    X, langs, _ = synthetic(n_per_lang=120)
    deb = LanguageDebias(method).fit(X, langs)
    buf = io.BytesIO()
    np.savez(buf, **deb.to_arrays())
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as data:
        back = LanguageDebias.from_arrays({k: data[k] for k in data.files})
    probe_langs = list(langs[:50]) + ["xx"] * 10
    assert np.array_equal(deb.transform(X[:60], probe_langs), back.transform(X[:60], probe_langs))


def test_deterministic_and_order_independent_statistics():
    X, langs, _ = synthetic(n_per_lang=200)
    a = LanguageDebias().fit(X, langs).transform(X, langs)
    b = LanguageDebias().fit(X, langs).transform(X, langs)
    assert np.array_equal(a, b)
    perm = np.random.default_rng(1).permutation(len(X))
    c = LanguageDebias().fit(X[perm], [langs[i] for i in perm]).transform(X, langs)
    assert np.allclose(a, c, atol=1e-4)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        LanguageDebias("magic")


def test_round_trip_with_no_language_large_enough():
    # Every language under min_count: no per-language statistics, still storable and loadable.
    X = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    d = LanguageDebias().fit(X, ["en", "de", "fr", "en", "zh"])
    again = LanguageDebias.from_arrays(d.to_arrays())
    assert np.array_equal(d.transform(X, ["en"] * 5), again.transform(X, ["en"] * 5))
