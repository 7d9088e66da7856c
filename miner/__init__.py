"""miner: mine complaints and open feedback into themes, touchpoints and a backlog.

The library never prints: every public function returns data. `cli.py` is the
thin command-line layer on top.
"""

__version__ = "0.1.0"
