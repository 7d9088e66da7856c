"""Kill anywhere, lose nothing: every writing stage SIGKILLed at random moments, then re-run.

    nice .venv/bin/python bench/stress_kill.py [--kills 50] [--stage-kills "themes discover=10"] [--seed 17]
        [--stages "alerts,crawl"] [--fresh]

For each stage (ingest, analyze, themes discover, touchpoints assign, backlog, alerts, crawl)
the store the stage before it leaves is built once, and the stage is run on it uninterrupted:
that store is the reference. Then, `--kills` times: a copy of the store before the stage, the
stage started as a real `miner` process (fake encoder), SIGKILL at a random moment within the
uninterrupted run's time, `PRAGMA integrity_check`, the stage run again to the end, and the
store compared with the reference: integrity, documents lost or doubled (by record key), every
table equal but for clock readings (tests/writers.py `fingerprint`), and child processes
(ingest's workers, the theme keywords process) still alive 2 s after the kill.

Writes its section of docs/reliability.md (between `<!-- reliability:kill -->` markers) and
every kill's record to bench/_work/stress_kill.jsonl; the table counts every record there, so
runs with `--stages` add up (`--fresh` starts the file again). tests/stress/test_kill_anywhere.py runs
the same with 3 kills per stage (`MINER_STRESS_KILLS` for more).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.report import machine  # noqa: E402
from tests.writers import KILL_STAGES, Setup, big_input, build_chain, fake_head, kill_once, kill_times  # noqa: E402

RELIABILITY = ROOT / "docs" / "reliability.md"
WORK = ROOT / "bench" / "_work" / "stress_kill"


def parse_stage_kills(text: str | None, default: int) -> dict[str, int]:
    counts = {stage: default for stage in KILL_STAGES}
    for part in filter(None, (text or "").split(",")):
        stage, _, n = part.partition("=")
        if stage.strip() not in counts:
            raise SystemExit(f"unknown stage {stage!r}: one of {', '.join(KILL_STAGES)}")
        counts[stage.strip()] = int(n)
    return counts


def write_reliability(rows: list[dict], note: str) -> None:
    lines = [
        "### Kill anywhere, lose nothing (`bench/stress_kill.py`)",
        "",
        "Each writing stage started on a copy of the store before it, SIGKILLed at a random moment within its",
        "uninterrupted run time, checked, then run again to the end and compared with the store of an",
        "uninterrupted run (every table but clock readings: documents, sentiment, themes, touchpoints, backlog ids,",
        "alerts), or, where the kill came after the run had committed its end, with an uninterrupted run followed by",
        "the same re-run (a crawl then records a second, incremental run). Orphans: child processes still alive 2 s",
        "after the kill. Targets: integrity ok, 0 lost, 0 doubled, stores equal, 0 orphans.",
        "",
        "| stage | kills | killed mid-run | integrity ok (after kill / after re-run) | documents lost | documents doubled | stores equal (to one run + to run and re-run) | orphan processes | uninterrupted run (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for stage in KILL_STAGES:
        mine = [r for r in rows if r["stage"] == stage]
        if not mine:
            continue
        ok_kill = sum(r["integrity_after_kill"].startswith("ok") for r in mine)
        ok_final = sum(r["integrity_final"] == "ok" for r in mine)
        lines.append(
            f"| {stage} | {len(mine)} | {sum(not r['ended_first'] for r in mine)} | "
            f"{ok_kill}/{len(mine)} / {ok_final}/{len(mine)} | {sum(max(r['lost'], 0) for r in mine)} | "
            f"{sum(max(r['doubled'], 0) for r in mine)} | {sum(r['equal'] for r in mine)}/{len(mine)} "
            f"({sum(r['equal'] and r.get('equal_to', 'one run') == 'one run' for r in mine)} + "
            f"{sum(r.get('equal_to') == 'one run + re-run' for r in mine)}) | "
            f"{sum(r['orphans'] for r in mine)} | {min(r['reference_seconds'] for r in mine):.1f}-{max(r['reference_seconds'] for r in mine):.1f} |"
        )
    early = [r for r in rows if r["stage"] == "ingest" and r["integrity_after_kill"] == "ok (no store yet)"]
    if early:  # ingest creates the store: a kill during its start-up (imports) finds none, and tests little
        n_ingest = sum(r["stage"] == "ingest" for r in rows)
        lines += ["", f"{len(early)} of the {n_ingest} ingest kills came during start-up, before the store existed; "
                      f"{n_ingest - len(early)} found a store being written."]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines += ["", note, "", f"_Measured {stamp} on {machine()}; the fake encoder (tests' `MINER_ENCODER=fake`)._"]
    block = "<!-- reliability:kill -->\n" + "\n".join(lines) + "\n<!-- /reliability:kill -->"
    text = RELIABILITY.read_text(encoding="utf-8") if RELIABILITY.exists() else "# Reliability\n"
    pattern = re.compile(r"<!-- reliability:kill -->.*?<!-- /reliability:kill -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RELIABILITY.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=50, help="kills per stage")
    parser.add_argument("--stage-kills", help='other counts for some stages: "themes discover=10,ingest=20"')
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--note", default="", help="a line under the table (the machine's load, why a count is lower)")
    parser.add_argument("--stages", help="only these stages, comma-separated (default: all)")
    parser.add_argument("--fresh", action="store_true", help="forget the records of earlier runs")
    parser.add_argument("--table-only", action="store_true", help="only write the table from the records kept so far")
    parser.add_argument("--ingest-rows", type=int, default=30_000,
                        help="rows of ingest's input (the tests use 6,000: a run so short that most kills land in start-up)")
    parser.add_argument("--window", type=float, default=1.0,
                        help="kill within this fraction of the uninterrupted run time (a run that ends sooner than its reference "
                             "is otherwise often over before the kill)")
    parser.add_argument("--work", type=Path, default=WORK, help="folder of the stores (one per concurrent run of this script)")
    args = parser.parse_args()
    counts = parse_stage_kills(args.stage_kills, args.kills)
    stages = [s.strip() for s in args.stages.split(",")] if args.stages else list(KILL_STAGES)
    if not set(stages) <= set(KILL_STAGES):
        raise SystemExit(f"--stages: one of {', '.join(KILL_STAGES)}")

    log_path = ROOT / "bench" / "_work" / "stress_kill.jsonl"

    def records() -> list[dict]:  # every record so far, this run's and those of runs beside it
        return [json.loads(line) for line in log_path.read_text().splitlines()] if log_path.exists() else []

    if args.table_only:
        write_reliability(records(), args.note)
        return
    from tests.sites.server import SiteServer
    from tests.sites.site import zh_board

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    server = SiteServer(zh_board(n_items=8), keep_log=False)
    setup = Setup(work, fake_head(work / "head.npz"), server.base)
    (work / "chain").mkdir(parents=True, exist_ok=True)
    setup.extra["big"] = big_input(work / "chain" / "big.jsonl", rows=args.ingest_rows)
    started = time.monotonic()
    chain = build_chain(work / "chain", setup)
    print(f"references built in {time.monotonic() - started:.0f} s; uninterrupted runs (s): "
          + ", ".join(f"{k} {v:.1f}" for k, v in chain.seconds.items()), flush=True)
    rng = random.Random(args.seed)
    log = log_path.open("w" if args.fresh else "a", encoding="utf-8")
    try:
        for stage in stages:
            for i, at in enumerate(kill_times(stage, chain, counts[stage], rng, args.window), start=1):
                result = asdict(kill_once(stage, chain, setup, work / "run", at))
                result["reference_seconds"] = round(chain.seconds[stage], 1)
                log.write(json.dumps(result, ensure_ascii=False) + "\n")
                log.flush()
                bad = "" if result["equal"] and not result["orphans"] else f"  <-- {result['differences'][:2]} orphans {result['orphans']}"
                print(f"{stage} {i}/{counts[stage]} at {at:.2f} s: integrity {result['integrity_after_kill']}, "
                      f"equal {result['equal']}{bad}", flush=True)
            write_reliability(records(), args.note)  # after each stage: a stopped run keeps its figures
    finally:
        log.close()
        server.close()
    print(f"done in {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("MINER_ENCODER", "fake")
    main()
