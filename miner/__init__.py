"""miner: mine complaints and open feedback into themes, touchpoints and a backlog.

The library never prints: every public function returns data. `miner/cli/` is the
thin command-line layer on top (one module per command group; `cli.py` in a checkout runs it).
"""

__version__ = "0.1.0"
