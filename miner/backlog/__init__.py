"""The product-improvement backlog: ranked (theme, touchpoint) items with their evidence.

- `collect`, `priority`, `build`: the items, their explainable priority, stable ids and statuses.
- `exports`: table, Markdown, CSV, JSON, Jira CSV.
Impact on scores, score scales and account groups are measures it shares with trends
(`miner.measures`). See docs/backlog.md.
"""

from .build import build_backlog, impact_report, set_status

__all__ = ["build_backlog", "impact_report", "set_status"]
