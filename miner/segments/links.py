"""Theme <-> touchpoint links (`theme_touchpoints`), rebuilt whenever either side changes:
by theme discovery and edits, and by touchpoint assignment."""

from __future__ import annotations

import sqlite_utils


def link_themes_to_touchpoints(db: sqlite_utils.Database) -> int:
    """Rebuild theme_touchpoints from segment_themes and segment_touchpoints. A segment at two
    touchpoints counts half at each, so a theme's weights sum to 1 over its segments that have
    a touchpoint; `segments` counts the segments at the touchpoint (any rank). Returns rows."""
    db.execute("DELETE FROM theme_touchpoints")
    db.execute(
        "INSERT INTO theme_touchpoints (theme_id, touchpoint, weight, segments) "
        "WITH per AS (SELECT segment_id, COUNT(*) AS n FROM segment_touchpoints GROUP BY segment_id), "
        "x AS (SELECT st.theme_id, tp.touchpoint, 1.0 / per.n AS w FROM segment_themes st "
        "      JOIN segment_touchpoints tp ON tp.segment_id = st.segment_id JOIN per ON per.segment_id = st.segment_id "
        "      WHERE st.theme_id IS NOT NULL), "
        "tot AS (SELECT theme_id, SUM(w) AS total FROM x GROUP BY theme_id) "
        "SELECT x.theme_id, x.touchpoint, ROUND(SUM(x.w) / tot.total, 4), COUNT(*) FROM x JOIN tot USING (theme_id) "
        "GROUP BY x.theme_id, x.touchpoint"
    )
    return db.execute("SELECT COUNT(*) FROM theme_touchpoints").fetchone()[0]
