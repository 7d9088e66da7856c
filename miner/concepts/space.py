"""The concept lexicon in the encoder's space: what aligns languages for clustering and what
names themes.

- `ConceptSpace.project`: a projection learned on the lexicon alone (Fisher's linear
  discriminant over concepts, with every language's phrases centred): directions along which
  concepts differ more than the languages of one concept do. It does not depend on the user's
  data or its mix of topics. Clustering sees [projected, centred] side by side.
- `ConceptSpace.scores`: how much each document speaks of each concept, comparing it with the
  concept's phrases in the document's own language, or through the language-neutral concept
  centroid for a language the lexicon lacks. Scores are standardised against the lexicon's
  own phrases of that language (how close any phrase of the language comes to the concept),
  not against the user's documents, so a language whose documents all raise one complaint
  keeps that complaint's signal.

Vectors of the shipped phrases for the default encoder ship in `models/concepts/vectors.npz`
(int8, one scale per row): embedding 9k phrases takes minutes on two cores. Other encoders,
and phrases a user adds, are embedded once through the embedding cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from ..nlp.cache import EmbeddingCache, embed_texts, text_hash
from ..nlp.encoders.base import Encoder, normalise_rows
from ..nlp.textprep import encoder_input
from ..arrays import pack_arrays, unpack_arrays
from ..paths import cache_dir, model_file
from .lexicon import LEXICON_DIR, Lexicon

SHIPPED_VECTORS = "vectors.npz"
SPACE_VERSION = 1  # part of the cached space's key: raise it when ConceptSpace.build changes
PROJECTION_DIMS = 64
SHRINKAGE = 0.95  # 0.5 to 0.98 within a point of each other on xling_dev (bench/research_document_themes.py)


def shipped_vectors(encoder_id: str) -> dict[str, np.ndarray]:
    """text hash -> vector of the shipped phrases, if they were embedded with this encoder."""
    path = model_file(LEXICON_DIR) / SHIPPED_VECTORS
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=False) as z:
        if str(z["encoder"]) != encoder_id:
            return {}
        vectors = z["q"].astype(np.float32) * z["scale"][:, None]
        return dict(zip(z["hashes"].tolist(), normalise_rows(vectors)))


def phrase_vectors(lexicon: Lexicon, encoder: Encoder, cache: EmbeddingCache | None) -> np.ndarray:
    """One row per `lexicon.items()`, from the shipped file where it has them, else embedded once."""
    texts = [encoder_input(text) for _, _, text in lexicon.items()]
    known = shipped_vectors(encoder.id)
    missing = sorted({t for t in texts if text_hash(t) not in known})
    if missing:
        vectors, _ = embed_texts(encoder, missing, cache)
        known.update(zip((text_hash(t) for t in missing), vectors))
    return np.stack([known[text_hash(t)] for t in texts]).astype(np.float32) if texts else np.zeros((0, encoder.dim), np.float32)


def concept_space(lexicon: Lexicon, encoder: Encoder, cache: EmbeddingCache | None) -> "ConceptSpace":
    """The lexicon's concept space for this encoder, kept in miner's cache folder between runs
    (building it takes about a second: the phrases' vectors and the discriminant)."""
    key = hashlib.sha256(f"{SPACE_VERSION}\t{lexicon.sha256}\t{encoder.id}".encode()).hexdigest()[:24]
    path = cache_dir() / "concepts" / f"{key}.npz"
    try:
        return ConceptSpace.from_arrays(unpack_arrays(path.read_bytes()))
    except (OSError, ValueError, KeyError):
        pass
    # Through its stored form (phrase means in float16) from the start, so that a run on a fresh
    # space and one on the cached space give the same labels.
    space = ConceptSpace.from_arrays(ConceptSpace.build(lexicon, phrase_vectors(lexicon, encoder, cache)).to_arrays())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pack_arrays(space.to_arrays()))
        tmp.replace(path)
    except OSError:  # a read-only home: build it again next time
        pass
    return space


