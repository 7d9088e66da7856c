"""Theme labels in the reader's language, from the concept lexicon. Pure functions, no database.

A theme is named by the concept its documents speak of most: the mean, over the theme's
documents, of each document's standardised similarity to each concept
(`ConceptSpace.scores`). The label is that concept's label in the label language (English
where the lexicon has none in that language).

Confidence is the share of the theme's documents that have the chosen concept among their own
three best concepts: a theme whose documents agree on what they say gets a high figure; a
theme the lexicon does not know (a complaint no concept names) gets a low one, and says so
(`weak`) instead of pretending.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..concepts.lexicon import Lexicon

TOP_PER_DOCUMENT = 3
WEAK_BELOW = 0.25  # confidence under this: the label is a guess (shown with "?")
PRAISE_SHARE = 0.6  # a theme with this share of positive documents is praise, whatever its concept
COMPLAINT_SHARE = 0.5  # ... and a "praise" concept with this share of negative documents is a complaint


@dataclass
class ThemeLabel:
    label: str
    lang: str
    confidence: float
    concept: str
    kind: str

    @property
    def weak(self) -> bool:
        return self.confidence < WEAK_BELOW


def label_themes(scores: np.ndarray, theme_of: np.ndarray, lexicon: Lexicon, concepts: list[str], label_lang: str,
                 sentiment: dict[int, tuple[int, int, int]] | None = None, taken: set[str] | None = None) -> dict[int, ThemeLabel]:
    """{theme: ThemeLabel} for every theme >= 0 in `theme_of` (one theme per row of `scores`).
    `sentiment`: theme -> (negative, other, positive documents), for the theme's kind.

    Labels are distinct: themes are named largest first, and a theme whose best concept names a
    larger theme already (or is in `taken`, e.g. its parent's) takes its next best concept that
    still scores at least half as well; failing that, it keeps the name with a number."""
    out: dict[int, ThemeLabel] = {}
    if scores.size == 0:
        return out
    top = np.argsort(-scores, axis=1)[:, :TOP_PER_DOCUMENT]
    taken = set(taken or ())
    repeats: dict[str, int] = {}
    themes = sorted(set(int(t) for t in theme_of if t >= 0), key=lambda t: (-(theme_of == t).sum(), t))
    for theme in themes:
        rows = theme_of == theme
        mean = scores[rows].mean(axis=0)
        order = np.argsort(-mean, kind="stable")
        best = int(order[0])
        pick = next((int(c) for c in order if concepts[c] not in taken and mean[c] >= 0.5 * mean[best]), None)
        suffix = ""
        if pick is None:
            pick = best
            repeats[concepts[best]] = repeats.get(concepts[best], 1) + 1
            suffix = f" ({repeats[concepts[best]]})"
        taken.add(concepts[pick])
        confidence = float((top[rows] == pick).any(axis=1).mean())
        concept = concepts[pick]
        lang = label_lang if lexicon.label(concept, label_lang) else "en"  # your concept may lack the language
        label = lexicon.label(concept, lang) or concept.replace("_", " ")
        out[theme] = ThemeLabel(label + suffix, lang, round(confidence, 3), concept,
                                theme_kind(lexicon.kinds.get(concept, "complaint"), (sentiment or {}).get(theme)))
    return out


def theme_kind(concept_kind: str, sentiment: tuple[int, int, int] | None) -> str:
    """The concept's kind, corrected by what the documents' sentiment says: (negative, other,
    positive) documents, where other is neutral or mixed. Neutral documents count in the
    denominator: a theme of questions with a few positive answers is not praise (seen on
    banking77's support requests)."""
    if not sentiment or sum(sentiment) == 0:
        return concept_kind
    neg, _other, pos = sentiment
    n = sum(sentiment)
    if pos / n >= PRAISE_SHARE:
        return "praise"
    if concept_kind == "praise" and neg / n >= COMPLAINT_SHARE:
        return "complaint"
    return concept_kind
