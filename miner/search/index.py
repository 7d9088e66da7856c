"""The search index beside the store: documents' vectors, ready to search, in
`<store>.search-index/` (e.g. `miner.db.search-index/`), never inside the SQLite file.

Files (no pickle anywhere; `meta.json` is the commit point, written last, atomically):

    meta.json          format, encoder id and dimensions, rows, languages, channels, the store it
                       belongs to (id and record key of its first and last documents), the last
                       document and embedding seen, pending documents, the generation, and the
                       graph's size and xxh3 hash
    documents.i64      per row, appended: the document id,
    languages.i16      its language (an index into meta's languages),
    days.i32           its date (a proleptic day number, -1 without one),
    channels.i16       its channel (an index into meta's channels, -1 without one)
    vectors.G.f16      per row: the document's vector centred on its language's mean, unit length
    norms.G.f32        per row: the length before normalising (so the raw vector can be recovered
                       when languages are re-centred)
    means.G.npy        the language means of that centring (numpy's format, loaded without pickle)
    graph.G.usearch    an HNSW graph of the centred vectors (usearch's own format, int8), from
                       HNSW_MIN_ROWS rows up; smaller stores and filtered subsets are searched exactly
    lock               held while the index is written (one writer at a time)

G is the generation: re-centring writes a new generation and meta.json then points to it, so a
crash leaves the previous one whole. Every search checks that the index is current: documents
added since (ids past the last seen) are appended, and documents that were pending (not
analyzed yet) are added once the embedding cache has grown; nothing is recomputed. It is
rebuilt from the cached vectors when it belongs to another encoder or another store, or when a
file is missing, short or fails its check (the graph's hash is verified before usearch reads
it: a damaged graph file could crash the reader). A graph file whose size, times, inode and
device are those recorded when the index wrote it, and whose recorded time is older than
meta.json's (so that a write within the same clock tick cannot pass, as git treats "racily
clean" files), is trusted without reading it: hashing 540 MB of graph cost a fresh process
0.2-0.9 s (docs/benchmarks.md). Within one process, the index read from the folder is kept and
handed out again (a copy) while meta.json holds the same text and no file's size, times or
inode have changed. Languages are re-centred, and the graph rebuilt, when the documents have
doubled since the means were taken or a language has reached
MIN_LANGUAGE_DOCS. Language, date and channel filters are masks over the rows (a SQL query over
a million documents costs more than the search); theme, touchpoint and field filters ask the store.

Why usearch (measured, docs/benchmarks.md "search"): exact search over 1,000,000 vectors on 2
cores takes 150-250 ms a query (numpy float32, usearch exact float16) against about 1 ms
through usearch's HNSW graph; hnswlib's graph is as fast but keeps float32 vectors and reads its
whole file into memory, while usearch maps its file and keeps int8 vectors. The graph's top
CANDIDATES are re-ranked exactly from `vectors.G.f16`.
"""

from __future__ import annotations

import json
import mmap
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import sqlite_utils
import xxhash

from ..machine import available_cores
from . import vectors as docvec

FORMAT = 1
SUFFIX = ".search-index"
HNSW_MIN_ROWS = 50_000  # from here a graph is kept; filtered subsets up to this size are searched exactly
CONNECTIVITY, EXPANSION_ADD, EXPANSION_SEARCH = 16, 64, 128
CANDIDATES = 100  # rows the graph returns, re-ranked exactly
NUMPY_BELOW = 4096  # exact search over fewer rows in numpy, else usearch's exact float16 kernels
CHUNK = 50_000  # rows per step when re-centring and adding to the graph
Progress = Callable[[int, int], None]

# per-row columns: attribute -> (file, dtype)
COLUMNS = {"ids": ("documents.i64", "<i8"), "langs": ("languages.i16", "<i2"), "days": ("days.i32", "<i4"),
           "chans": ("channels.i16", "<i2")}


def _native(dtype: str) -> np.dtype:
    return np.dtype(dtype).newbyteorder("=")


