"""Theme identity across discovery runs: which new cluster is which existing theme.

Matching is by shared segments, the most direct evidence: cluster c and theme t overlap by
Jaccard |c ∩ t| / |c ∪ t| over segments that both runs saw. Pure functions, no database.

Events recorded per run (docs/themes.md):
- kept:    a cluster matched an existing theme (Jaccard ≥ `min_jaccard`, best pairs first);
           it takes the theme's id, label and edits.
- split:   an unmatched cluster holding ≥ `part` of its segments from a theme that kept its
           id elsewhere: a new theme whose parent is that theme.
- merged:  an existing theme whose segments (≥ `part`) went to a cluster matched to another
           theme: it points at that theme (`merged_into`).
- new:     a cluster that matched nothing.
- retired: an existing theme that matched nothing (pinned themes are never retired).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Matching:
    cluster_to_theme: dict[int, int] = field(default_factory=dict)  # kept
    split_from: dict[int, int] = field(default_factory=dict)  # new cluster -> parent theme
    merged: dict[int, int] = field(default_factory=dict)  # old theme -> theme it went into
    new: list[int] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)
    overlap: dict[tuple[int, int], float] = field(default_factory=dict)  # (cluster, theme) -> Jaccard


def match_clusters(
    old: dict[int, int],
    new: dict[int, int],
    old_themes: list[int],
    clusters: list[int],
    *,
    min_jaccard: float = 0.3,
    part: float = 0.5,
    protected: set[int] = frozenset(),
) -> Matching:
    """`old`/`new`: segment id -> theme id / cluster index (outliers absent).
    `protected` themes (pinned) are never retired or merged away."""
    shared = old.keys() & new.keys()
    n_old = Counter(old[s] for s in shared)
    n_new = Counter(new[s] for s in shared)
    both = Counter((new[s], old[s]) for s in shared)
    jac = {(c, t): n / (n_new[c] + n_old[t] - n) for (c, t), n in both.items()}
    m = Matching(overlap=jac)
    taken_c: set[int] = set()
    taken_t: set[int] = set()
    # Best pairs first; ties broken by ids so the result never depends on dict order.
    for (c, t), j in sorted(jac.items(), key=lambda kv: (-kv[1], kv[0])):
        if j < min_jaccard or c in taken_c or t in taken_t:
            continue
        m.cluster_to_theme[c] = t
        taken_c.add(c)
        taken_t.add(t)
    for c in sorted(set(clusters) - taken_c):
        # Where did this cluster's segments come from?
        sources = [(n / n_new[c], t) for (cc, t), n in both.items() if cc == c] if n_new[c] else []
        share, parent = max(sources, default=(0.0, None))
        if parent is not None and share >= part and parent in taken_t:
            m.split_from[c] = parent
        elif parent is not None and share >= part and parent not in taken_t and parent in old_themes:
            # An unmatched theme whose segments mostly form this cluster (Jaccard was low
            # because the cluster grew a lot): still the same theme.
            m.cluster_to_theme[c] = parent
            taken_t.add(parent)
        else:
            m.new.append(c)
    theme_of_cluster = m.cluster_to_theme
    for t in sorted(set(old_themes) - taken_t):
        if t in protected:
            continue
        dest = Counter()
        for (c, tt), n in both.items():
            if tt == t and c in theme_of_cluster:
                dest[theme_of_cluster[c]] += n
        if n_old[t] and dest:
            into, n = max(dest.items(), key=lambda kv: (kv[1], -kv[0]))
            if n / n_old[t] >= part:
                m.merged[t] = into
                continue
        m.retired.append(t)
    return m