@dataclass
class ConceptSpace:
    concepts: list[str]
    kinds: list[str]
    langs: list[str]
    means: np.ndarray  # (L, C, d): mean phrase vector per language and concept (zeros where absent)
    present: np.ndarray  # (L, C) bool
    lang_means: np.ndarray  # (L, d): mean of the language's phrases
    neutral: np.ndarray  # (C, d): concept centroid over languages, each language centred
    proj: np.ndarray  # (d, k)
    ref: np.ndarray  # (L + 1, 2, C): mean and spread of the language's phrases' similarity to each concept (last: neutral)

    @classmethod
    def build(cls, lexicon: Lexicon, vectors: np.ndarray) -> "ConceptSpace":
        items = lexicon.items()
        concept = np.array([c for c, _, _ in items], dtype=np.int64)
        lang_of = np.array([lang for _, lang, _ in items])
        langs = lexicon.languages
        C, d = len(lexicon.concepts), vectors.shape[1]
        means = np.zeros((len(langs), C, d), np.float64)
        counts = np.zeros((len(langs), C))
        lang_means = np.zeros((len(langs), d))
        for li, lang in enumerate(langs):
            rows = lang_of == lang
            lang_means[li] = vectors[rows].mean(axis=0)
            np.add.at(means[li], concept[rows], vectors[rows])
            np.add.at(counts[li], concept[rows], 1)
        present = counts > 0
        means = means / np.maximum(counts, 1)[:, :, None]
        centred = (means - lang_means[:, None, :]) * present[:, :, None]
        neutral = normalise_rows((centred.sum(axis=0) / np.maximum(present.sum(axis=0), 1)[:, None]).astype(np.float32))
        proj = _discriminant(vectors, concept, lang_of, langs, lang_means)
        ref = np.zeros((len(langs) + 1, 2, C), np.float32)
        for li, lang in enumerate(langs):
            R = vectors[lang_of == lang] @ means[li].T
            ref[li] = R.mean(axis=0), R.std(axis=0) + 1e-6
        index = {lang: i for i, lang in enumerate(langs)}
        R = normalise_rows((vectors - lang_means[[index[x] for x in lang_of]]).astype(np.float32)) @ neutral.T
        ref[-1] = R.mean(axis=0), R.std(axis=0) + 1e-6
        return cls(list(lexicon.concepts), [lexicon.kinds[c] for c in lexicon.concepts], langs,
                   means.astype(np.float32), present, lang_means.astype(np.float32), neutral, proj, ref)

    def project(self, Z: np.ndarray) -> np.ndarray:
        """[discriminant projection, Z] of language-centred, L2-normalised rows, normalised."""
        if self.proj.shape[1] == 0:
            return Z
        P = normalise_rows((Z @ self.proj).astype(np.float32))
        return normalise_rows(np.hstack([P, Z]).astype(np.float32))

    def scores(self, X: np.ndarray, langs: list[str], data_means: dict[str, np.ndarray],
               fallback: np.ndarray | None = None) -> np.ndarray:
        """(n, C) standardised similarity of each row (a raw document vector) to each concept.
        A language without phrases is centred by its mean in `data_means`, else by `fallback`
        (a stored mean: every row then scores alone, in any batch), else by its rows' own mean."""
        out = np.zeros((len(X), len(self.concepts)), np.float32)
        lang_arr = np.asarray(langs)
        index = {lang: i for i, lang in enumerate(self.langs)}
        for lang in sorted(set(langs)):
            rows = np.flatnonzero(lang_arr == lang)
            if lang in index and self.present[index[lang]].any():
                li = index[lang]
                z = (X[rows] @ self.means[li].T - self.ref[li, 0]) / self.ref[li, 1]
                z[:, ~self.present[li]] = 0.0  # no phrase of the concept in this language: no evidence
            else:  # a language without phrases: compare language-neutral, both sides centred
                centre = data_means.get(lang, X[rows].mean(axis=0) if fallback is None else fallback)
                z = (normalise_rows(X[rows] - centre) @ self.neutral.T - self.ref[-1, 0]) / self.ref[-1, 1]
            out[rows] = z
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "concept_meta": np.array(json.dumps({"concepts": self.concepts, "kinds": self.kinds, "langs": self.langs})),
            "means": self.means.astype(np.float16), "present": self.present, "lang_means": self.lang_means,
            "neutral": self.neutral, "proj": self.proj, "ref": self.ref,
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray]) -> "ConceptSpace":
        meta = json.loads(str(a["concept_meta"]))
        return cls(meta["concepts"], meta["kinds"], meta["langs"], a["means"].astype(np.float32), a["present"].astype(bool),
                   a["lang_means"], a["neutral"], a["proj"], a["ref"])


def _discriminant(vectors: np.ndarray, concept: np.ndarray, lang_of: np.ndarray, langs: list[str],
                  lang_means: np.ndarray) -> np.ndarray:
    """Fisher's discriminant over concepts on language-centred phrases (shrunk within-class
    covariance): the directions that tell concepts apart across languages."""
    d = vectors.shape[1]
    k = min(PROJECTION_DIMS, len(set(concept.tolist())) - 1, d - 1)
    if k < 1 or len(langs) < 2:
        return np.zeros((d, 0), np.float32)
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    index = {lang: i for i, lang in enumerate(langs)}
    centred = normalise_rows((vectors - lang_means[[index[x] for x in lang_of]]).astype(np.float32))
    lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage=SHRINKAGE, n_components=k).fit(centred, concept)
    return lda.scalings_[:, :k].astype(np.float32)  # the eigen solver's transform is X @ scalings_