@dataclass
class IndexReport:
    rows: int = 0  # documents with a vector
    added: int = 0  # rows appended by this call
    pending: int = 0  # documents without a cached vector yet (not analyzed)
    rebuilt: str | None = None  # why the index (or its graph) was built again, if it was
    recentred: bool = False
    graph: bool = False  # searched through the HNSW graph (else exactly)
    saved: bool = True  # False: kept in memory only (in-memory store, or the folder cannot be written)
    folder: str | None = None
    graph_check: str | None = None  # how a saved graph was accepted: "hash" (read whole) or "stat" (unchanged since written)
    seconds: float = 0.0
    note: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class VectorIndex:
    encoder: str
    dim: int
    languages: list[str]
    channels: list[str]
    ids: np.ndarray  # int64 document id, one per row
    langs: np.ndarray  # int16 index into languages
    days: np.ndarray  # int32 day number of the document's date (-1: none)
    chans: np.ndarray  # int16 index into channels (-1: none)
    vecs: np.ndarray  # float16 rows x dim, centred and unit length (a memory map when saved)
    norms: np.ndarray  # float32 length of each raw vector minus its language's mean
    means: np.ndarray  # float32 (languages + 1) x dim, the last row the mean of all
    meta: dict = field(default_factory=dict)
    graph: object | None = None  # usearch.index.Index over the rows
    exact_limit: int = HNSW_MIN_ROWS  # filtered searches over fewer rows than this are exact
    graph_check: str | None = None  # how the saved graph was accepted: "hash" or "stat" (None: built here, or none)
    _order: np.ndarray | None = field(default=None, repr=False)  # rows sorted by document id (built on first lookup)

    @property
    def rows(self) -> int:
        return len(self.ids)

    def row_of(self, doc_id: int) -> int | None:
        found = self.rows_of(np.array([doc_id]))[0]
        return None if found < 0 else int(found)

    def rows_of(self, doc_ids) -> np.ndarray:
        """The row of each document id, -1 for those without one (a binary search: scanning a
        million ids for each of a hundred full-text matches cost more than the search)."""
        doc_ids = np.asarray(doc_ids, dtype=np.int64)
        if self.rows == 0 or len(doc_ids) == 0:
            return np.full(len(doc_ids), -1, np.int64)
        order = self.id_order()
        at = np.minimum(np.searchsorted(self.ids, doc_ids, sorter=order), self.rows - 1)
        rows = order[at]
        return np.where(self.ids[rows] == doc_ids, rows, -1).astype(np.int64)

    def id_order(self) -> np.ndarray:
        """The rows sorted by document id (kept: copies of the index share it)."""
        if self._order is None or len(self._order) != self.rows:
            self._order = np.argsort(self.ids, kind="stable")
        return self._order

    def language_of(self, row: int) -> str:
        return self.languages[int(self.langs[row])]

    def raw_rows(self, rows: np.ndarray | slice) -> np.ndarray:
        """The documents' vectors as cached (before centring), unit length, float32."""
        out = np.asarray(self.vecs[rows], dtype=np.float32) * self.norms[rows][:, None] + self.means[self.langs[rows]]
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def mask(self, langs: tuple[str, ...] = (), since: int | None = None, until: int | None = None,
             channels: tuple[str, ...] = ()) -> np.ndarray | None:
        """Rows in these languages (`de`; `zh` holds zh-Hans and zh-Hant), between these day
        numbers (inclusive) and of these channels; None when nothing restricts."""
        parts = []
        if langs:
            wanted = set(langs)
            parts.append(_lookup([g in wanted or g.partition("-")[0] in wanted for g in self.languages], self.langs))
        if since is not None or until is not None:
            high = until if until is not None else np.iinfo(np.int32).max
            parts.append((self.days >= max(since or 0, 0)) & (self.days <= high))
        if channels:
            parts.append(_lookup([c in set(channels) for c in self.channels], self.chans))
        if not parts:
            return None
        keep = parts[0]
        for part in parts[1:]:
            keep = keep & part
        return keep

    def centre_query(self, vector: np.ndarray, lang: str | None) -> tuple[np.ndarray, str | None]:
        """The query minus its language's mean (the mean of all documents when the store has
        too few documents in that language), unit length; and the language whose mean was used
        (None: all documents)."""
        i = self.languages.index(lang) if lang in self.languages else None
        used = lang if i is not None and self.meta["centred_counts"][i] >= docvec.MIN_LANGUAGE_DOCS else None
        out = np.asarray(vector, dtype=np.float32) - (self.means[i] if used else self.means[-1])
        return out / max(float(np.linalg.norm(out)), 1e-12), used

    def similarity(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        return np.asarray(self.vecs[rows], dtype=np.float32) @ query if len(rows) else np.zeros(0, np.float32)

    def nearest(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosine) of the k rows closest to a centred query, best first; `allowed`: a
        boolean mask of the rows that may be returned."""
        if self.rows == 0 or k < 1:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        subset = None
        if allowed is not None:
            subset = np.flatnonzero(allowed)
            if len(subset) <= self.exact_limit or self.graph is None:
                return self._exact(query, k, subset)
        if self.graph is not None:
            found = self._through_graph(query, k, allowed, len(subset) if subset is not None else self.rows)
            if found is not None:
                return found
        return self._exact(query, k, subset)

    def _exact(self, query: np.ndarray, k: int, subset: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        n = self.rows if subset is None else len(subset)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        data = self.vecs if subset is None else self.vecs[subset]
        if n < NUMPY_BELOW:
            scores = np.asarray(data, dtype=np.float32) @ query
            top = np.argsort(-scores, kind="stable")[:k]
        else:
            from usearch.index import MetricKind, search

            found = search(np.ascontiguousarray(data), query.astype(np.float16), min(k, n), MetricKind.IP, exact=True,
                           threads=available_cores())
            top = np.asarray(found.keys, dtype=np.int64)
        rows = top if subset is None else subset[top]
        scores = self.similarity(rows, query)
        order = np.argsort(-scores, kind="stable")
        return rows[order].astype(np.int64), scores[order].astype(np.float32)

    def _through_graph(self, query: np.ndarray, k: int, allowed: np.ndarray | None, n_allowed: int):
        want = max(CANDIDATES, k)
        if allowed is not None:  # ask for enough that k allowed rows survive the filter
            want = min(self.rows, int(want * self.rows / max(n_allowed, 1) * 1.5) + 10)
        self.graph.expansion_search = max(EXPANSION_SEARCH, want)
        rows = np.asarray(self.graph.search(query, want, threads=1).keys, dtype=np.int64)
        rows = rows[(rows >= 0) & (rows < self.rows)]
        if allowed is not None:
            rows = rows[allowed[rows]]
            if len(rows) < min(k, n_allowed):
                return None
        scores = self.similarity(rows, query)
        order = np.argsort(-scores, kind="stable")[:k]
        return rows[order], scores[order].astype(np.float32)


def _lookup(wanted: list[bool], codes: np.ndarray) -> np.ndarray:
    """Rows whose code (an index into a list, -1 for none) is wanted: one table lookup per row
    (np.isin sorted a million codes on each search)."""
    table = np.array([*wanted, False], dtype=bool)  # the last entry answers -1
    return table[codes]


# ---------------------------------------------------------------- opening, refreshing, building


def index_folder(db: sqlite_utils.Database) -> Path | None:
    """`<store>.search-index` beside the store's file; None for an in-memory store."""
    for _, name, path in db.execute("PRAGMA database_list").fetchall():
        if name == "main" and path:
            return Path(path + SUFFIX)
    return None


def open_index(
    db: sqlite_utils.Database, encoder_id: str, dim: int, *, progress: Progress | None = None,
    hnsw_min: int | None = None,
) -> tuple[VectorIndex, IndexReport]:
    """The store's index for this encoder, brought up to date (appending what is new, rebuilding
    what is missing, damaged or stale); kept in memory when it cannot be saved. `hnsw_min`: the
    rows from which an HNSW graph is kept (default HNSW_MIN_ROWS). `progress(done, total)`:
    documents read, then rows added to the graph."""
    hnsw_min = HNSW_MIN_ROWS if hnsw_min is None else hnsw_min
    started = time.perf_counter()
    report = IndexReport()
    folder = index_folder(db)
    if folder is not None:
        try:
            folder.mkdir(exist_ok=True)
            (folder / "lock").touch(exist_ok=True)
        except OSError as exc:
            report.note = f"the index cannot be saved beside the store ({exc.strerror or exc}); it was built in memory"
            folder = None
    if folder is None:
        report.saved = False
        index = _build(db, encoder_id, dim, None, report, progress)
        _sync_graph(index, None, progress, hnsw_min)
    else:
        report.folder = str(folder)
        index, reason = _opened(folder, db, encoder_id, dim)
        if index is None or reason or not _current(db, index) or _graph_due(index, hnsw_min):
            with _locked(folder):
                index, reason = _load(folder, db, encoder_id, dim)  # another process may have done it
                report.rebuilt = reason
                if index is None:
                    index = _build(db, encoder_id, dim, folder, report, progress)
                elif not _current(db, index):
                    _append_new(db, index, folder, report, progress)
                _sync_graph(index, folder, progress, hnsw_min)
                _commit(folder, index)
        _OPENED.clear()  # one index per process is kept
        index.id_order()
        _OPENED[str(folder)] = (_stamp(folder, index.meta), json.dumps(index.meta, ensure_ascii=False), index)
        index = replace(index)  # the caller's copy: what it changes (exact_limit, graph) stays out of the kept one
    index.exact_limit = hnsw_min
    report.rows, report.pending = index.rows, len(index.meta.get("pending", []))
    report.graph = index.graph is not None
    report.graph_check = index.graph_check
    report.seconds = round(time.perf_counter() - started, 3)
    return index, report


# folder -> (its files' stats, the meta.json text, the index read from them): one per process
_OPENED: dict[str, tuple[list, str, VectorIndex]] = {}


def _stamp(folder: Path, meta: dict) -> list:
    names = [*(file for file, _ in COLUMNS.values()), *_files(meta).values()]
    return [_stat(folder / name) if (folder / name).exists() else None for name in names]


def _opened(folder: Path, db: sqlite_utils.Database, encoder_id: str, dim: int) -> tuple[VectorIndex | None, str | None]:
    """The index this process last read or wrote in `folder`, while meta.json holds the same text
    (every change to the index ends by rewriting it) and no file's size, times or inode have
    changed (a damaged or replaced file); else `_load`."""
    cached = _OPENED.get(str(folder))
    if cached is not None:
        stamp, text, index = cached
        try:
            same = (folder / "meta.json").read_text(encoding="utf-8") == text and stamp == _stamp(folder, index.meta)
        except (OSError, UnicodeDecodeError):
            same = False
        if same and index.encoder == encoder_id and index.dim == dim and _same_store(db, index.meta):
            return replace(index), None
    return _load(folder, db, encoder_id, dim)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / "lock", "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # no advisory locks on this platform: one writer is assumed
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _files(meta: dict) -> dict[str, str]:
    """The generation's files: vectors, norms, means, graph."""
    g = meta["generation"]
    return {"vecs": f"vectors.{g}.f16", "norms": f"norms.{g}.f32", "means": f"means.{g}.npy", "graph": f"graph.{g}.usearch"}


def _store_marks(db: sqlite_utils.Database) -> dict:
    """What the index checks the store by: the newest document and embedding, and the record
    keys of the first and last documents (a new store at the same path differs there)."""
    first, last = db.execute("SELECT MIN(id), MAX(id) FROM documents").fetchone()
    keys = dict(db.execute("SELECT id, record_key FROM documents WHERE id IN (?, ?)", [first or 0, last or 0]).fetchall())
    embedded = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM embeddings").fetchone()[0]
    return {
        "first": [first, keys.get(first)], "last_document": [last, keys.get(last)],
        "max_document_id": last or 0, "embeddings_rowid": embedded,
    }


def _current(db: sqlite_utils.Database, index: VectorIndex) -> bool:
    meta = index.meta
    newest = db.execute("SELECT COALESCE(MAX(id), 0) FROM documents").fetchone()[0]
    if newest != meta["max_document_id"]:
        return False
    if meta["pending"]:
        return db.execute("SELECT COALESCE(MAX(rowid), 0) FROM embeddings").fetchone()[0] == meta["embeddings_rowid"]
    return True


def _graph_due(index: VectorIndex, hnsw_min: int) -> bool:
    """The graph should be built (enough rows) or dropped (too few)."""
    return (index.graph is None) == (index.rows >= hnsw_min)


def _same_store(db: sqlite_utils.Database, meta: dict) -> bool:
    for doc_id, key in (meta["first"], meta["last_document"]):
        if doc_id is None:
            continue
        row = db.execute("SELECT record_key FROM documents WHERE id = ?", [doc_id]).fetchone()
        if row is None or row[0] != key:
            return False
    return True


def _load(folder: Path, db: sqlite_utils.Database, encoder_id: str, dim: int) -> tuple[VectorIndex | None, str | None]:
    """The saved index, or (None, why it cannot be used). A damaged graph alone returns the
    index without its graph and the reason (the graph is then rebuilt from the vectors)."""
    try:
        meta_mtime_ns = (folder / "meta.json").stat().st_mtime_ns
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            return None, "meta.json is not an index of this version"
        if meta["encoder"] != encoder_id or int(meta["dim"]) != dim:
            return None, f"built for another encoder ({meta['encoder']})"
        if not _same_store(db, meta):
            return None, "built for another store"
        rows, languages, channels, files = int(meta["rows"]), list(meta["languages"]), list(meta["channels"]), _files(meta)
        columns = {name: _read_array(folder / file, dtype, rows) for name, (file, dtype) in COLUMNS.items()}
        norms = _read_array(folder / files["norms"], "<f4", rows)
        vecs = _read_matrix(folder / files["vecs"], rows, dim)
        means = np.load(folder / files["means"], allow_pickle=False)
        if means.shape != (len(languages) + 1, dim) or means.dtype != np.float32 or not np.isfinite(means).all():
            return None, f"{files['means']} is damaged"
        if rows and (columns["langs"].min() < 0 or columns["langs"].max() >= len(languages)):
            return None, "languages.i16 is damaged"
        if rows and (columns["chans"].min() < -1 or columns["chans"].max() >= len(channels)):
            return None, "channels.i16 is damaged"
        if not np.isfinite(norms).all() or any(len(meta[k]) != len(languages) for k in ("counts", "centred_counts")):
            return None, "the index is damaged"
        index = VectorIndex(encoder_id, dim, languages, channels, **columns, vecs=vecs, norms=norms, means=means, meta=meta)
    except FileNotFoundError as exc:
        return None, f"{Path(exc.filename or '?').name} is missing"
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        return None, f"the index is damaged ({type(exc).__name__}: {exc})"
    return index, _open_graph(folder, index, meta_mtime_ns)


def _read_array(path: Path, dtype: str, rows: int) -> np.ndarray:
    size = path.stat().st_size
    if size < rows * np.dtype(dtype).itemsize:
        raise ValueError(f"{path.name} is short ({size} bytes for {rows} rows)")
    return np.fromfile(path, dtype=dtype, count=rows).astype(_native(dtype))


def _read_matrix(path: Path, rows: int, dim: int) -> np.ndarray:
    size = path.stat().st_size
    if size < rows * dim * 2:
        raise ValueError(f"{path.name} is short ({size} bytes for {rows} rows)")
    if rows == 0:
        return np.zeros((0, dim), np.float16)
    return np.memmap(path, dtype="<f2", mode="r", shape=(rows, dim))


def _stat(path: Path) -> list[int]:
    """Size, modification and change times, inode and device: a file the index wrote and nobody
    wrote since keeps them (the change time cannot be set back by a user)."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _file_hash(path: Path) -> str:
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return xxhash.xxh3_64_hexdigest(b"")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return xxhash.xxh3_64_hexdigest(view)


def _open_graph(folder: Path, index: VectorIndex, meta_mtime_ns: int) -> str | None:
    """Map the graph file into `index.graph` when it is unchanged since the index wrote it (its
    recorded stat, older than meta.json's time `meta_mtime_ns`), or else when its size and hash
    are those recorded; the reason otherwise (None when there is no graph, or it opened)."""
    graph = index.meta.get("graph")
    if not graph:
        return None
    path = folder / _files(index.meta)["graph"]
    try:
        recorded = graph.get("stat")
        if recorded and _stat(path) == recorded and recorded[1] < meta_mtime_ns:
            index.graph_check = "stat"
        elif path.stat().st_size != graph["bytes"] or _file_hash(path) != graph["xxh3"]:
            return "the graph file fails its check"
        else:
            index.graph_check = "hash"
        from usearch.index import Index

        opened = Index.restore(str(path), view=True)
    except (OSError, RuntimeError, ValueError) as exc:
        return f"the graph file cannot be read ({exc})"
    if opened is None or len(opened) != graph["rows"] or opened.ndim != index.dim:
        return "the graph file does not match the index"
    index.graph = opened
    return None


def _empty(encoder_id: str, dim: int, db: sqlite_utils.Database, generation: int) -> VectorIndex:
    meta = {
        "format": FORMAT, "encoder": encoder_id, "dim": dim, "rows": 0, "languages": [], "channels": [], "counts": [],
        "centred_rows": 0, "centred_counts": [], "pending": [], "generation": generation, "graph": None, **_store_marks(db),
    }
    columns = {name: np.zeros(0, _native(dtype)) for name, (_, dtype) in COLUMNS.items()}
    return VectorIndex(encoder_id, dim, [], [], **columns, vecs=np.zeros((0, dim), np.float16), norms=np.zeros(0, np.float32),
                       means=np.zeros((1, dim), np.float32), meta=meta)


def _build(db, encoder_id, dim, folder, report, progress) -> VectorIndex:
    """Every cached document vector, read once; saved to `folder` when given."""
    generation = 1
    if folder is not None:
        for path in folder.glob("*.*"):  # a new generation; files of the old one are removed by _commit
            parts = path.name.split(".")
            if len(parts) == 3 and parts[1].isdigit():
                generation = max(generation, int(parts[1]) + 1)
        (folder / "meta.json").unlink(missing_ok=True)
        for file, _ in COLUMNS.values():
            (folder / file).unlink(missing_ok=True)
    index = _empty(encoder_id, dim, db, generation)
    _append_new(db, index, folder, report, progress, after_id=0)
    return index


def _append_new(db, index: VectorIndex, folder: Path | None, report: IndexReport, progress: Progress | None,
                after_id: int | None = None) -> None:
    """Append documents past the last one seen (up to the newest at the start: what is ingested
    meanwhile waits for the next call), and pending ones whose vectors are now cached. Rows go
    to the files batch by batch, so a million documents never sit twice in memory."""
    meta = index.meta
    marks = _store_marks(db)
    start, stop = (meta["max_document_id"] if after_id is None else after_id), marks["max_document_id"]
    total = db.execute("SELECT COUNT(*) FROM documents WHERE id > ? AND id <= ?", [start, stop]).fetchone()[0]
    sources = []
    if meta["pending"] and after_id is None and marks["embeddings_rowid"] != meta["embeddings_rowid"]:
        sources.append(docvec.cached_document_vectors(db, index.encoder, index.dim, doc_ids=list(meta["pending"])))
        total += len(meta["pending"])
        meta["pending"] = []
    sources.append(docvec.cached_document_vectors(db, index.encoder, index.dim, after_id=start, until_id=stop))
    pending, seen, rows_before = list(meta["pending"]), 0, index.rows
    names = {**{name: file for name, (file, _) in COLUMNS.items()}, "vecs": _files(meta)["vecs"], "norms": _files(meta)["norms"]}
    dtypes = {**{name: dtype for name, (_, dtype) in COLUMNS.items()}, "vecs": "<f2", "norms": "<f4"}
    parts = {name: [np.asarray(getattr(index, name))] for name in names if folder is None or name != "vecs"}
    if folder is not None:
        for name, file in names.items():
            width = np.dtype(dtypes[name]).itemsize * (index.dim if name == "vecs" else 1)
            with open(folder / file, "ab") as handle:  # a crash may have left rows meta.json does not count
                handle.truncate(rows_before * width)
    for source in sources:
        for found in source:
            langs = np.array([_code(index.languages, lang, index) for lang in found.langs], dtype=np.int16)
            centred = found.vectors - index.means[langs]
            norms = np.linalg.norm(centred, axis=1).astype(np.float32)
            new = {
                "ids": found.ids, "langs": langs, "days": found.days,
                "chans": np.array([-1 if c is None else _code(index.channels, c) for c in found.channels], dtype=np.int16),
                "vecs": (centred / np.maximum(norms, 1e-12)[:, None]).astype(np.float16), "norms": norms,
            }
            for name, values in new.items():
                if name in parts:
                    parts[name].append(values)
                if folder is not None:
                    with open(folder / names[name], "ab") as handle:
                        handle.write(values.astype(dtypes[name]).tobytes())
            pending += found.pending
            seen += len(found.ids) + len(found.pending)
            if progress:
                progress(min(seen, total), total)
    for name, values in parts.items():
        setattr(index, name, np.concatenate(values).astype(_native(dtypes[name])))
    index._order = None
    if folder is not None:
        index.vecs = _read_matrix(folder / names["vecs"], index.rows, index.dim)
    counts = np.bincount(index.langs, minlength=len(index.languages)) if index.rows else np.zeros(len(index.languages), np.int64)
    meta.update({k: marks[k] for k in ("first", "last_document", "max_document_id", "embeddings_rowid")})
    meta.update(rows=index.rows, languages=index.languages, channels=index.channels, counts=[int(c) for c in counts],
                pending=sorted(set(pending)))
    meta["centred_counts"] += [0] * (len(index.languages) - len(meta["centred_counts"]))
    report.added += index.rows - rows_before
    if _needs_recentring(meta):
        _recentre(index, folder)
        report.recentred = True


def _code(values: list[str], value: str, index: VectorIndex | None = None) -> int:
    """The position of `value` in the list of languages or channels, appended when new (a new
    language is centred on the mean of all documents until the next re-centring)."""
    if value not in values:
        values.append(value)
        if index is not None:
            index.means = np.vstack([index.means[:-1], index.means[-1:], index.means[-1:]])
    return values.index(value)


def _needs_recentring(meta: dict) -> bool:
    if meta["rows"] == 0:
        return False
    if meta["rows"] >= 2 * meta["centred_rows"]:
        return True
    return any(n >= docvec.MIN_LANGUAGE_DOCS > then for n, then in zip(meta["counts"], meta["centred_counts"]))


def _recentre(index: VectorIndex, folder: Path | None) -> None:
    """New language means from every row's raw vector, and every row centred on them, in a new
    generation; the graph is then rebuilt."""
    n_langs = len(index.languages)
    sums = np.zeros((n_langs, index.dim), dtype=np.float64)
    for start in range(0, index.rows, CHUNK):
        raw, lang = index.raw_rows(slice(start, start + CHUNK)), index.langs[start : start + CHUNK]
        for i in np.unique(lang):
            sums[i] += raw[lang == i].sum(axis=0, dtype=np.float64)
    counts = np.bincount(index.langs, minlength=n_langs)
    means = docvec.means_from_sums(sums, counts)
    index.meta.update(centred_rows=index.rows, centred_counts=[int(c) for c in counts], graph=None,
                      generation=index.meta["generation"] + 1)
    files = _files(index.meta)
    if folder is not None:
        for name in ("vecs", "norms"):  # left by a crash, perhaps
            (folder / files[name]).unlink(missing_ok=True)
    vec_parts, norm_parts = [], []
    for start in range(0, index.rows, CHUNK):
        rows = slice(start, start + CHUNK)
        centred = index.raw_rows(rows) - means[index.langs[rows]]
        norms = np.linalg.norm(centred, axis=1).astype(np.float32)
        vecs = (centred / np.maximum(norms, 1e-12)[:, None]).astype(np.float16)
        if folder is None:
            vec_parts.append(vecs)
            norm_parts.append(norms)
        else:
            with open(folder / files["vecs"], "ab") as v, open(folder / files["norms"], "ab") as n:
                v.write(vecs.astype("<f2").tobytes())
                n.write(norms.astype("<f4").tobytes())
    index.means, index.graph = means, None
    if folder is None:
        index.vecs = np.concatenate(vec_parts) if vec_parts else np.zeros((0, index.dim), np.float16)
        index.norms = np.concatenate(norm_parts) if norm_parts else np.zeros(0, np.float32)
    else:
        index.vecs = _read_matrix(folder / files["vecs"], index.rows, index.dim)
        index.norms = _read_array(folder / files["norms"], "<f4", index.rows)


def _sync_graph(index: VectorIndex, folder: Path | None, progress: Progress | None, hnsw_min: int) -> None:
    """Give `index` its graph when it has `hnsw_min` rows or more: add the rows it lacks, or
    build it (again); drop it below."""
    meta = index.meta
    if index.rows < hnsw_min:
        index.graph, meta["graph"] = None, None
        return
    from usearch.index import Index

    graph, have = index.graph, (meta.get("graph") or {}).get("rows", 0)
    if graph is not None and have == index.rows:
        return
    path = None if folder is None else folder / _files(meta)["graph"]
    if graph is not None and path is not None:  # a mapped file cannot grow: load it to add rows
        graph = Index.restore(str(path), view=False)
    if graph is None or have > index.rows:
        graph, have = Index(ndim=index.dim, metric="ip", dtype="i8", connectivity=CONNECTIVITY,
                            expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH), 0
    threads = available_cores()
    for start in range(have, index.rows, CHUNK):
        stop = min(start + CHUNK, index.rows)
        graph.add(np.arange(start, stop, dtype=np.uint64), np.asarray(index.vecs[start:stop], dtype=np.float32), threads=threads)
        if progress:
            progress(stop - have, index.rows - have)
    index.graph = graph
    meta["graph"] = {"rows": index.rows, "library": f"usearch {_usearch_version()}", "connectivity": CONNECTIVITY,
                     "expansion_add": EXPANSION_ADD}
    if path is not None:
        tmp = path.with_name(path.name + ".tmp")
        graph.save(str(tmp))
        meta["graph"].update(bytes=tmp.stat().st_size, xxh3=_file_hash(tmp))
        os.replace(tmp, path)
        meta["graph"]["stat"] = _stat(path)
        index.graph = Index.restore(str(path), view=True)


def _usearch_version() -> str:
    import usearch

    return usearch.__version__


def _commit(folder: Path, index: VectorIndex) -> None:
    """Write the generation's means and meta.json (the commit point), then remove files of
    other generations."""
    files = _files(index.meta)
    tmp = folder / (files["means"] + ".tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, index.means.astype(np.float32), allow_pickle=False)
    os.replace(tmp, folder / files["means"])
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps(index.meta, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / "meta.json")
    keep = set(files.values()) | {file for file, _ in COLUMNS.values()} | {"meta.json", "lock"}
    for path in folder.iterdir():
        if path.is_file() and path.name not in keep:
            path.unlink(missing_ok=True)
