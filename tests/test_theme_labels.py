"""Theme labels in the reader's language: the concept lexicon (shipped files, a user's file and
its validation), the label language, the concept space (scores, projection, arrays), the
shipped phrase vectors, and `label_themes` (best concept, distinct labels, English fallback,
confidence, kind). Synthetic vectors and hand-made lexicons, no model (except one test marked
`models` on the real e5 encoder)."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest
import yaml

from miner.arrays import pack_arrays, unpack_arrays
from miner.errors import InputError, UsageError
from miner.nlp.cache import EmbeddingCache, text_hash
from miner.nlp.encoders.base import E5_ID, normalise_rows
from miner.nlp.textprep import encoder_input
from miner.paths import model_file
from miner.store import open_db
from miner.concepts.space import SHIPPED_VECTORS, ConceptSpace, phrase_vectors, shipped_vectors
from miner.themes.labels import PRAISE_SHARE, WEAK_BELOW, ThemeLabel, label_themes, theme_kind
from miner.concepts.lexicon import (
    KINDS,
    MAX_BYTES,
    MAX_PHRASE,
    Lexicon,
    label_language,
    language_key,
    lexicon_digest,
    load_lexicon,
    normalise_language,
)

SHIPPED_LANGUAGES = ["ar", "de", "en", "es", "fa", "fr", "it", "ja", "ko", "pt", "ru", "vi", "zh-Hans", "zh-Hant"]
E5_QUERY_ID = E5_ID + ":query"


@pytest.fixture(scope="module")
def shipped():
    return load_lexicon()


def user_file(tmp_path, text: str | bytes, name: str = "mine.yaml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


# -- the shipped lexicon ---------------------------------------------------------------------------
def test_shipped_lexicon_has_every_concept_in_every_language(shipped):
    assert len(shipped.concepts) >= 200 and len(set(shipped.concepts)) == len(shipped.concepts)
    assert shipped.languages == SHIPPED_LANGUAGES
    assert set(shipped.kinds.values()) <= set(KINDS)
    assert {"complaint", "praise"} <= set(shipped.kinds.values())  # praise gets themes of its own
    for lang in shipped.languages:
        phrases = shipped.phrases[lang]
        assert set(phrases) == set(shipped.concepts), lang  # none missing in any language
        for concept, texts in phrases.items():
            assert len(texts) >= 3, (lang, concept)  # a label and examples
            assert all(t.strip() and len(t) <= MAX_PHRASE for t in texts), (lang, concept)
        labels = [texts[0] for texts in phrases.values()]
        assert len(set(labels)) == len(labels), lang  # two concepts with one name would name two themes alike
    for concept in shipped.concepts:
        assert shipped.label(concept, "en"), concept


def test_shipped_language_files_name_only_known_concepts():
    # load_lexicon drops ids concepts.yaml lacks: a typo in a language file would vanish silently.
    folder = model_file("concepts")
    known = set(yaml.safe_load((folder / "concepts.yaml").read_text(encoding="utf-8"))["concepts"])
    files = sorted(glob.glob(str(folder / "*.yaml")))
    assert len(files) == len(SHIPPED_LANGUAGES) + 1
    for path in files:
        if path.endswith("concepts.yaml"):
            continue
        doc = yaml.safe_load(open(path, encoding="utf-8"))
        assert doc.get("language", os.path.basename(path)[:-5]) == os.path.basename(path)[:-5], path
        assert set(doc["concepts"]) == known, (path, set(doc["concepts"]) ^ known)


def test_shipped_vectors_cover_every_shipped_phrase(shipped):
    """Whoever edits the lexicon must run scripts/build_concept_vectors.py: else every run of the
    default encoder embeds the missing phrases (minutes on two cores)."""
    with np.load(model_file("concepts") / SHIPPED_VECTORS, allow_pickle=False) as z:
        assert str(z["encoder"]) == E5_QUERY_ID
        hashes = set(z["hashes"].tolist())
        assert z["q"].dtype == np.int8 and z["q"].shape == (len(z["hashes"]), 384)
        assert z["scale"].shape == (len(z["hashes"]),)
    wanted = {text_hash(encoder_input(text)) for _, _, text in shipped.items()}
    assert not wanted - hashes, f"{len(wanted - hashes)} shipped phrases have no vector: run scripts/build_concept_vectors.py"
    vectors = shipped_vectors(E5_QUERY_ID)
    sample = np.stack([vectors[h] for h in sorted(wanted)[:50]])
    np.testing.assert_allclose(np.linalg.norm(sample, axis=1), 1.0, atol=1e-5)
    assert shipped_vectors("fake-32") == {}  # another encoder's vectors are never taken for these


# -- a user's lexicon ------------------------------------------------------------------------------
def test_user_file_adds_a_concept_and_a_language(tmp_path, shipped):
    path = user_file(tmp_path, """
