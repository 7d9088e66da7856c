"""The layers of miner, lowest first: a module may import from a lower layer and from its own
room (the package or module named in the table), never from a higher layer nor from another
room of its own layer. tests/test_architecture.py holds the code to it; docs/architecture.md
says what each room owns.
"""

LAYERS: dict[str, int] = {
    # 0. the package itself (its version) and the errors every room raises
    "miner": 0,
    "miner.errors": 0,
    "miner.layers": 0,
    # 1. small helpers with no knowledge of the store
    "miner.paths": 1,  # shipped models and the demo corpus, the cache folder
    "miner.machine": 1,  # cores this process may use
    "miner.arrays": 1,  # numpy arrays as npz bytes
    "miner.display": 1,  # how reports show numbers and missing values
    "miner.sparkline": 1,
    "miner.csvfile": 1,  # the reader of small CSV files with required columns
    "miner.files": 1,  # atomic file writes, spreadsheet-safe CSV
    "miner.lifeline": 1,  # child processes that end with their parent (prctl, watchdog)
    # 2. the SQLite store, and plain reads of it
    "miner.store": 2,
    "miner.storelock": 2,  # one writer at a time: the lock file beside the store
    # 3. text in: readers, cleaning, language, segments, duplicates, PII
    "miner.ingest": 3,
    "miner.fields": 3,  # the input's other columns (documents.meta) as fields to slice and filter by
    # 4. models: encoders, the embedding cache, sentiment, tokenisers
    "miner.nlp": 4,
    "miner.crawl": 4,  # `miner crawl`: fetches pages politely and stores them through ingest
    # 5. what the stages that group segments share
    "miner.segments": 5,
    "miner.concepts": 5,  # the concept lexicon and its space (themes and touchpoints use it)
    # 6. grouping stages, and measures over what they stored
    "miner.themes": 6,
    "miner.touchpoints": 6,
    "miner.measures": 6,
    "miner.search": 6,  # search by meaning and words: document vectors (nlp, segments), query language (ingest)
    # 7. stages over several rooms below: incremental analysis, trends and alerts
    "miner.analyze": 7,
    "miner.trends": 7,
    "miner.table_export": 7,  # `miner export`: reads what every stage stored, filters by fields
    # 8. the backlog (reads trends for growth and fix checks)
    "miner.backlog": 8,
    "miner.engine": 8,  # `--engine ray`: analyze's batch functions on a Ray cluster
    # 9. the whole pipeline on the demo corpus
    "miner.demo": 9,
    # 9. what people look at: the HTML report (reads the backlog, trends, themes) and Datasette
    "miner.report": 9,
    "miner.browse": 9,
    # 10. the command line: parses, calls the library, formats; may import anything
    "miner.cli": 10,
}


def room_of(module: str) -> str | None:
    """The table's entry a module belongs to: the longest package or module name that holds it
    (`miner` itself holds only its own __init__)."""
    best = None
    for room in LAYERS:
        inside = module == room or (room != "miner" and module.startswith(room + "."))
        if inside and (best is None or len(room) > len(best)):
            best = room
    return best
