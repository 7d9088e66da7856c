"""The `miner` command: `main.py` assembles one Typer app from one module per command group.

Each command parses its options, calls one library function and formats the result;
`common.py` holds what they share (the --db option, clean one-line errors, progress bars,
JSON output), `format_*.py` the terminal text of the longer reports.
"""