concepts:
  kitchen_too_small:
    kind: complaint
    en: ["Kitchen too small", "there is no room to cook in the kitchen"]
    nl: ["Keuken te klein", "je kunt je nauwelijks omdraaien in de keuken"]
  refund_not_received:
    nl: ["Terugbetaling niet ontvangen", "ik wacht nog steeds op mijn geld"]
""")
    lex = load_lexicon(path)
    assert lex.concepts == shipped.concepts + ["kitchen_too_small"]
    assert lex.kinds["kitchen_too_small"] == "complaint"
    assert lex.languages == sorted(SHIPPED_LANGUAGES + ["nl"])
    assert label_language("nl", lex) == "nl"  # a new language is a valid --label-lang
    with pytest.raises(UsageError, match="E816"):
        label_language("nl", shipped)
    assert lex.label("kitchen_too_small", "nl") == "Keuken te klein"
    assert lex.label("refund_not_received", "nl") == "Terugbetaling niet ontvangen"
    assert lex.label("refund_not_received", "en") == shipped.label("refund_not_received", "en")  # untouched
    assert lex.label("kitchen_too_small", "de") is None
    items = lex.items()
    assert len(items) == len(shipped.items()) + 6
    index = lex.concepts.index("kitchen_too_small")
    assert (index, "nl", "Keuken te klein") in items and (index, "en", "Kitchen too small") in items
    assert lex.sha256 != shipped.sha256 and lex.sources[-1] == str(path)


def test_user_label_replaces_the_shipped_one_and_examples_add(tmp_path, shipped):
    shipped_de = shipped.phrases["de"]["delivery_late"]
    path = user_file(tmp_path, """
concepts:
  delivery_late:
    kind: venting
    de: ["Lieferung zu spät", "schon wieder warte ich auf das Paket"]
