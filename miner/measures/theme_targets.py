"""Where merged themes ended: every theme id to the theme it counts for now (following
`merged_into`), with each theme's label and status. Trends, backlog items and account
themes all count a merged theme's segments for the theme it ended in."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils


@dataclass
class ThemeInfo:
    id: int
    label: str
    status: str
    kind: str = "complaint"  # complaint, praise, request or venting (miner.themes.labels)


def theme_targets(db: sqlite_utils.Database) -> tuple[dict[int, int], dict[int, ThemeInfo]]:
    """Map every theme id to the theme it ended in (following merged_into), and the themes' info."""
    rows = db.execute("SELECT id, label, custom_label, status, merged_into, COALESCE(kind, 'complaint') FROM themes").fetchall()
    parent = {r[0]: r[4] for r in rows}
    info = {r[0]: ThemeInfo(r[0], r[2] or r[1], r[3], r[5]) for r in rows}
    targets = {}
    for tid in parent:
        seen, cur = {tid}, tid
        while parent.get(cur) is not None and parent[cur] not in seen:  # a cycle stops where it closes
            cur = parent[cur]
            seen.add(cur)
        targets[tid] = cur
    return targets, info
