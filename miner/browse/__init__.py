"""`miner browse`: Datasette on the store, read-only, on 127.0.0.1 by default, with the tables and
columns described (from docs/schema.md), facets on language, channel, sentiment, theme and
touchpoint, full-text search on documents and canned queries. See docs/report.md.

- `schema_docs`: table and column descriptions read from docs/schema.md.
- `metadata`: Datasette's metadata (titles, descriptions, facets, canned queries).
- `server`: the Datasette app and the server.
"""

from .metadata import build_metadata
from .server import make_datasette, serve

__all__ = ["build_metadata", "make_datasette", "serve"]