""")
    lex = load_lexicon(path)
    assert lex.label("delivery_late", "de") == "Lieferung zu spät"
    assert lex.phrases["de"]["delivery_late"] == ["Lieferung zu spät", *shipped_de[1:], "schon wieder warte ich auf das Paket"]
    assert lex.kinds["delivery_late"] == "venting"
    assert lex.concepts == shipped.concepts  # not a new concept
    assert shipped.label("delivery_late", "de") == shipped_de[0]  # loading again starts from the shipped files


def test_user_file_phrases_are_whitespace_normalised(tmp_path):
    path = user_file(tmp_path, 'concepts:\n  odd_spacing:\n    kind: request\n    en: ["  Dark   mode\\tplease ", "add a\\n dark theme"]\n')
    assert load_lexicon(path).phrases["en"]["odd_spacing"] == ["Dark mode please", "add a dark theme"]


def test_user_phrases_under_zh_are_simplified_chinese(tmp_path):
    # `zh` means Simplified Chinese for --label-lang; the same holds in a user's file, or its
    # phrases would sit under a language no document and no label language ever uses.
    path = user_file(tmp_path, 'concepts:\n  kitchen_too_small:\n    kind: complaint\n    en: ["Kitchen too small"]\n'
                               '    zh: ["厨房太小", "厨房里根本转不开身"]\n    ZH-hant: ["廚房太小"]\n')
    lex = load_lexicon(path)
    assert lex.languages == SHIPPED_LANGUAGES
    assert lex.label("kitchen_too_small", label_language("zh", lex)) == "厨房太小"
    assert lex.label("kitchen_too_small", label_language("zh-Hant", lex)) == "廚房太小"


BAD_FILES = [
    # (content, line, words in the message)
    ("- a\n- b\n", 1, "must be a mapping"),
    ("", 1, "must be a mapping"),
    ("just text\n", 1, "must be a mapping"),
    ("concept:\n  x: {kind: complaint, en: [a]}\n", 1, "unknown key 'concept'"),
    ("concepts:\n  x: {kind: complaint, en: [a]}\nlanguages: [en]\n", 3, "unknown key 'languages'"),
    ("concepts:\n  x: {kind: complaint, en: [a]}\nconcepts:\n  y: {kind: complaint, en: [b]}\n", 3, "appears twice"),
    ("concepts:\n", 1, "must map concept ids"),
    ("concepts: [a, b]\n", 1, "must map concept ids"),
    ("concepts:\n  a_new_one:\n    en: [Label, example]\n", 2, "needs a kind"),
    ("concepts:\n  x:\n    kind: rant\n    en: [a]\n", 3, "kind must be one of"),
    ("concepts:\n  x:\n    kind: [complaint]\n    en: [a]\n", 3, "kind must be one of"),
    ("concepts:\n  x: [Label, example]\n", 2, "must be a mapping of kind and languages"),
    ("concepts:\n  x:\n", 2, "must be a mapping of kind and languages"),
    ("concepts:\n  x:\n    kind: complaint\n    en: just a label\n", 4, "must be a list"),
    ("concepts:\n  x:\n    kind: complaint\n    en: []\n", 4, "must be a list"),
    ("concepts:\n  x:\n    kind: complaint\n    en:\n      - Label\n      - '   '\n", 6, "non-empty text"),
    ("concepts:\n  x:\n    kind: complaint\n    en:\n      - Label\n      - [nested]\n", 6, "non-empty text"),
    ("concepts:\n  x:\n    kind: complaint\n    en:\n      - Label\n      - {a: b}\n", 6, "non-empty text"),
    (f"concepts:\n  x:\n    kind: complaint\n    en:\n      - Label\n      - {'y' * (MAX_PHRASE + 1)}\n", 6, f"more than {MAX_PHRASE}"),
    ("concepts:\n  x:\n\tkind: complaint\n", 3, "not valid YAML"),
    ("concepts:\n  x: [a, b\n", 3, "not valid YAML"),
]


@pytest.mark.parametrize("content,line,words", BAD_FILES, ids=[f"{i}:{w[:20]}" for i, (_, _, w) in enumerate(BAD_FILES)])
def test_bad_user_file_names_file_and_line(tmp_path, content, line, words):
    path = user_file(tmp_path, content)
    with pytest.raises(InputError) as info:
        load_lexicon(path)
    assert info.value.code == "E817"
    assert info.value.message.startswith(f"mine.yaml:{line}:"), info.value.message
    assert words in info.value.message


def test_a_phrase_of_exactly_the_limit_is_fine(tmp_path):
    path = user_file(tmp_path, f"concepts:\n  x:\n    kind: complaint\n    en: [Label, {'y' * MAX_PHRASE}]\n")
    assert load_lexicon(path).phrases["en"]["x"][1] == "y" * MAX_PHRASE


def test_unreadable_user_files(tmp_path):
    cases = [
        (user_file(tmp_path, b"concepts:\n  x:\n    kind: complaint\n    en: [\xff\xfe]\n", "latin.yaml"), "not UTF-8"),
        (tmp_path / "missing.yaml", "cannot read"),
        (tmp_path, "cannot read"),  # a folder
        (user_file(tmp_path, b"#" * (MAX_BYTES + 1), "huge.yaml"), "larger than"),
    ]
    for path, words in cases:
        with pytest.raises(InputError) as info:
            load_lexicon(path)
        assert info.value.code == "E817" and words in info.value.message, (path, info.value.message)


def test_yaml_tags_are_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    path = user_file(tmp_path, f'concepts:\n  x:\n    kind: complaint\n    en: !!python/object/apply:os.system ["touch {marker}"]\n')
    lex = load_lexicon(path)  # composed node by node, never constructed: the tag is inert text
    assert not marker.exists()
    assert lex.label("x", "en") == f"touch {marker}"


def test_aliases_do_not_blow_up(tmp_path):
    # A "billion laughs" of anchors: composing shares nodes, it never expands them.
    lines = ["concepts:", "  x:", "    kind: complaint", "    en: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        lines.append(f"    l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    with pytest.raises(InputError, match="E817"):  # a list of lists is not a list of phrases
        load_lexicon(user_file(tmp_path, "\n".join(lines) + "\n"))


def test_lexicon_digest_follows_the_user_file(tmp_path):
    path = user_file(tmp_path, "concepts:\n  x:\n    kind: complaint\n    en: [a]\n")
    first = lexicon_digest(path)
    assert lexicon_digest(path) == first and lexicon_digest() != first
    path.write_text("concepts:\n  x:\n    kind: complaint\n    en: [b]\n", encoding="utf-8")
    assert lexicon_digest(path) != first
    assert lexicon_digest(tmp_path / "gone.yaml") != lexicon_digest()  # a missing file is a change, not a crash


# -- the label language ---------------------------------------------------------------------------
def test_label_language(shipped):
    assert label_language("zh", shipped) == "zh-Hans"
    assert label_language("ZH-hant", shipped) == "zh-Hant"
    assert label_language("zh-TW", shipped) == "zh-Hant"
    assert label_language(" DE ", shipped) == "de"
    assert label_language("pt-BR", shipped) == "pt"
    for bad in ("xx", "", "english"):
        with pytest.raises(UsageError) as info:
            label_language(bad, shipped)
        assert info.value.code == "E816" and info.value.exit_code == 2
        assert "de, en, es" in info.value.hint and "zh-Hant" in info.value.hint
    assert normalise_language("zh-cn") == "zh-Hans" and normalise_language("xx") == "xx"


def test_language_key():
    assert language_key("zh", "Hant") == "zh-Hant"
    assert language_key("zh", "Hans") == "zh-Hans" and language_key("zh") == "zh-Hans"
    assert language_key("de", "Latn") == "de" and language_key(None) == "und"


# -- the concept space ----------------------------------------------------------------------------
CONCEPTS = ["refund", "late", "rude"]
D = 24


def synthetic_space(seed=0, langs=("de", "en"), absent=()):
    """A lexicon of three concepts in `langs` (`absent`: (lang, concept) pairs left out) and
    vectors = concept direction + a strong language direction + noise."""
    rng = np.random.default_rng(seed)
    concept_dir = {c: rng.standard_normal(D) for c in CONCEPTS}
    lang_dir = {lang: 1.5 * rng.standard_normal(D) for lang in ("de", "en", "fr")}
    phrases = {lang: {c: [f"{c}-{lang}-{i}" for i in range(4)] for c in CONCEPTS if (lang, c) not in absent} for lang in langs}
    lex = Lexicon(list(CONCEPTS), {c: "complaint" for c in CONCEPTS}, phrases)
    items = lex.items()
    V = np.stack([concept_dir[CONCEPTS[c]] + lang_dir[lang] + 0.3 * rng.standard_normal(D) for c, lang, _ in items])
    space = ConceptSpace.build(lex, normalise_rows(V.astype(np.float32)))

    def doc(concept, lang, noise=0.3):
        return normalise_rows((concept_dir[concept] + lang_dir[lang] + noise * rng.standard_normal(D))[None].astype(np.float32))[0]

    return lex, space, doc


def test_scores_find_the_concept_in_the_documents_language():
    lex, space, doc = synthetic_space()
    X = np.stack([doc(c, lang) for lang in ("de", "en") for c in CONCEPTS for _ in range(3)])
    langs = [lang for lang in ("de", "en") for c in CONCEPTS for _ in range(3)]
    want = [CONCEPTS.index(c) for _ in ("de", "en") for c in CONCEPTS for _ in range(3)]
    S = space.scores(X, langs, {})
    assert S.shape == (18, 3) and S.dtype == np.float32
    assert S.argmax(axis=1).tolist() == want


def test_scores_for_a_language_the_lexicon_lacks_go_through_the_neutral_centroids():
    lex, space, doc = synthetic_space()
    assert "fr" not in space.langs
    X = np.stack([doc(c, "fr") for c in CONCEPTS for _ in range(4)])
    want = [CONCEPTS.index(c) for c in CONCEPTS for _ in range(4)]
    assert space.scores(X, ["fr"] * len(X), {}).argmax(axis=1).tolist() == want
    # The French mean from the whole store (data_means) is used when given: a lone French
    # document centred on itself would be all zeros.
    one = X[:1]
    with_mean = space.scores(one, ["fr"], {"fr": X.mean(axis=0)})
    assert with_mean.argmax() == 0


def test_a_concept_without_phrases_in_a_language_gives_no_evidence_there():
    lex, space, doc = synthetic_space(absent={("de", "rude")})
    assert space.present[space.langs.index("de")].tolist() == [True, True, False]
    S = space.scores(np.stack([doc("rude", "de"), doc("rude", "en")]), ["de", "en"], {})
    assert S[0, 2] == 0.0  # nothing to compare a German document with: zero, not a guess
    assert S[1].argmax() == 2


def test_projection_shape_and_alignment():
    lex, space, doc = synthetic_space()
    assert space.proj.shape == (D, len(CONCEPTS) - 1)
    Z = normalise_rows(np.random.default_rng(1).standard_normal((5, D)).astype(np.float32))
    P = space.project(Z)
    assert P.shape == (5, D + len(CONCEPTS) - 1)
    np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1.0, atol=1e-5)
    # The discriminant directions tell concepts apart across languages: language-centred phrases
    # of one concept in German and English land together.
    items = lex.items()
    k = space.proj.shape[1]
    centred = {}
    for lang in ("de", "en"):
        li = space.langs.index(lang)
        M = space.means[li] - space.lang_means[li]
        centred[lang] = normalise_rows((M @ space.proj).astype(np.float32))
    S = centred["de"] @ centred["en"].T
    assert S.argmax(axis=1).tolist() == [0, 1, 2] and k == 2
    assert len(items) == 2 * 3 * 4


def test_one_language_has_no_projection():
    lex, space, doc = synthetic_space(langs=("en",))
    assert space.proj.shape == (D, 0)
    Z = normalise_rows(np.ones((2, D), np.float32))
    assert np.array_equal(space.project(Z), Z)


def test_concept_space_arrays_round_trip_without_pickle():
    lex, space, doc = synthetic_space()
    arrays = space.to_arrays()
    assert all(a.dtype != object for a in arrays.values())
    blob = pack_arrays(arrays)
    back = ConceptSpace.from_arrays(unpack_arrays(blob))  # np.load(allow_pickle=False) inside
    assert (back.concepts, back.kinds, back.langs) == (space.concepts, space.kinds, space.langs)
    for name in ("present", "lang_means", "neutral", "proj", "ref"):
        assert np.array_equal(getattr(back, name), getattr(space, name)), name
    np.testing.assert_allclose(back.means, space.means, atol=2e-3)  # stored as float16
    assert back.means.dtype == np.float32
    X = np.stack([doc(c, "de") for c in CONCEPTS])
    assert np.array_equal(back.scores(X, ["de"] * 3, {}).argmax(axis=1), space.scores(X, ["de"] * 3, {}).argmax(axis=1))
    again = ConceptSpace.from_arrays(unpack_arrays(pack_arrays(back.to_arrays())))
    assert np.array_equal(again.means, back.means)  # a second round trip is exact


# -- phrase vectors: shipped for the default encoder, else embedded once ---------------------------
class E5Stub:
    """Has the default encoder's id; embeds only what it is allowed to, and says what it was asked."""

    id = E5_QUERY_ID
    dim = 384

    def __init__(self, allowed=()):
        self.allowed = set(allowed)
        self.asked: list[list[str]] = []

    def embed_batch(self, texts):
        self.asked.append(list(texts))
        unexpected = set(texts) - self.allowed
        if unexpected:
            raise AssertionError(f"asked to embed shipped phrases: {sorted(unexpected)[:3]}")
        rng = np.random.default_rng(len(self.asked))
        return normalise_rows(rng.standard_normal((len(texts), self.dim)).astype(np.float32))


