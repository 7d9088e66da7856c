"""10,000 hostile inputs through the real CLI (issue 17): tracebacks (target 0), rejections by
code, peak memory (target under 1 GB).

Usage: nice .venv/bin/python bench/stress.py [--cases 10000] [--seed 17] [--no-write]
   or, in parallel: bench/stress.py --shard 1/2 & bench/stress.py --shard 2/2; bench/stress.py --merge 2

The cases come from tests/stress/hostile.py: every crafted attack (a 5 MB cell, 10^6 columns,
deep JSON, zip and gzip bombs, billion laughs, invalid UTF-16 surrogates, RTL overrides, YAML
alias bombs and wrong types...) and mutations of valid files, spread evenly over the readers
(CSV, TSV, JSONL, JSON, XLSX, Parquet, HTML, TXT, .gz, .zip) and the YAML files (taxonomy,
alert rules, crawl site profile). The large crafted inputs run each in a subprocess whose peak
resident memory (VmHWM) is measured; the others run in this process through typer's CliRunner,
which is measured as a whole (its peak includes making the inputs). Writes the `hostile`
section of docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import machine  # noqa: E402
from tests.stress import hostile  # noqa: E402

RELIABILITY = ROOT / "docs" / "reliability.md"
WORK = ROOT / "bench" / "_work" / "stress_hostile"
MEMORY_LIMIT_MB = 1024


def peak_rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(n: int, seed: int, shard: int = 1, shards: int = 1, checkpoint=None, done: list | None = None,
        before: float = 0.0) -> tuple[list[hostile.Outcome], float, float]:
    from typer.testing import CliRunner

    runner = CliRunner()
    outcomes = list(done or [])
    all_cases = hostile.cases(n, seed)[shard - 1 :: shards][len(outcomes):]
    started = time.perf_counter() - before
    folder = Path(tempfile.mkdtemp(prefix="miner-hostile-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    try:
        for i, case in enumerate(all_cases, start=len(outcomes) + 1):
            outcomes.append(hostile.run_case(case, folder, runner=runner, subprocess_run=case.big))
            if i % 250 == 0 or case.big:
                bad = sum(o.status == "traceback" for o in outcomes)
                print(f"{i:,}/{len(all_cases) + len(done or []):,} cases, {bad} tracebacks, {time.perf_counter() - started:,.0f} s", file=sys.stderr, flush=True)
                if checkpoint:
                    checkpoint(outcomes, time.perf_counter() - started)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return outcomes, time.perf_counter() - started, peak_rss_mb()


def section(outcomes: list[hostile.Outcome], seconds: float, in_process_mb: float, n: int, seed: int, load: str) -> str:
    for o in outcomes:  # runs before the timeout status existed called a timeout a traceback
        if o.status == "traceback" and o.detail.startswith("timed out"):
            o.status = "timeout"
    by_kind: dict[str, list[hostile.Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.kind].append(o)
    rows = ["| input | cases | crafted | stored | rejected (codes) | tracebacks | largest peak RSS of one case (MB) |",
            "| --- | ---: | ---: | ---: | --- | ---: | ---: |"]
    for kind in hostile.KINDS:
        os_ = by_kind.get(kind, [])
        codes = Counter(o.code for o in os_ if o.status == "rejected")
        code_text = ", ".join(f"{c} {k}" for c, k in sorted(codes.items())) or "-"
        peaks = [o.peak_rss_mb for o in os_ if o.peak_rss_mb]
        rows.append(f"| {kind} | {len(os_):,} | {sum(not o.recipe.startswith('mutated') for o in os_)} | {sum(o.status == 'stored' for o in os_):,} | "
                    f"{sum(o.status == 'rejected' for o in os_):,} ({code_text}) | {sum(o.status == 'traceback' for o in os_)} | "
                    f"{max(peaks):,.0f} |" if peaks else f"| {kind} | {len(os_):,} | {sum(not o.recipe.startswith('mutated') for o in os_)} | "
                    f"{sum(o.status == 'stored' for o in os_):,} | {sum(o.status == 'rejected' for o in os_):,} ({code_text}) | "
                    f"{sum(o.status == 'traceback' for o in os_)} | - |")
    total_tb = sum(o.status == "traceback" for o in outcomes)
    big = [o for o in outcomes if o.peak_rss_mb]
    worst = max(big, key=lambda o: o.peak_rss_mb) if big else None
    lines = [
        "### 10,000 hostile inputs (`bench/stress.py`)",
        "",
        f"{len(outcomes):,} inputs (seed {seed}) through the real CLI: `miner ingest` for the readers, `miner touchpoints check` "
        "for taxonomies, `miner alerts --check` for alert rules, `miner crawl --dry-run` for site profiles (every address "
        "resolved to a closed port of 127.0.0.1). Crafted: the attacks of tests/stress/hostile.py (a 5 MB cell, 10^6 columns, "
        "deep JSON, zip, gzip and bz2 bombs, XLSX zip bombs, billion laughs in HTML and XLSX, external entities, invalid UTF-16 "
        "surrogates, RTL overrides, YAML alias, merge-key and nesting bombs, wrong types); the rest are mutations of valid files "
        "(truncated, flipped, inserted and deleted bytes, NUL bytes, hostile characters, other encodings, odd values in valid "
        "XLSX/Parquet/JSON). A traceback is an uncaught exception, a printed traceback, an internal error (E999), a non-zero "
        "exit without a coded line, or a store left inconsistent after ingest.",
        "",
        *rows,
        "",
        f"**Tracebacks: {total_tb}** (target 0). Rejected inputs each got one `Error ... [E###] ...` line."
        + "".join(f" Timed out (killed after {o.detail.split()[-2]} s, counted apart): {o.kind} {o.recipe}." for o in outcomes if o.status == "timeout"),
        "",
        f"**Memory**: the {len(big)} large inputs ran each in a subprocess; the largest peak was {worst.peak_rss_mb:,.0f} MB "
        f"({worst.kind} {worst.recipe}; target under {MEMORY_LIMIT_MB:,} MB). The other {len(outcomes) - len(big):,} ran in one "
        f"process whose peak was {in_process_mb:,.0f} MB (making the inputs included)." if worst else "",
        "",
        f"{seconds / 60:,.0f} minutes (the slowest of the processes that ran them) on a shared 2-core machine "
        f"(load average {load} at the start).",
    ]
    if total_tb:
        lines += ["", "Tracebacks:", ""] + [f"- {o.kind} {o.recipe}: {o.detail[:200]}" for o in outcomes if o.status == "traceback"][:30]
    return "\n".join(lines)


def write_reliability(name: str, body: str) -> None:
    header = RELIABILITY_HEADER
    text = RELIABILITY.read_text(encoding="utf-8") if RELIABILITY.exists() else header
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = f"<!-- reliability:{name} -->\n{body.rstrip()}\n\n_Measured {stamp} on {machine()}._\n<!-- /reliability:{name} -->"
    pattern = re.compile(rf"<!-- reliability:{re.escape(name)} -->.*?<!-- /reliability:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RELIABILITY.write_text(text, encoding="utf-8")


RELIABILITY_HEADER = "# Reliability\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--shard", default="1/1", help="I/K: run every K-th case from the I-th (write its outcomes only)")
    ap.add_argument("--merge", type=int, default=0, help="K: report the outcomes of K shards already run")
    ap.add_argument("--resume", action="store_true", help="go on from the shard's saved outcomes")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    note = ""
    if args.merge:
        parts = [json.loads((WORK / f"shard-{i}-of-{args.merge}.json").read_text()) for i in range(1, args.merge + 1)]
        outcomes = [hostile.Outcome(**o) for p in parts for o in p["outcomes"]]
        seconds, in_process = max(p["seconds"] for p in parts), max(p["peak_mb"] for p in parts)
        load = parts[0]["load"]
        if not all(p.get("done") for p in parts):
            note = f"Stopped before the end: {len(outcomes):,} of the {args.cases:,} cases ran in the time there was."
    else:
        shard, shards = map(int, args.shard.split("/"))
        load = open("/proc/loadavg").read().split()[0]
        def save(outcomes, seconds, in_process=None, done=False):
            (WORK / f"shard-{shard}-of-{shards}.json").write_text(json.dumps(
                {"outcomes": [o.__dict__ for o in outcomes], "seconds": seconds, "peak_mb": in_process or peak_rss_mb(), "load": load,
                 "done": done}), encoding="utf-8")

        saved = json.loads((WORK / f"shard-{shard}-of-{shards}.json").read_text()) if args.resume else {"outcomes": [], "seconds": 0.0}
        outcomes, seconds, in_process = run(args.cases, args.seed, shard, shards, checkpoint=save,
                                            done=[hostile.Outcome(**o) for o in saved["outcomes"]], before=saved["seconds"])
        save(outcomes, seconds, in_process, done=True)
        if shards > 1:
            return
    body = section(outcomes, seconds, in_process, args.cases, args.seed, load) + (f"\n\n**{note}**" if note else "")
    print(body)
    if not args.no_write:
        write_reliability("hostile", body)


if __name__ == "__main__":
    main()
