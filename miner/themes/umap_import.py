"""Import UMAP with its compiled code kept on disk between processes.

UMAP's layout and graph code is numba, compiled anew in every process: measured 4-5 s of a
`themes discover` on 500 segments that otherwise takes about 8 s. numba can keep what it compiled
in a cache folder, but only for functions that ask for it (`cache=True`), and UMAP's do not. So,
while UMAP (and pynndescent, which it imports) are first imported, `numba.njit` defaults to
`cache=True`, with the cache in miner's cache folder (`$MINER_CACHE_DIR` or `~/.cache/miner`,
under `numba/`). The compiled code is numba's own; it is recompiled when UMAP or numba change.
Where the folder cannot be written, UMAP is imported as it is.
"""

from __future__ import annotations

import os
import sys
import warnings

from ..paths import cache_dir


def import_umap():
    """The `umap.UMAP` class, its numba functions cached on disk when that is possible."""
    if "umap" not in sys.modules and _use_cache():
        import numba

        original = numba.njit

        def njit_cached(*args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs:  # bare @numba.njit
                return original(cache=True)(args[0])
            kwargs.setdefault("cache", True)
            return original(*args, **kwargs)

        numba.njit = njit_cached
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "cannot cache ..." for the few functions numba can't keep
                import umap  # noqa: F401
        finally:
            numba.njit = original
    from umap import UMAP

    return UMAP


def _use_cache() -> bool:
    folder = os.environ.get("NUMBA_CACHE_DIR") or str(cache_dir() / "numba")
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, ".write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError:
        return False
    os.environ["NUMBA_CACHE_DIR"] = folder
    try:
        import numba.core.config as config

        config.CACHE_DIR = folder  # numba read the variable when it was imported
    except ImportError:
        return False
    return True
