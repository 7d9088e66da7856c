"""Write models/concepts/vectors.npz: the default encoder's vectors of every shipped lexicon phrase
(int8 with one scale per row), so that no run embeds 9k phrases (minutes on two cores).

    .venv/bin/python scripts/build_concept_vectors.py [--cache FILE]

Re-run it after editing models/concepts/*.yaml; `tests/test_concepts.py` fails while the file
lacks a shipped phrase. --cache: an embedding cache file to reuse (default ~/.cache/miner/embeddings.db).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from miner.nlp.cache import EmbeddingCache, embed_texts, text_hash  # noqa: E402
from miner.nlp.encoders.registry import get_encoder  # noqa: E402
from miner.nlp.textprep import encoder_input  # noqa: E402
from miner.paths import cache_dir, model_file  # noqa: E402
from miner.themes.concepts import SHIPPED_VECTORS  # noqa: E402
from miner.themes.lexicon import LEXICON_DIR, load_lexicon  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, default=cache_dir() / "embeddings.db")
    args = ap.parse_args()
    texts = sorted({encoder_input(t) for _, _, t in load_lexicon().items()})
    encoder = get_encoder(None, lazy=True)
    X, stats = embed_texts(encoder, texts, EmbeddingCache.open_file(args.cache), batch_size=256)
    scale = np.abs(X).max(axis=1) / 127.0
    q = np.round(X / scale[:, None]).astype(np.int8)
    out = model_file(LEXICON_DIR) / SHIPPED_VECTORS
    np.savez_compressed(out, encoder=np.array(encoder.id), hashes=np.array([text_hash(t) for t in texts]), q=q, scale=scale.astype(np.float32))
    cos = ((q * scale[:, None]) * X).sum(axis=1) / np.linalg.norm(q * scale[:, None], axis=1)
    print(f"{out}: {len(texts)} phrases ({stats.embedded} embedded now), {out.stat().st_size / 1e6:.1f} MB; "
          f"int8 cosine to float32: min {cos.min():.5f}, mean {cos.mean():.5f}")


if __name__ == "__main__":
    main()
