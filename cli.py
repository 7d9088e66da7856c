"""`python cli.py` from a checkout runs the `miner` command (installed as `miner`: miner.cli.main:main)."""

from miner.cli.main import app, main

__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
