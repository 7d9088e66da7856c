"""The long CSV layout of a trend table: one row per key and period (the terminal text is miner/cli/format_trends.py)."""

from __future__ import annotations

from typing import IO

from ..files import write_csv_rows
from .series import TrendTable

CSV_COLUMNS = ("dimension", "key", "label", "status", "period", "period_start", "volume", "total", "share",
               "net_sentiment", "neg", "pos", "with_sentiment", "mixed")


def trends_rows(table: TrendTable):
    d = table.to_dict()
    for s in d["series"]:
        for i, period in enumerate(d["periods"]):
            yield (table.dimension, s["key"], s["label"], s["status"], period, d["period_starts"][i], s["volume"][i],
                   d["totals"][i], s["share"][i], s["net_sentiment"][i], s["neg"][i], s["pos"][i], s["with_sentiment"][i],
                   s["mixed"][i])


def write_trends_csv(table: TrendTable, out: IO[str]) -> int:
    """One row per key and period; cells that look like formulas are neutralised (miner.files)."""
    return write_csv_rows(list(CSV_COLUMNS), trends_rows(table), out)
