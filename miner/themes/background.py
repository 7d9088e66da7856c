"""Keyword tokenising in a second process while `discover` clusters.

Tokenising every distinct segment text for keywords (jieba, SudachiPy, pyvi, spaCy) needs no
themes, and the clustering runs mostly on one core (UMAP's layout is single-threaded under a
fixed seed), so where a second core exists a second process does it meanwhile (measured on
34k segments: the keyword stage went from 12 s to 4 s). Where it cannot run
(one core, no process start, the child dies) `result()` is None and the caller tokenises in
line: the same table either way.
"""

from __future__ import annotations

import multiprocessing
import os
from contextlib import suppress

from ..lifeline import die_with_parent
from ..machine import available_cores
from .keywords import TermTable, term_table


def _work(parent: int, conn, texts: list[str], langs: list[str], stop_terms: frozenset[str]) -> None:
    die_with_parent(parent)  # `themes discover` killed (SIGKILL too): this process ends with it
    try:
        conn.send(("ok", term_table(texts, langs, stop_terms)))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which tokenises in line
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


# Below this many texts tokenising in line is quick. Above, even a small multilingual store pays
# for loading ten languages' tokenisers (jieba, SudachiPy, spaCy): on 511 segments in 10 languages
# the keyword stage went from 3.5 to 2.6 s with the second process (it was 2,000 before).
MIN_TEXTS = 200


class TermsInBackground:
    def __init__(self, texts: list[str], langs: list[str], stop_terms: set[str] | frozenset[str],
                 min_texts: int | None = None):
        self._proc = self._conn = None
        self.error: str | None = None
        if available_cores() < 2 or len(texts) < (MIN_TEXTS if min_texts is None else min_texts):
            return
        try:
            # spawn, not fork: the parent may hold torch / BLAS thread pools that fork breaks
            ctx = multiprocessing.get_context("spawn")
            self._conn, child = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(target=_work, args=(os.getpid(), child, list(texts), list(langs), frozenset(stop_terms)),
                                     daemon=True, name="miner-keyword-tokens")
            self._proc.start()
            child.close()
        except Exception as exc:  # noqa: BLE001 - no second process here: in line instead
            self.error = f"{type(exc).__name__}: {exc}"
            self.close()

    def result(self) -> TermTable | None:
        """The table, or None where the second process did not deliver one."""
        if self._conn is None:
            return None
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError) as exc:  # the child died (killed, out of memory)
            self.error = f"{type(exc).__name__}: the keyword process ended without a result"
            return None
        finally:
            self.close()
        if status != "ok":
            self.error = value
            return None
        return value

    def close(self) -> None:
        """Stop the child if it still runs (an error or Ctrl-C in the parent)."""
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.terminate()
            with suppress(Exception):
                self._proc.join(timeout=5)
            self._proc = None
        if self._conn is not None:
            with suppress(OSError):
                self._conn.close()
            self._conn = None

    def __enter__(self) -> TermsInBackground:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
