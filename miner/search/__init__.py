"""Search the store: by meaning in any language fused with exact words (`query.search`), for
documents like one document, or by exact words only (`fulltext`), inside filters (`scope`),
over an index of documents' cached vectors kept beside the store (`index`, `vectors`).

Importing this package loads neither numpy nor a model: `from miner.search.query import search`.
"""

from .fulltext import search_documents

__all__ = ["search_documents"]
