"""`miner demo`: the main job on the bundled demo corpus.

The corpus folder holds `sources.yaml`, which says how to read each file (the channel of
files that have no channel column); everything else is auto-detected, as for a user.
Later stages append their steps here, so the demo always shows the whole pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from .errors import InputError
from .ingest.pipeline import IngestOptions, IngestSummary, ingest
from .paths import demo_corpus_dir
from .store import open_db


def demo_sources(corpus: Path | None = None) -> list[tuple[Path, dict]]:
    corpus = corpus or demo_corpus_dir()
    manifest = corpus / "sources.yaml"
    if not manifest.is_file():
        raise InputError("E601", f"the demo corpus is missing ({manifest}).", "Reinstall miner or run from a checkout.")
    entries = yaml.safe_load(manifest.read_text(encoding="utf-8")) or []
    return [(corpus / e["path"], {k: v for k, v in e.items() if k != "path"}) for e in entries]


def run_demo(db_path: str | Path, *, analyze: bool = True, encoder=None, head_path: str | None = None,
             progress: Callable[..., None] | None = None) -> dict:
    """Ingest the demo corpus, then (unless `analyze=False`) embed it, add sentiment,
    discover themes and assign touchpoints.

    `progress(label, done=None, total=None)` is told each stage as it starts (and, for the
    stages that count, how far they are)."""
    stage = progress or (lambda *args: None)
    db = open_db(db_path)
    combined = IngestSummary()
    sources = demo_sources()
    for n, (path, opts) in enumerate(sources, start=1):
        stage("ingest: demo inputs", n - 1, len(sources))
        part = ingest(db, [str(path)], IngestOptions(**opts))
        combined.inputs += part.inputs
        for name in ("languages", "scripts", "pii", "dropped_lines"):
            getattr(combined, name).update(getattr(part, name))
        combined.seconds += part.seconds
    analyzed = themes = touchpoints = None
    if analyze:
        from .analyze import analyze as run_analyze
        from .nlp.encoders.registry import get_encoder
        from .themes.manage import list_themes
        from .themes.discover import discover
        from .themes.terms import read_stop_terms

        encoder = encoder or get_encoder(None, lazy=True)
        stage("analyze: loading the encoder and the sentiment head")
        analyzed = run_analyze(db, encoder=encoder, head_path=head_path,
                               progress=lambda done, total: stage("analyze: documents embedded and labelled", done, total)).to_dict()
        stop_terms = read_stop_terms(demo_corpus_dir() / "stop_terms.txt")
        stage("themes: starting")
        themes = {
            "discover": discover(db, encoder=encoder, stop_terms=stop_terms, progress=lambda name: stage(f"themes: {name}")).to_dict(),
            "top": list_themes(db, limit=10)["themes"],
        }
        from .touchpoints.aspects import touchpoint_overview
        from .touchpoints.model import assign_touchpoints

        stage("touchpoints: assigning documents and segments")
        touchpoints = {"assign": assign_touchpoints(db, encoder=encoder), "overview": touchpoint_overview(db, top_themes=2)}
    backlog = None
    if analyze:  # the last step: it ranks what every step above found
        from .backlog import build_backlog

        stage("backlog: ranking themes")
        backlog = build_backlog(db)
    return {
        "db": str(db_path),
        "ingest": combined.to_dict(),
        "analyze": analyzed,
        "themes": themes,
        "touchpoints": touchpoints,
        "backlog": backlog,
        "documents": db["documents"].count,
        "segments": db["segments"].count,
    }
