"""`miner analyze --engine ray` gives the local engine's store, survives a dead worker and a
killed driver. Runs on a local Ray instance (2 CPUs, 200 MB object store), shut down after."""

import importlib.util
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from miner.analyze import analyze
from miner.backlog import build_backlog
from miner.errors import UsageError
from miner.ingest.pipeline import IngestOptions, ingest
from miner.nlp.encoders.fake import FakeEncoder
from miner.nlp.sentiment_data import Example
from miner.nlp.train_sentiment import train_sentiment
from miner.store import open_db
from miner.themes.discover import discover
from miner.themes.fit import ThemeParams
from miner.touchpoints.labels import correct_touchpoints
from miner.touchpoints.model import assign_touchpoints

HAS_RAY = importlib.util.find_spec("ray") is not None and importlib.util.find_spec("ray.data") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="Ray Data is not installed (pip install miner[ray]; CI installs it)")

REPO = Path(__file__).resolve().parents[1]
TOPICS = {
    "login": ["login", "password", "locked", "account", "terrible", "reset", "great"],
    "delivery": ["delivery", "courier", "parcel", "late", "awful", "tracking", "happy"],
    "price": ["price", "increase", "bill", "expensive", "bad", "invoice", "excellent"],
    "signal": ["signal", "coverage", "dropped", "calls", "horrible", "reception", "perfect"],
}
NEG = ["terrible service", "awful billing error", "the app crashes", "very bad support", "horrible delay"]
POS = ["great service", "excellent support", "fast and friendly", "very happy", "perfect install"]
NEU = ["the invoice arrived", "I have a question", "the router is white", "please call me", "what is the plan"]


def rows_for(n_per_topic, seed=0, start=0):
    rng = random.Random(seed)
    rows = []
    for topic, words in TOPICS.items():
        for i in range(start, start + n_per_topic):
            text = " ".join(rng.sample(words, 4)) + f" case {i}. " + rng.choice(NEG + POS + NEU) + "."
            rows.append({"id": f"{topic}-{i}", "text": text, "created_at": f"2026-{1 + i % 11:02d}-{1 + i % 27:02d}"})
    return rows


