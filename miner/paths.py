"""Where shipped artefacts live, from a checkout and from an installed wheel.

The wheel carries `models/` as `miner/_models` and the demo corpus as
`miner/_corpora/demo` (see pyproject's force-include); a checkout (or an editable
install) has them at the repository root.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for path in candidates:
        if path.is_dir():
            return path
    return candidates[0]


def models_dir() -> Path:
    """The folder of shipped models and taxonomies."""
    return _first_existing(_PKG / "_models", _PKG.parent / "models")


def demo_corpus_dir() -> Path:
    """The bundled demo corpus."""
    return _first_existing(_PKG / "_corpora" / "demo", _PKG.parent / "corpora" / "demo")


def model_file(name: str) -> Path:
    return models_dir() / name


def cache_dir() -> Path:
    """Where miner keeps what it can rebuild (training embeddings, converted models):
    `$MINER_CACHE_DIR`, else `~/.cache/miner`. Never inside the package or models/."""
    import os

    root = os.environ.get("MINER_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "miner"
