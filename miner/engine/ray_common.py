"""What every `--engine ray` command shares: its options, importing Ray (or saying how to
install it, E740), joining a cluster or starting a local instance (E741), and a worker that
dies once on purpose (tests).

Nothing here imports Ray until a run starts.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass

from ..errors import InputError, UsageError

INSTALL_HINT = "pip install miner[ray]"
FAIL_ONCE_ENV = "MINER_RAY_FAIL_ONCE"  # tests: a file path; the first worker call to create it exits its process
SLOW_ENV = "MINER_RAY_SLOW_S"  # tests: seconds a worker sleeps after each unit (so a kill lands mid-run)


@dataclass
class RayOptions:
    address: str | None = None  # None: a local Ray instance started (and stopped) here; auto; ray://HOST:10001
    workers: int = 2  # actors in the pool (tasks at once for the stateless stages)
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0
    object_store_mb: int = 200  # for a local instance only
    ahead: int = 0  # units waiting in the feeder; 0: 4 per worker + 2

    def check(self) -> None:
        if self.workers < 1:
            raise UsageError("E742", f"--workers must be at least 1, not {self.workers}.", "Use --workers 1 or more.")
        if self.gpus_per_worker < 0 or self.cpus_per_worker <= 0:
            raise UsageError("E742", "--gpus-per-worker must be 0 or more (and CPUs per worker above 0).",
                             "Use --gpus-per-worker 0 for CPU workers, 1 for one GPU each.")
        if self.address is not None and self.address != "auto" and not self.address.startswith("ray://"):
            raise UsageError("E742", f"--address {self.address!r} is not 'auto' nor ray://HOST:PORT.",
                             "Use --address auto on a cluster node, or --address ray://HOST:10001 from elsewhere.")


def import_ray():
    """Ray and Ray Data, or a coded error that says how to install them."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise UsageError("E740", f"--engine ray needs Ray Data, which is not installed ({exc}).", INSTALL_HINT) from None
    return ray


def connect(ray, options: RayOptions) -> tuple[bool, float]:
    """Joins the cluster (or starts a local instance). Returns (whether this run must shut it
    down, seconds it took)."""
    started = time.perf_counter()
    logging.getLogger("ray").setLevel(logging.WARNING)
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    if ray.is_initialized():
        stopping = False
    else:
        kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=True, logging_level=logging.ERROR)
        try:
            if options.address is None:
                cpus = max(1, math.ceil(options.workers * options.cpus_per_worker))
                ray.init(num_cpus=cpus, num_gpus=math.ceil(options.workers * options.gpus_per_worker) or None,
                         object_store_memory=options.object_store_mb * 1024 * 1024, **kwargs)
            else:
                ray.init(address=options.address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError, OSError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise InputError("E741", f"cannot reach a Ray cluster at {options.address or 'a local instance'}: {first}",
                             "Start one with `ray start --head` (docs/scale.md), or check --address.") from None
        stopping = True
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    # One unit per task: Ray Data would bundle small blocks (up to 1 MB) into one task, whose
    # results then come back together, and a worker waiting for a unit would hold back the
    # results the driver needs to hand that unit out.
    context.target_min_block_size = 1
    return stopping, time.perf_counter() - started


def test_hooks() -> tuple[str | None, float]:
    """Tests, read on the driver and sent with each task: the fail-once marker, and the seconds a
    task sleeps after its work (so a kill of the driver lands mid-run)."""
    return os.environ.get(FAIL_ONCE_ENV), float(os.environ.get(SLOW_ENV) or 0)


def fail_once(marker: str | None) -> None:
    """Tests: the first worker call to create `marker` exits its process (a worker dying mid-run)."""
    if not marker:
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    os._exit(1)


def map_tasks(ray, fn, items, *, shared=None, workers: int, ahead: int = 2):
    """`fn(shared, item)` for every item as a Ray task (stateless, 1 CPU each), at most
    `workers * ahead` in flight; yields (index, result) as each finishes, so the driver writes
    while the cluster works. `shared` goes to the object store once. A task whose worker dies
    is retried by Ray (`max_retries`), and yields once."""
    remote = ray.remote(num_cpus=1, max_retries=5)(_run)
    ref = ray.put(shared)
    hooks = test_hooks()
    waiting: dict = {}
    items = iter(enumerate(items))
    exhausted = False
    while True:
        while not exhausted and len(waiting) < workers * ahead:
            try:
                i, item = next(items)
            except StopIteration:
                exhausted = True
                break
            waiting[remote.remote(fn, ref, item, hooks)] = i
        if not waiting:
            return
        done, _ = ray.wait(list(waiting), num_returns=1)
        for r in done:
            yield waiting.pop(r), ray.get(r)


def _run(fn, shared, item, hooks):
    marker, slow_s = hooks
    fail_once(marker)
    out = fn(shared, item)
    if slow_s:
        time.sleep(slow_s)
    return out