def load(db, path: Path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    ingest(db, [str(path)], IngestOptions(external_id="id", workers=0))


@pytest.fixture(scope="module")
def toy_head(tmp_path_factory):
    examples = [Example(v, label, "toy", "en", "valid" if j == 3 else "train")
                for label, texts in (("neg", NEG), ("pos", POS), ("neu", NEU)) for t in texts
                for j, v in enumerate((t, t + " today", t + " again", "honestly " + t))]
    result = train_sentiment(examples, FakeEncoder(), None, name="toy", grid=[{"hidden": 0, "weight_decay": 1e-4, "epochs": 60}])
    path = tmp_path_factory.mktemp("head") / "toy.npz"
    result.head.save(path)
    return path


@pytest.fixture(scope="module")
def base_store(tmp_path_factory, toy_head):
    """Analyzed, themed and touchpointed; then new documents arrive (some repeating old texts)."""
    folder = tmp_path_factory.mktemp("base")
    db = open_db(folder / "base.db")
    load(db, folder / "a.jsonl", rows_for(30))
    analyze(db, encoder=FakeEncoder(), head_path=str(toy_head))
    discover(db, encoder=FakeEncoder(), params=ThemeParams(min_cluster_size=8))
    assign_touchpoints(db, encoder=FakeEncoder())
    new = rows_for(12, seed=2, start=200) + [dict(r, id=f"again-{r['id']}") for r in rows_for(30)[::10]]
    load(db, folder / "b.jsonl", new)
    # people's corrections of new documents before they are analyzed: one whole document, one sentence of another
    keys = [k for (k,) in db.execute("SELECT key FROM touchpoints ORDER BY key")]
    two = [d for (d,) in db.execute("SELECT document_id FROM segments WHERE informative = 1 GROUP BY document_id "
                                    "HAVING COUNT(*) > 1 ORDER BY document_id DESC LIMIT 2")]
    seg = db.execute("SELECT MIN(id) FROM segments WHERE document_id = ? AND informative = 1", [two[1]]).fetchone()[0]
    correct_touchpoints(db, item=f"doc:{two[0]}", touchpoint=keys[0])
    correct_touchpoints(db, item=f"seg:{seg}", touchpoint=keys[1])
    db.conn.close()
    return folder / "base.db"


@pytest.fixture(scope="module")
def local_ray():
    if not HAS_RAY:
        pytest.skip("Ray Data is not installed")
    import ray

    ray.init(num_cpus=2, object_store_memory=200 * 1024 * 1024, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def copy_store(src: Path, dest: Path):
    shutil.copy(src, dest)
    return open_db(dest)


def snapshot(db):
    """What both engines must agree on (timestamps left out)."""
    q = lambda sql: [tuple(r) for r in db.execute(sql)]  # noqa: E731
    vectors = {h: np.frombuffer(v, "<f4") for h, v in db.execute("SELECT text_hash, vector FROM embeddings")}
    return {
        "vectors": vectors,
        "segment_sentiment": q("SELECT segment_id, head, label FROM segment_sentiment ORDER BY segment_id"),
        "document_sentiment": q("SELECT document_id, head, label, n_segments FROM document_sentiment ORDER BY document_id"),
        "segment_themes": q("SELECT segment_id, theme_id, subtheme_id, score, method, run_id FROM segment_themes ORDER BY segment_id"),
        "document_themes": q("SELECT document_id, theme_id, subtheme_id, score, method, low_confidence, run_id FROM document_themes "
                             "ORDER BY document_id"),
        "theme_sizes": q("SELECT id, size, documents FROM themes ORDER BY id"),
        "segment_touchpoints": q("SELECT segment_id, touchpoint, rank, confidence, method FROM segment_touchpoints "
                                 "ORDER BY segment_id, touchpoint"),
        "touchpoint_abstentions": q("SELECT segment_id, reason, closest, confidence FROM touchpoint_abstentions ORDER BY segment_id"),
        "document_touchpoints": q("SELECT document_id, touchpoint, confidence, method, reason, closest FROM document_touchpoints "
                                  "ORDER BY document_id"),
        "theme_touchpoints": q("SELECT * FROM theme_touchpoints ORDER BY 1, 2"),
        "touchpoint_model_meta": [json.loads(v).get("last_segment_id") for (v,) in db.execute(
            "SELECT value FROM theme_state WHERE key = 'touchpoints.meta'")],
        "backlog": q("SELECT id, theme_id, touchpoint, rank FROM backlog_items ORDER BY id"),
    }


def assert_same_store(a, b, scores=True):
    assert a["vectors"].keys() == b["vectors"].keys()
    cos = min(float(np.dot(a["vectors"][h], b["vectors"][h])) for h in a["vectors"])
    assert cos > 1 - 1e-5
    for key in a:
        if key != "vectors":
            assert a[key] == b[key], key


@needs_ray
@pytest.mark.slow
def test_ray_gives_the_local_store_and_survives_a_dead_worker(base_store, toy_head, tmp_path, local_ray, monkeypatch):
    from miner.engine.ray_analyze import FAIL_ONCE_ENV, RayOptions, analyze_ray

    local = copy_store(base_store, tmp_path / "local.db")
    pending = local.execute("SELECT COUNT(*) FROM documents WHERE informative = 1").fetchone()[0] - \
        local.execute("SELECT COUNT(*) FROM document_sentiment").fetchone()[0]
    assert pending >= 48  # the new documents (and documents left unanalyzed: the local engine takes them too)
    expected = analyze(local, encoder=FakeEncoder(), head_path=str(toy_head))
    build_backlog(local)

    marker = tmp_path / "worker-died-once"
    monkeypatch.setenv(FAIL_ONCE_ENV, str(marker))
    remote = copy_store(base_store, tmp_path / "ray.db")
    cached_before = remote.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    summary, stats = analyze_ray(remote, encoder_name="fake", head_path=str(toy_head), batch_documents=8,
                                 options=RayOptions(workers=2))
    build_backlog(remote)
    assert marker.exists()  # a worker did die mid-run
    assert summary.documents == expected.documents == pending
    assert stats.units >= 6 and stats.units_on_driver >= 0
    # texts already embedded were never embedded again: the workers embedded exactly what the cache lacked
    assert summary.embed.embedded == remote.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] - cached_before
    assert summary.embed.embedded == expected.embed.embedded
    assert summary.themes == expected.themes and summary.touchpoints == expected.touchpoints
    assert expected.themes["assigned"] + expected.themes["outliers"] >= 48 and expected.touchpoints["assigned"] >= 48
    # the new documents were placed and given touchpoints in the workers, from their fresh vectors
    assert stats.assigned_documents >= 40 and stats.assigned_segments >= 40
    assert_same_store(snapshot(local), snapshot(remote))
    # nothing doubled: one sentiment row per document and segment
    assert remote.execute("SELECT COUNT(*), COUNT(DISTINCT document_id) FROM document_sentiment").fetchone() == \
        local.execute("SELECT COUNT(*), COUNT(DISTINCT document_id) FROM document_sentiment").fetchone()
    # a second run finds nothing pending and starts no worker
    again, again_stats = analyze_ray(remote, encoder_name="fake", head_path=str(toy_head), options=RayOptions(workers=2))
    assert again.documents == 0 and again_stats.units == 0


@needs_ray
@pytest.mark.models
def test_ray_with_the_real_e5_small_matches_local(tmp_path, local_ray):
    """~50 texts through e5-small on one Ray worker and locally: same vectors, labels, store."""
    from miner.engine.ray_analyze import RayOptions, analyze_ray
    from miner.nlp.encoders.registry import get_encoder

    corpus = [
        "The delivery was three days late and nobody answered the phone.",
        "Great support, the agent fixed my router in five minutes.",
        "Die Rechnung ist viel zu hoch, ich wurde doppelt belastet.",
        "Le colis est arrivé abîmé et le service client ne répond pas.",
        "La app se cierra cada vez que intento pagar.",
        "I have a question about my contract number.",
        "Excellent price, fast install, very happy.",
        "Il rimborso non è mai arrivato dopo un mese.",
        "My password reset email never arrives.",
        "The technician was friendly but the signal is still weak at home.",
    ]
    rows = [{"id": f"d{i}", "text": f"{t} (case {i})" if i >= len(corpus) else t} for i, t in enumerate(corpus * 5)]
    local = open_db(tmp_path / "local.db")
    load(local, tmp_path / "in.jsonl", rows)
    local.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(tmp_path / "local.db", tmp_path / "ray.db")
    remote = open_db(tmp_path / "ray.db")
    expected = analyze(local, encoder=get_encoder("e5-small", lazy=True))
    summary, _ = analyze_ray(remote, encoder_name="e5-small", options=RayOptions(workers=1), batch_documents=16)
    assert summary.documents == expected.documents >= 45
    assert summary.embed.embedded == expected.embed.embedded
    assert_same_store(snapshot(local), snapshot(remote))


@needs_ray
@pytest.mark.slow
def test_a_killed_driver_resumes_like_the_local_engine(base_store, toy_head, tmp_path, local_ray):
    """SIGKILL the driver of `miner analyze --engine ray` once results are being written, run it
    again: the store is the local engine's."""
    local = copy_store(base_store, tmp_path / "local.db")
    before = local.execute("SELECT COUNT(*) FROM document_sentiment").fetchone()[0]
    pending = analyze(local, encoder=FakeEncoder(), head_path=str(toy_head)).documents
    shutil.copy(base_store, tmp_path / "ray.db")
    cmd = [sys.executable, str(REPO / "cli.py"), "analyze", "--db", str(tmp_path / "ray.db"), "--encoder", "fake",
           "--head", str(toy_head), "--engine", "ray", "--workers", "1", "--documents-per-batch", "2", "--quiet"]
    env = dict(os.environ, MINER_RAY_SLOW_S="0.3")  # each unit takes a while, so the kill lands mid-run
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        done = 0
        while time.time() < deadline and proc.poll() is None:
            with sqlite3.connect(tmp_path / "ray.db") as conn:
                done = conn.execute("SELECT COUNT(*) FROM document_sentiment").fetchone()[0]
            if done >= before + 6:  # a few units written
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        from tests.writers import descendants, still_running

        ray_processes = descendants(proc.pid)  # the local Ray instance the driver started: GCS, raylet, workers, agents
        assert len(ray_processes) >= 3
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # Ray's own fate sharing: GCS, raylet and workers end with the driver (within seconds); its two
        # agents first report to the dead GCS and end 60-75 s later (docs/scale.md), so they are not waited for.
        deadline = time.time() + 15
        while time.time() < deadline and _not_agents(still_running(ray_processes)):
            time.sleep(0.5)
        assert not _not_agents(still_running(ray_processes))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # what the driver's local Ray instance left behind
        except ProcessLookupError:
            pass
    with sqlite3.connect(tmp_path / "ray.db") as conn:
        partial = conn.execute("SELECT COUNT(*) FROM document_sentiment").fetchone()[0]
    assert before < partial < before + pending  # killed mid-run
    from miner.engine.ray_analyze import RayOptions, analyze_ray

    remote = open_db(tmp_path / "ray.db")
    rerun, _ = analyze_ray(remote, encoder_name="fake", head_path=str(toy_head), options=RayOptions(workers=1))
    assert rerun.documents == before + pending - partial  # the rest, nothing twice
    assert_same_store(snapshot(local), snapshot(remote))


def test_analyze_says_how_many_new_documents_joined_the_themes_and_touchpoints(base_store, toy_head, tmp_path):
    from miner.cli.format_ingest import analyze_lines

    db = copy_store(base_store, tmp_path / "s.db")
    summary = analyze(db, encoder=FakeEncoder(), head_path=str(toy_head)).to_dict()
    lines = analyze_lines(summary)
    t, p = summary["themes"], summary["touchpoints"]
    assert t["assigned"] >= 40 and p["assigned"] >= 40
    assert f"Themes: {t['assigned']:,} new documents joined the existing themes, {t['outliers']:,} fit none" in "\n".join(lines)
    assert f"Touchpoints: {p['assigned']:,} new segments at a touchpoint, {p['none']:,} without one." in lines
    again = analyze_lines(analyze(db, encoder=FakeEncoder(), head_path=str(toy_head)).to_dict())
    assert "Nothing new to analyze." in again and not any(x.startswith(("Themes", "Touchpoints")) for x in again)


def _not_agents(pids: set[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "agent" not in cmd.lower():
            out.append(cmd[:80])
    return out


def test_without_ray_the_engine_says_how_to_install_it(monkeypatch, base_store, toy_head, tmp_path):
    import builtins

    from miner.engine import ray_analyze

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    db = copy_store(base_store, tmp_path / "s.db")
    with pytest.raises(UsageError) as err:
        ray_analyze.analyze_ray(db, encoder_name="fake", head_path=str(toy_head))
    assert err.value.code == "E740" and "pip install miner[ray]" in str(err.value)


# --- ingest and themes discover on Ray (one Ray session, `local_ray`, shared with the tests above) ---

def hostile_inputs(folder: Path) -> list[str]:
    """Texts with PII to redact, copies to dedupe, several languages, a rejected row, two formats."""
    rng = random.Random(5)
    tails = ["Das Paket kam nie an.", "Le colis est arrivé abîmé.", "La app se cierra.", "great", "", "   "]
    rows = [{"id": f"r{i}", "text": f"Mail me at user{i}@example.com or call +44 20 7946 0{i % 1000:03d}. "
             f"{rng.choice(NEG + POS + NEU)} {rng.choice(tails)}"} for i in range(260)]
    rows += [dict(r, id=f"copy-{r['id']}") for r in rows[:30]]  # exact copies: duplicates, on the driver
    (folder / "in.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    (folder / "more.csv").write_text("id,text\n" + "\n".join(f'c{i},"review {i}: the app crashes when I pay, card 4111 1111 1111 1111"'
                                                             for i in range(90)), "utf-8")
    return [str(folder / "in.jsonl"), str(folder / "more.csv")]


@needs_ray
@pytest.mark.slow
def test_ingest_on_ray_gives_the_local_store_and_survives_a_dead_worker(tmp_path, local_ray, monkeypatch):
    from miner.engine.ray_common import FAIL_ONCE_ENV, RayOptions
    from miner.engine.ray_ingest import ingest_ray
    from tests.writers import differences, fingerprint

    paths = hostile_inputs(tmp_path)
    options = lambda: IngestOptions(external_id="id", batch_size=40, workers=0)  # noqa: E731  (batches of 40: 10 tasks)
    local = open_db(tmp_path / "local.db")
    expected = ingest(local, paths, options())
    marker = tmp_path / "worker-died-once"
    monkeypatch.setenv(FAIL_ONCE_ENV, str(marker))
    remote = open_db(tmp_path / "ray.db")
    summary, stats = ingest_ray(remote, paths, options(), ray_options=RayOptions(workers=2))
    assert marker.exists()  # a worker did die mid-run
    assert stats.batches >= 10 and stats.texts == 290 + 90
    got, want = summary.to_dict(), expected.to_dict()
    for d in (got, want):
        d.pop("seconds")
    assert got == want  # the same counts: stored, duplicates, skipped, PII redacted
    local.conn.close()
    remote.conn.close()
    assert differences(fingerprint(tmp_path / "local.db"), fingerprint(tmp_path / "ray.db")) == []
    assert summary.total("stored") > 300 and summary.total("duplicates") >= 30  # nothing lost or doubled: the local counts
    # a second run finds the inputs unchanged and sends nothing
    again, again_stats = ingest_ray(open_db(tmp_path / "ray.db"), paths, options(), ray_options=RayOptions(workers=2))
    assert again_stats.batches == 0 and {r.status for r in again.inputs} == {"unchanged"}


@needs_ray
@pytest.mark.slow
def test_themes_discover_on_ray_gives_the_local_store_and_survives_a_dead_worker(base_store, tmp_path, local_ray, monkeypatch):
    """A refit over a store with themes (so identities are matched), on a sample smaller than the
    store (so most documents are assigned, not fitted), placed in batches of 16 rows on Ray."""
    from miner.engine.ray_common import FAIL_ONCE_ENV, RayOptions
    from miner.engine.ray_themes import discover_ray
    from tests.writers import differences, fingerprint

    params = ThemeParams(min_cluster_size=8, max_fit=60)
    local = copy_store(base_store, tmp_path / "local.db")
    expected = discover(local, encoder=FakeEncoder(), params=params)
    marker = tmp_path / "worker-died-once"
    monkeypatch.setenv(FAIL_ONCE_ENV, str(marker))
    remote = copy_store(base_store, tmp_path / "ray.db")
    summary, stats = discover_ray(remote, encoder=FakeEncoder(), params=params, options=RayOptions(workers=2), batch_rows=16)
    assert marker.exists()  # a worker did die mid-run
    assert expected.documents > expected.fitted == 60  # documents beyond the sample were assigned
    docs, segs = expected.documents, expected.segments
    # every document labelled (originals) and placed, every sentence placed, 16 rows a task
    assert docs + segs < stats.rows <= 2 * docs + segs
    assert stats.batches >= -(-docs // 16) + -(-segs // 16) + 1
    assert (summary.themes, summary.subthemes, summary.outliers, summary.events) == \
        (expected.themes, expected.subthemes, expected.outliers, expected.events)
    local.conn.close()
    remote.conn.close()
    assert differences(fingerprint(tmp_path / "local.db"), fingerprint(tmp_path / "ray.db")) == []
    # nothing doubled: one row per document and per sentence
    with sqlite3.connect(tmp_path / "ray.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM document_themes").fetchone()[0] == docs
        assert conn.execute("SELECT COUNT(*) FROM segment_themes").fetchone()[0] == segs


# --- a killed driver of ingest and themes discover on Ray (a driver process of its own) ---

def _driver(script: str, tmp_path: Path) -> subprocess.Popen:
    """A Python process running `script` as the driver, each Ray task slowed so a kill lands mid-run."""
    env = dict(os.environ, MINER_RAY_SLOW_S="0.5", PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 90) -> None:
    """SIGKILL the driver once `ready()` holds (it must still be running then), and what it started."""
    try:
        deadline = time.time() + timeout
        while time.time() < deadline and proc.poll() is None and not ready():
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert ready()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # its local Ray instance (Ray's fate sharing ends it too: see above)
        except ProcessLookupError:
            pass


def _ray_tasks_started(pid: int) -> bool:
    from tests.writers import descendants

    for child in descendants(pid):
        try:
            if b"ray::_run" in Path(f"/proc/{child}/cmdline").read_bytes():
                return True
        except OSError:
            pass
    return False


@needs_ray
@pytest.mark.slow
def test_a_killed_ingest_driver_on_ray_resumes_like_the_local_engine(tmp_path, local_ray):
    from miner.engine.ray_common import RayOptions
    from miner.engine.ray_ingest import ingest_ray
    from tests.writers import differences, fingerprint

    paths = hostile_inputs(tmp_path)
    local = open_db(tmp_path / "local.db")
    ingest(local, paths, IngestOptions(external_id="id", batch_size=40, workers=0))
    local.conn.close()
    proc = _driver(
        "from miner.store import open_db\nfrom miner.ingest.pipeline import IngestOptions\n"
        "from miner.engine.ray_common import RayOptions\nfrom miner.engine.ray_ingest import ingest_ray\n"
        f"ingest_ray(open_db('ray.db'), {paths!r}, IngestOptions(external_id='id', batch_size=40, workers=0), "
        "ray_options=RayOptions(workers=1))\n", tmp_path)

    def stored() -> int:
        if not (tmp_path / "ray.db").exists():
            return 0
        try:
            with sqlite3.connect(tmp_path / "ray.db") as conn:
                return conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        except sqlite3.OperationalError:  # the store's tables not created yet
            return 0

    _kill_when(proc, lambda: stored() >= 80)  # two batches of 40 written, eight to go
    assert 80 <= stored() < 300
    summary, _ = ingest_ray(open_db(tmp_path / "ray.db"), paths, IngestOptions(external_id="id", batch_size=40, workers=0),
                            ray_options=RayOptions(workers=2))
    assert summary.total("stored") > 0  # the rest, and nothing twice: the stores are equal
    assert differences(fingerprint(tmp_path / "local.db"), fingerprint(tmp_path / "ray.db")) == []


@needs_ray
@pytest.mark.slow
def test_a_killed_themes_driver_on_ray_leaves_the_themes_as_they_were(base_store, tmp_path, local_ray):
    """The run's one transaction: killed while its tasks place documents, the store keeps the
    previous themes; the next run gives the local engine's themes."""
    from miner.engine.ray_common import RayOptions
    from miner.engine.ray_themes import discover_ray
    from tests.writers import differences, fingerprint

    params = ThemeParams(min_cluster_size=8, max_fit=60)
    local = copy_store(base_store, tmp_path / "local.db")
    discover(local, encoder=FakeEncoder(), params=params)
    local.conn.close()
    remote = copy_store(base_store, tmp_path / "ray.db")
    remote.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    remote.conn.close()
    before = fingerprint(tmp_path / "ray.db")
    proc = _driver(
        "from miner.store import open_db\nfrom miner.nlp.encoders.fake import FakeEncoder\nfrom miner.themes.fit import ThemeParams\n"
        "from miner.engine.ray_common import RayOptions\nfrom miner.engine.ray_themes import discover_ray\n"
        "discover_ray(open_db('ray.db'), encoder=FakeEncoder(), params=ThemeParams(min_cluster_size=8, max_fit=60), "
        "options=RayOptions(workers=1), batch_rows=16)\n", tmp_path)
    _kill_when(proc, lambda: _ray_tasks_started(proc.pid))
    after = fingerprint(tmp_path / "ray.db")
    assert len(after["embeddings"]) > len(before["embeddings"])  # the new documents' vectors, kept (never embedded twice)
    before.pop("embeddings"), after.pop("embeddings")
    assert differences(before, after) == []  # the rest as it was: nothing half-written
    discover_ray(open_db(tmp_path / "ray.db"), encoder=FakeEncoder(), params=params, options=RayOptions(workers=2), batch_rows=16)
    assert differences(fingerprint(tmp_path / "local.db"), fingerprint(tmp_path / "ray.db")) == []
