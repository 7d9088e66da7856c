"""`miner report`: one self-contained HTML file (tables, charts drawn by the inlined plotly.js,
light and dark, no network) of what the store holds: overview, themes with their map, the
customer journey, trends, impact on scores and the backlog. See docs/report.md.

- `gather`: the data, read through the library (`gather.gather`).
- `page`: the HTML, every data string escaped (`safety`); `charts`: plotly.js specs.
"""

from .build import build_report, write_report

__all__ = ["build_report", "write_report"]