def test_shipped_phrases_are_never_embedded_for_the_default_encoder(shipped):
    encoder = E5Stub()
    V = phrase_vectors(shipped, encoder, None)
    assert encoder.asked == []
    items = shipped.items()
    assert V.shape == (len(items), 384) and V.dtype == np.float32
    known = shipped_vectors(E5_QUERY_ID)
    for row in (0, len(items) // 2, len(items) - 1):
        assert np.array_equal(V[row], known[text_hash(encoder_input(items[row][2]))])


def test_only_a_users_new_phrases_are_embedded_once(tmp_path, shipped):
    refund_en = shipped.phrases["en"]["refund_not_received"][1]  # a shipped text, repeated by the user
    path = user_file(tmp_path, f'concepts:\n  kitchen_too_small:\n    kind: complaint\n    en: ["Kitchen too small", "{refund_en}"]\n'
                               '    nl: ["Keuken te klein", "de keuken is 3 m2"]\n')
    lex = load_lexicon(path)
    new = sorted(encoder_input(t) for t in ("Kitchen too small", "Keuken te klein", "de keuken is 3 m2"))
    encoder = E5Stub(allowed=new)
    cache = EmbeddingCache(open_db(":memory:"))
    V = phrase_vectors(lex, encoder, cache)
    assert sorted(t for batch in encoder.asked for t in batch) == new and len(encoder.asked) == 1
    assert V.shape == (len(lex.items()), 384)
    again = E5Stub()  # a second run finds them in the store's cache: nothing is embedded
    assert np.array_equal(phrase_vectors(lex, again, cache), V) and again.asked == []


def test_another_encoder_embeds_the_lexicon_through_the_cache():
    from miner.nlp.encoders.fake import FakeEncoder

    lex = Lexicon(["a", "b"], {"a": "complaint", "b": "praise"}, {"en": {"a": ["Late", "late again"], "b": ["Great", "late again"]}})
    encoder = FakeEncoder(16)
    V = phrase_vectors(lex, encoder, EmbeddingCache(open_db(":memory:")))
    assert V.shape == (4, 16) and encoder.calls == 1
    assert np.array_equal(V[1], V[3])  # one text, one vector
    assert phrase_vectors(Lexicon([], {}, {}), encoder, None).shape == (0, 16)


# -- labels ---------------------------------------------------------------------------------------
LEX = Lexicon(
    concepts=["refund", "late", "rude", "great", "ask", "mystery_thing"],
    kinds={"refund": "complaint", "late": "complaint", "rude": "complaint", "great": "praise", "ask": "request",
           "mystery_thing": "venting"},
    phrases={
        "en": {"refund": ["Refund not received"], "late": ["Late delivery"], "rude": ["Rude staff"], "great": ["Great service"],
               "ask": ["Feature request"]},
        "de": {"refund": ["Rückerstattung nicht erhalten"], "late": ["Verspätete Lieferung"], "great": ["Toller Service"],
               "ask": ["Funktionswunsch"]},
    },
)
C = LEX.concepts


def rows(*means, n=4, seed=0):
    """n documents per theme; each row: the theme's concept scores plus small noise."""
    rng = np.random.default_rng(seed)
    S, theme = [], []
    for t, m in enumerate(means):
        for _ in range(n):
            S.append(np.asarray(m, np.float32) + 0.01 * rng.standard_normal(len(C)))
            theme.append(t)
    return np.asarray(S, np.float32), np.asarray(theme)


def test_the_best_concept_names_the_theme_in_the_label_language():
    S, theme = rows([0, 3, 1, 0, 0, 0], [2, 0, 0, 0, 1, 0])
    en = label_themes(S, theme, LEX, C, "en")
    assert en[0] == ThemeLabel("Late delivery", "en", 1.0, "late", "complaint")
    assert en[1].label == "Refund not received" and en[1].concept == "refund"
    de = label_themes(S, theme, LEX, C, "de")
    assert (de[0].label, de[0].lang) == ("Verspätete Lieferung", "de")
    assert de[1].label == "Rückerstattung nicht erhalten"


def test_a_concept_without_the_label_language_falls_back_to_english():
    S, theme = rows([0, 0, 3, 0, 0, 0], [0, 0, 0, 0, 0, 3])
    de = label_themes(S, theme, LEX, C, "de")
    assert de[0].label == "Rude staff" and de[0].concept == "rude"  # no German phrase: English
    assert de[1].label == "mystery thing"  # no phrase at all: the id, readable


def test_labels_are_distinct_largest_theme_first():
    # Themes 0 (2 docs) and 1 (6 docs) both speak most of "late"; the larger keeps it, the
    # smaller takes its next best concept, which scores more than half as well.
    S0, t0 = rows([0, 3, 2, 0, 0, 0], n=2)
    S1, t1 = rows([0, 3, 0, 0, 0, 0], n=6, seed=1)
    S, theme = np.vstack([S0, S1]), np.concatenate([t0, t1 + 1])
    out = label_themes(S, theme, LEX, C, "en")
    assert out[1].concept == "late" and out[0].concept == "rude"
    assert out[0].label == "Rude staff"


def test_no_good_alternative_keeps_the_name_with_a_number():
    S, theme = rows([0, 3, 1, 0, 0, 0], [0, 3, 1.4, 0, 0, 0], [0, 3, 1.2, 0, 0, 0])
    out = label_themes(S, theme, LEX, C, "en")
    # "rude" scores under half of "late" in each: no alternative; the first keeps the plain name.
    assert [out[t].label for t in (0, 1, 2)] == ["Late delivery", "Late delivery (2)", "Late delivery (3)"]
    assert all(out[t].concept == "late" for t in (0, 1, 2))
    assert len({lab.label for lab in out.values()}) == 3


def test_a_taken_concept_is_avoided():
    S, theme = rows([0, 3, 2, 0, 0, 0])
    out = label_themes(S, theme, LEX, C, "en", taken={"late"})
    assert out[0].concept == "rude"
    out = label_themes(S, theme, LEX, C, "en", taken={"late", "rude"})
    assert out[0].label == "Late delivery (2)"


def test_outlier_rows_are_ignored():
    S, theme = rows([0, 3, 0, 0, 0, 0], [3, 0, 0, 0, 0, 0])
    theme = np.where(theme == 1, -1, theme)  # the "refund" documents have no theme
    out = label_themes(S, theme, LEX, C, "en")
    assert list(out) == [0] and out[0].concept == "late" and out[0].confidence == 1.0
    assert label_themes(np.zeros((0, len(C)), np.float32), np.zeros(0, int), LEX, C, "en") == {}


def test_confidence_is_the_share_of_documents_with_the_concept_in_their_top_three():
    S = np.array([
        [0, 5, 4, 3, 0, 0],  # late in top 3
        [0, 5, 4, 3, 0, 0],
        [0, 5, 4, 3, 0, 0],
        [6, 0.5, 1, 3, 5, 0],  # late is 6th: not in its top 3
    ], np.float32)
    out = label_themes(S, np.zeros(4, int), LEX, C, "en")
    assert out[0].concept == "late" and out[0].confidence == 0.75 and not out[0].weak
    S = np.array([[0, 30, 0, 0, 0, 0]] + [[5, 1, 4, 3, 0, 0]] * 4, np.float32)  # one loud document makes "late" win
    out = label_themes(S, np.zeros(5, int), LEX, C, "en")
    assert out[0].concept == "late" and out[0].confidence == 0.2 and out[0].weak and 0.2 < WEAK_BELOW


def test_theme_kind_from_the_documents_sentiment():
    assert theme_kind("complaint", None) == "complaint"
    assert theme_kind("praise", (0, 0, 0)) == "praise"
    assert theme_kind("complaint", (2, 0, 8)) == "praise"  # mostly positive documents: praise, whatever the concept
    assert theme_kind("complaint", (4, 0, 6)) == "praise" and PRAISE_SHARE == 0.6
    assert theme_kind("complaint", (5, 0, 5)) == "complaint"
    assert theme_kind("praise", (8, 0, 2)) == "complaint"  # a praise concept over angry documents is a complaint
    assert theme_kind("praise", (3, 0, 4)) == "praise"
    assert theme_kind("request", (9, 0, 1)) == "request" and theme_kind("venting", (7, 0, 0)) == "venting"
    # neutral documents count: questions with a few positive answers are not praise (banking77)
    assert theme_kind("request", (1, 12, 5)) == "request" and theme_kind("request", (1, 2, 5)) == "praise"


def test_label_themes_uses_the_sentiment_for_the_kind():
    S, theme = rows([0, 0, 0, 3, 0, 0], [0, 3, 0, 0, 0, 0], [0, 0, 0, 0, 3, 0])
    out = label_themes(S, theme, LEX, C, "en", sentiment={0: (7, 0, 1), 1: (0, 0, 9)})
    assert (out[0].concept, out[0].kind) == ("great", "complaint")
    assert (out[1].concept, out[1].kind) == ("late", "praise")
    assert (out[2].concept, out[2].kind) == ("ask", "request")  # no sentiment: the concept's kind


# -- the real encoder -----------------------------------------------------------------------------
REFUNDS = [
    ("de", "Meine Rückerstattung ist nach drei Wochen immer noch nicht da."),
    ("de", "Ich habe die Ware zurückgeschickt und warte seit einem Monat auf mein Geld."),
    ("fr", "Toujours pas remboursé trois semaines après le retour du colis."),
    ("fr", "J'attends encore le remboursement promis par le service client."),
    ("zh-Hans", "退货已经三个星期了，退款还是没有到账。"),
    ("zh-Hans", "说好的退款一直没有收到，客服也不回复。"),
]
CRASHES = [
    ("de", "Die App stürzt beim Start jedes Mal ab."),
    ("fr", "L'application plante dès que je l'ouvre."),
    ("zh-Hans", "应用一打开就闪退，根本用不了。"),
]


@pytest.mark.models
def test_real_e5_names_refund_complaints_in_english_and_german(shipped):
    from miner.nlp.encoders.registry import get_encoder

    encoder = get_encoder("e5-small")
    assert encoder.id == E5_QUERY_ID
    space = ConceptSpace.build(shipped, phrase_vectors(shipped, encoder, None))  # shipped vectors: nothing embedded
    texts = REFUNDS + CRASHES
    X = encoder.embed_batch([encoder_input(t) for _, t in texts])
    theme = np.array([0] * len(REFUNDS) + [1] * len(CRASHES))
    S = space.scores(X, [lang for lang, _ in texts], {})
    en = label_themes(S, theme, shipped, space.concepts, "en")
    assert "refund" in en[0].label.lower(), en[0]
    assert any(w in en[1].label.lower() for w in ("crash", "app")), en[1]
    de = label_themes(S, theme, shipped, space.concepts, "de")
    assert de[0].concept == en[0].concept and de[0].label == shipped.label(en[0].concept, "de")
