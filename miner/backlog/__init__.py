"""The product-improvement backlog: impact on scores, account groups, ranked (theme, touchpoint) items.

- `impact`: figure of all responses minus the figure without a theme's (NPS, CSAT, stars), with a CI.
- `scores`: which documents carry a score, on which scale.
- `accounts`: model / at risk / growth / dangling accounts by revenue and satisfaction.
- `collect`, `priority`, `build`: the items, their explainable priority, stable ids and statuses.
- `exports`: table, Markdown, CSV, JSON, Jira CSV.
See docs/backlog.md.
"""

from .build import build_backlog, impact_report, set_status
from .impact import impact

__all__ = ["build_backlog", "impact", "impact_report", "set_status"]
