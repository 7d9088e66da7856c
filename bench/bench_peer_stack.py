"""miner against the stack a user would build by hand, on the same texts from ../shared/corpora.

    nice -n 10 .venv/bin/python bench/bench_peer_stack.py --save-raw /tmp/peer.json   # 20k texts, writes docs/benchmarks.md
    .venv/bin/python bench/bench_peer_stack.py --quick                                 # 300 texts, prints only
    options: --n N, --second-n N (peer second run on the first N texts), --backends a,b,c, --write,
             --from-raw FILE (render a saved run again, measuring nothing),
             --peer-only --save-raw P (measure the peer, an hour on 20k texts) then --peer-from P (miner only)

The peer stack (issue 4): BERTopic over a sentence-transformers
paraphrase-multilingual-MiniLM-L12-v2, plus a transformers XLM-R-base sentiment pipeline,
each model run over every text. No model hub is reachable, so both models are built here with
random weights in their published shapes (speed does not depend on weight values) and the
XLM-R SentencePiece vocabulary (250,002 pieces; miner's converted e5-small tokenizer is that
vocabulary) and saved to a temporary folder, then loaded back the way a user loads them. The
peer runs in a child process (memory of its process tree sampled from /proc, as for `miner`);
a second child process repeats it over the same texts: the peer stack keeps no cache.

miner: the same texts as one JSON Lines file, `miner ingest` then `miner analyze` (then
`miner themes discover` when that command exists) in fresh processes, per e5-small backend
(one ingest, a copy of the store per backend; a backend whose encoder id the shipped sentiment
head refuses is recorded as refused, then timed with the head re-tagged); then, for the first
backend, the same commands again over the same store (the second run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# build(): the texts of bench_analyze.py, so that the figures compare
from bench.bench_ingest import build
from bench.measure import CLI, tree_rss_mb
from bench.report import write_section

# The default first; then the others, skipping the one the default already runs on.
BACKENDS = ("e5-small", "e5-small-c", "e5-small-torch", "e5-small-int8")
SAME_AS_DEFAULT = {"c": "e5-small-c", "torch-fp32": "e5-small-torch"}
# The pipeline's default (1), what a user's script runs; 32 is timed on a sample too (batching
# pads every text to the longest of its batch: 1.7 against 5.1 texts/s on 1,500 of these texts,
# 7.1 against 7.0 on the 20k run).
PEER_BATCH = 1
OTHER_BATCH = 32
OTHER_BATCH_SAMPLE = 200  # texts timed with OTHER_BATCH


# ---------------------------------------------------------------- processes

def run_measured(cmd: list[str], interval: float = 0.1) -> dict:
    """Run a child, sampling its process tree's memory: seconds, peak_mb, rc, stdout, stderr."""
    # Output to files, not pipes: a chatty child never stalls on a full pipe while we only poll.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        # CPU seconds of the child (its threads and reaped children): one child runs at a time
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, tree_rss_mb(proc.pid))
            time.sleep(interval)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        out.seek(0)
        err.seek(0)
        return {"seconds": seconds, "cpu_s": cpu, "loadavg": os.getloadavg(), "peak_mb": peak, "rc": proc.returncode,
                "stdout": out.read(), "stderr": err.read()}


def miner(*args: str) -> dict:
    """`miner ARGS --json` measured; `json` holds its output, `error` its last stderr line on failure."""
    r = run_measured([sys.executable, str(CLI), *args, "--json"])
    if r["rc"] == 0:
        r["json"] = json.loads(r["stdout"])
    else:
        lines = [line for line in r["stderr"].strip().splitlines() if line.strip()]
        r["error"] = lines[-1] if lines else f"exit {r['rc']}"
    return r


def command_exists(*args: str) -> bool:
    return subprocess.run([sys.executable, str(CLI), *args, "--help"], check=False, capture_output=True).returncode == 0


# ---------------------------------------------------------------- the peer's models

def build_peer_models(folder: Path) -> dict:
    """Random-weight MiniLM-L12 (sentence-transformers) and XLM-R-base classifier, saved to folder."""
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    from miner.nlp.encoders.convert_e5 import convert

    torch.manual_seed(0)
    transformers.utils.logging.set_verbosity_error()
    source = json.loads((convert() / "tokenizer.json").read_text("utf-8"))
    tok = xlmr_tokenizer_json(source)
    common = {"vocab_size": 250_002, "max_position_embeddings": 514, "type_vocab_size": 1, "pad_token_id": 1,
              "bos_token_id": 0, "eos_token_id": 2, "num_hidden_layers": 12, "num_attention_heads": 12}
    minilm_hf, xlmr = folder / "minilm-hf", folder / "xlmr-sentiment"
    for path in (minilm_hf, xlmr):
        write_tokenizer(path, tok)
    minilm = transformers.XLMRobertaModel(transformers.XLMRobertaConfig(
        hidden_size=384, intermediate_size=1536, **common), add_pooling_layer=True)
    minilm.save_pretrained(minilm_hf)
    labels = {0: "negative", 1: "neutral", 2: "positive"}  # as cardiffnlp/twitter-xlm-roberta-base-sentiment
    clf = transformers.XLMRobertaForSequenceClassification(transformers.XLMRobertaConfig(
        hidden_size=768, intermediate_size=3072, id2label=labels, label2id={v: k for k, v in labels.items()}, **common))
    clf.save_pretrained(xlmr)
    st_dir = folder / "paraphrase-multilingual-MiniLM-L12-v2"
    first = Transformer(str(minilm_hf), max_seq_length=128)  # the published max_seq_length
    SentenceTransformer(modules=[first, Pooling(384, "mean")], device="cpu").save(str(st_dir))
    return {"minilm": str(st_dir), "xlmr": str(xlmr), "minilm_params": minilm.num_parameters(),
            "xlmr_params": clf.num_parameters()}


def xlmr_tokenizer_json(e5: dict) -> dict:
    """XLM-R's tokenizer.json from miner's converted e5 one: same vocabulary and normaliser,
    XLM-R's own `<unk>`, Metaspace pre-tokenizer, RoBERTa post-processor and added tokens."""
    tok = json.loads(json.dumps(e5))
    tok["model"]["vocab"][3][0] = "<unk>"  # miner renames it (see convert_e5); XLM-R does not
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    tok["pre_tokenizer"], tok["decoder"] = meta, dict(meta)
    tok["post_processor"] = {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                             "trim_offsets": True, "add_prefix_space": True}
    special = [(0, "<s>"), (1, "<pad>"), (2, "</s>"), (3, "<unk>"), (250_001, "<mask>")]
    tok["added_tokens"] = [{"id": i, "content": c, "single_word": False, "lstrip": c == "<mask>", "rstrip": False,
                            "normalized": False, "special": True} for i, c in special]
    tok["truncation"] = tok["padding"] = None
    return tok


def write_tokenizer(path: Path, tok: dict) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False), "utf-8")
    config = {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512, "bos_token": "<s>", "eos_token": "</s>",
              "sep_token": "</s>", "cls_token": "<s>", "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"}
    (path / "tokenizer_config.json").write_text(json.dumps(config), "utf-8")


# ---------------------------------------------------------------- the peer's run (child process)

def peer_child(models: Path, texts_path: Path, default_sample: int) -> None:
    """What the user's script does; prints per-stage seconds as JSON."""
    t0 = time.perf_counter()
    import transformers
    from bertopic import BERTopic
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.set_verbosity_error()
    texts = [json.loads(line)["text"] for line in texts_path.open(encoding="utf-8")]
    info = json.loads((models / "models.json").read_text("utf-8"))
    st = SentenceTransformer(info["minilm"], device="cpu")
    pipe = transformers.pipeline("sentiment-analysis", model=info["xlmr"], tokenizer=info["xlmr"], device=-1,
                                 truncation=True, max_length=512)
    t1 = time.perf_counter()
    # BERTopic(embedding_model=st).fit_transform(texts) in two steps, so the encoder is timed apart.
    embeddings = st.encode(texts, show_progress_bar=False)
    t2 = time.perf_counter()
    topics, _ = BERTopic(embedding_model=st).fit_transform(texts, embeddings=embeddings)
    t3 = time.perf_counter()
    labels = [r["label"] for r in pipe(texts, batch_size=PEER_BATCH)]
    t4 = time.perf_counter()
    out = {"startup_load_s": t1 - t0, "embed_s": t2 - t1, "topics_s": t3 - t2, "sentiment_s": t4 - t3,
           "topics": len(set(topics) - {-1}), "outliers": sum(1 for t in topics if t == -1),
           "labels": dict(Counter(labels)), "texts": len(texts), "max_seq_length": st.max_seq_length}
    if default_sample:
        sample = texts[:default_sample]
        t5 = time.perf_counter()
        pipe(sample, batch_size=OTHER_BATCH)
        out["other_batch"] = {"texts": len(sample), "seconds": time.perf_counter() - t5, "batch": OTHER_BATCH}
    print(json.dumps(out))


def run_peer(models: Path, texts_path: Path, default_sample: int) -> dict:
    r = run_measured([sys.executable, __file__, "--peer-child", str(models), str(texts_path), str(default_sample)])
    if r["rc"] != 0:
        raise SystemExit(f"peer stack failed: {r['stderr'][-3000:]}")
    out = json.loads(r["stdout"].strip().splitlines()[-1])
    extra = out.get("other_batch", {}).get("seconds", 0.0)  # not part of the peer's work
    out["wall_s"] = r["seconds"] - extra
    out["peak_mb"], out["cpu_s"] = r["peak_mb"], r["cpu_s"]
    out["loadavg_after"] = os.getloadavg()
    return out


# ---------------------------------------------------------------- miner

def copy_db(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def retag_head(encoder_id: str, out: Path) -> Path:
    """The shipped head under another backend's encoder id: timing only (labels are not compared
    here; see the backend-sentiment section for what each backend's vectors cost in quality)."""
    from miner.nlp.sentiment import SentimentHead, resolve_head

    head = SentimentHead.load(resolve_head())
    head.encoder_id = encoder_id
    head.save(out)
    return out


def default_backend() -> str:
    """What `e5-small` runs on here (torch fp32 or the C engine), asked of a child process."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from miner.nlp.encoders.registry import get_encoder; "
            "e = get_encoder(None); print(getattr(e, 'backend', None) or type(e).__name__)")
    r = subprocess.run([sys.executable, "-c", code, str(ROOT)], check=False, capture_output=True, text=True)
    return r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else "unknown"


def run_miner(backend: str, data: Path, db: Path, tmp: Path, themes: bool, second: bool) -> dict:
    enc = [] if backend == "e5-small" else ["--encoder", backend]
    res: dict = {"backend": backend}
    analyze = miner("analyze", "--db", str(db), *enc)
    head: list[str] = []
    wrong_head = re.search(r"\[E722\].* not on (\S+?)\.\s", analyze.get("error", "") + " ")
    if analyze["rc"] != 0 and wrong_head:
        # analyze ties the head to the encoder id it was trained on: record, then re-tag for timing.
        res["refused"] = analyze["error"]
        head = ["--head", str(retag_head(wrong_head.group(1), tmp / f"head-{backend}.npz"))]
        analyze = miner("analyze", "--db", str(db), *enc, *head)
    if analyze["rc"] != 0:
        res["failed"] = analyze["error"]
        return res
    res["analyze"] = analyze
    if themes:
        res["themes"] = miner("themes", "discover", "--db", str(db), *theme_encoder_args(enc))
    if not second:
        return res
    # Second run: the same file and the same commands again over the same store.
    res["ingest2"] = miner("ingest", str(data), "--db", str(db), "--quiet")
    res["analyze2"] = miner("analyze", "--db", str(db), *enc, *head)
    if themes:
        res["themes2"] = miner("themes", "discover", "--db", str(db), *theme_encoder_args(enc))
    return res


def theme_encoder_args(enc: list[str]) -> list[str]:
    if not enc:
        return []
    help_text = subprocess.run([sys.executable, str(CLI), "themes", "discover", "--help"], check=False,
                               capture_output=True, text=True).stdout
    return enc if "--encoder" in help_text else []


def step_s(r: dict | None) -> float:
    return r["seconds"] if r and r["rc"] == 0 else 0.0


def themes_embed_s(r: dict | None) -> float:
    """Encoder seconds of `themes discover`: its embedding stage when it embedded anything (the
    stage includes cache reads); 0 when every vector came from the cache (reads are not encoder)."""
    if not r or r["rc"] != 0 or not r["json"].get("embedded"):
        return 0.0
    return float(r["json"].get("stage_seconds", {}).get("embeddings", 0.0))


# ---------------------------------------------------------------- report

def miner_row(n: int, ingest: dict, m: dict) -> dict:
    a = m["analyze"]["json"]
    themes_s = step_s(m.get("themes"))
    total = ingest["seconds"] + m["analyze"]["seconds"] + themes_s
    enc_s = a["embed"]["encoder_seconds"] + themes_embed_s(m.get("themes"))
    parts = [m[k] for k in ("ingest2", "analyze2", "themes2") if k in m] or None
    peak = max(ingest["peak_mb"], m["analyze"]["peak_mb"], m["themes"]["peak_mb"] if m.get("themes") else 0)
    steps = [ingest, m["analyze"]] + ([m["themes"]] if m.get("themes") else [])
    cpu = sum(x["cpu_s"] for x in steps) if all("cpu_s" in x for x in steps) else None
    return {"backend": m["label"], "total_s": total, "docs_s": n / total, "ingest_s": ingest["seconds"],
            "analyze_s": m["analyze"]["seconds"], "themes_s": themes_s, "encoder_s": enc_s,
            "non_encoder_share": (total - enc_s) / total, "peak_mb": peak, "second_parts": parts, "cpu_s": cpu,
            "load_s": a["embed"].get("load_seconds"),
            "stages": (m["themes"].get("json") or {}).get("stage_seconds") if m.get("themes") else None,
            "embedded": a["embed"]["embedded"], "segments": a["segments"], "documents": a["documents"],
            "themes": (m["themes"].get("json") or {}).get("themes") if m.get("themes") else None}


def render(n: int, info: dict, peer: dict, peer2: dict | None, ingest: dict, rows: list[dict], runs: list[dict],
           themes_present: bool, models: dict) -> str:
    p_total = peer["wall_s"]
    p_docs = n / p_total
    p_enc = peer["embed_s"] + peer["sentiment_s"]
    p_rest = p_total - peer["embed_s"] - peer["topics_s"] - peer["sentiment_s"]
    if themes_present:
        miner_cmds = "`miner ingest`, `miner analyze` (sentiment, new segments to existing themes), `miner themes discover`"
        themes_note = ""
    else:
        miner_cmds = "`miner ingest`, `miner analyze`"
        themes_note = (" `miner themes` did not exist when this ran: the miner side has no themes stage, while the "
                       "peer's includes BERTopic.")
    lines = [
        "## miner against the peer stack (`bench/bench_peer_stack.py`)",
        "",
        (f"{n:,} texts from `../shared/corpora` (the texts of `bench_analyze.py`; median {info['median_chars']} "
         "characters), 2 cores, every process started fresh."),
        "",
        ("**Peer stack** (what a user builds by hand): BERTopic 0.17 (defaults: UMAP, HDBSCAN, CountVectorizer) over "
         "sentence-transformers `paraphrase-multilingual-MiniLM-L12-v2` (max_seq_length 128, mean pooling), plus "
         "`transformers.pipeline(\"sentiment-analysis\")` with an XLM-R-base classifier (3 labels, truncation at 512 "
         f"tokens) over every text at the pipeline's default batch size ({PEER_BATCH}). Both models have random "
         f"weights in the published shapes ({models['minilm_params'] / 1e6:.0f}M and {models['xlmr_params'] / 1e6:.0f}M "
         "parameters; no hub is reachable; speed does not depend on weight values, topic counts do) and the XLM-R "
         "vocabulary of 250,002 pieces."),
        "",
        f"**miner**: one JSON Lines file, then {miner_cmds}, each a fresh process (start and model load included).{themes_note}",
        "",
        "| | wall | documents/s | vs peer | encoder | not encoder | CPU time | peak RSS | second run |",
        "|---|---|---|---|---|---|---|---|---|",
        (f"| peer stack | {p_total:,.0f} s | {p_docs:,.1f} | 1.0x | {p_enc:,.0f} s (2 models) "
         f"| {100 * (p_total - p_enc) / p_total:.0f}% | {cpu_text(peer_cpu(peer))} | {peer['peak_mb']:,.0f} MB "
         f"| {peer2_text(peer2, n)} |"),
    ]
    for r in rows:
        again = "not run"
        if r["second_parts"]:
            failed = any(p["rc"] != 0 for p in r["second_parts"])
            again = f"{sum(step_s(p) for p in r['second_parts']):.1f} s" + (" (a step failed, see below)" if failed else "")
        lines.append(
            f"| miner, {r['backend']} | {r['total_s']:,.0f} s | **{r['docs_s']:,.1f}** | **{r['docs_s'] / p_docs:.1f}x** "
            f"| {r['encoder_s']:,.0f} s | {100 * r['non_encoder_share']:.0f}% | {cpu_text(r['cpu_s'])} "
            f"| {r['peak_mb']:,.0f} MB | {again} |")
    lines += ["", ("Targets: miner at least 4x the peer's documents/s; everything that is not the encoder at most 15% "
                   "of the run. miner's encoder time is the model's own (inside the model in analyze, its load not included, "
                   "plus themes' embedding stage where it embedded anything); the peer's encoder time is its two "
                   "models' encode and pipeline calls, their load not included either. CPU time is user + system of "
                   "every process.")]
    lines += load_text(peer, rows)
    lines += ["", "Peer stack per stage (first run):", "", "| stage | seconds | share |", "|---|---|---|"]
    stages = (("process start, imports, loading both models", p_rest),
              ("MiniLM encode (BERTopic's embedding step)", peer["embed_s"]),
              ("BERTopic rest: UMAP, HDBSCAN, c-TF-IDF", peer["topics_s"]),
              (f"XLM-R sentiment pipeline, batch {PEER_BATCH}", peer["sentiment_s"]))
    lines += [f"| {name} | {s:,.1f} | {100 * s / p_total:.0f}% |" for name, s in stages]
    if peer.get("other_batch"):
        d = peer["other_batch"]
        lines += ["", (f"The sentiment pipeline at batch size {d['batch']}, on the first {d['texts']} texts: "
                       f"{d['texts'] / d['seconds']:,.1f} texts/s, against {n / peer['sentiment_s']:,.1f} texts/s at "
                       f"its default ({PEER_BATCH}) over all texts (batching pads each batch to its longest text); the peer "
                       "runs at the default, as a user's script does.")]
    lines += ["", (f"BERTopic found {peer['topics']} topics ({peer['outliers']:,} outliers) on the random-weight "
                   "embeddings; real weights give other clusters, so its UMAP/HDBSCAN/c-TF-IDF time is indicative."),
              "", "miner per stage (first run):", "",
              "| backend | ingest | analyze (of which encoder; model load) | themes discover (themes) | documents / segments / texts embedded |",
              "|---|---|---|---|---|"]
    for r in rows:
        themes_cell = f"{r['themes_s']:,.1f} s ({r['themes']})" if themes_present else "absent"
        load = f"; {r['load_s']:,.1f} s" if r.get("load_s") is not None else "; not measured apart"
        lines.append(f"| {r['backend']} | {r['ingest_s']:,.1f} s | {r['analyze_s']:,.1f} s ({r['encoder_s']:,.1f} s{load}) "
                     f"| {themes_cell} | {r['documents']:,} / {r['segments']:,} / {r['embedded']:,} |")
    for r in rows:
        if r.get("stages"):
            parts = ", ".join(f"{k.replace('_', ' ')} {v:,.1f} s" for k, v in r["stages"].items())
            lines += ["", f"`themes discover` by stage ({r['backend']}): {parts}; the rest is process start and imports."]
    t = ingest["json"]["totals"]
    lines += ["", (f"One ingest ({ingest['seconds']:.1f} s, {ingest['peak_mb']:,.0f} MB) fed every backend (a copy of "
                   f"the store each) and counts in each one's total: {t['stored']:,} documents stored, "
                   f"{t['duplicates']:,} exact and {t['near_duplicates']:,} near duplicates, {t['noninformative']:,} "
                   "non-informative; miner embeds segments (sentences), the peer whole texts.")]
    for r in runs:
        if r.get("refused"):
            lines.append(f"- `miner analyze --encoder {r['backend']}` with the shipped head: refused "
                         f"({r['refused'].strip()}); timed with that head re-tagged to this encoder's id (timing only).")
        if r.get("failed"):
            lines.append(f"- `miner analyze --encoder {r['backend']}`: failed ({r['failed'].strip()}); not measured.")
        if r.get("skipped"):
            lines.append(f"- `{r['backend']}`: {r['skipped']}.")
    if rows and rows[0]["second_parts"]:
        i2, a2, *t2 = rows[0]["second_parts"]
        peer_again = (f" (measured in a second fresh process over the first {peer2['texts']:,} texts)"
                      if peer2 and peer2["texts"] < n else " (measured: a second fresh process)" if peer2 else " (not measured)")
        ingest_again = step_text(i2, lambda j: f"{j['totals']['stored']:,} new documents")
        analyze_again = step_text(a2, lambda j: f"{j['documents']:,} documents, {j['embed']['encoder_calls']} encoder calls")
        themes_again = ""
        if t2:
            themes_again = "; `miner themes discover` fits again: " + step_text(t2[0], lambda j: f"{j['themes']} themes")
        lines += ["", (f"Second run over the same data: the peer stack keeps nothing and repeats all its work{peer_again}; "
                       f"miner ({rows[0]['backend']}): the same file ingested again: {ingest_again}; `miner analyze` again: "
                       f"{analyze_again}{themes_again}.")]
    return "\n".join(lines) + "\n"


def peer_cpu(peer: dict) -> float | None:
    return peer.get("cpu_s") or peer.get("cpu_s_sampled")


def cpu_text(cpu: float | None) -> str:
    return f"{cpu:,.0f} s" if cpu else "not measured"


def load_text(peer: dict, rows: list[dict]) -> list[str]:
    """How busy the machine was, and what that can have done to the ratio."""
    cpu = peer_cpu(peer)
    if not cpu or not rows:
        return []
    cores = cpu / peer["wall_s"]
    floor = cpu / 2  # 2 cores: no quiet run of the same work takes less
    r = rows[0]
    text = (f"The peer's processes used {cores:.2f} of the 2 cores on average (load average "
            f"{peer['loadavg_after'][1]:.1f} over the 5 minutes before it ended); on a quiet machine it could not take "
            f"less than its CPU time over 2 cores, {floor:,.0f} s, so miner ({r['backend']}) is at least "
            f"**{floor / r['total_s']:.1f}x** the peer's documents/s even against that bound")
    if r.get("cpu_s"):
        text += f", and {cpu / r['cpu_s']:.1f}x in CPU time"
    return ["", text + "."]


def step_text(r: dict, detail) -> str:
    """'12.3 s (detail from its JSON)', or what went wrong."""
    if r["rc"] != 0:
        return f"failed after {r['seconds']:.1f} s ({r['error'].strip()})"
    return f"{r['seconds']:.1f} s ({detail(r['json'])})"


def peer2_text(peer2: dict | None, n: int) -> str:
    if not peer2:
        return "not measured"
    if peer2["texts"] < n:
        return f"{peer2['wall_s']:,.0f} s for {peer2['texts']:,} texts ({peer2['texts'] / peer2['wall_s']:,.1f}/s: all work again)"
    return f"{peer2['wall_s']:,.0f} s (all work again)"


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--peer-child":
        return peer_child(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=None, help="texts (default 20,000; 300 with --quick)")
    parser.add_argument("--quick", action="store_true", help="300 texts, second peer run on 100, no default-batch sample, nothing written")
    parser.add_argument("--second-n", type=int, default=None, help="texts of the peer's second run (default: all, 100 with --quick; 0 = skip)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="miner encoders, the first one's second run is reported")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md even when not the full 20k run")
    parser.add_argument("--save-raw", type=Path, help="also save every measurement to this JSON file")
    parser.add_argument("--from-raw", type=Path, help="render (and with --write, write) a saved run; measure nothing")
    parser.add_argument("--peer-only", action="store_true", help="measure the peer stack only and save it (--save-raw)")
    parser.add_argument("--peer-from", type=Path, help="take the peer's figures from a saved run (--peer-only or full)")
    args = parser.parse_args()
    if args.from_raw:
        raw = json.loads(args.from_raw.read_text("utf-8"))
        return report(raw, args.write)
    n = args.n or (300 if args.quick else 20_000)
    second_n = min(args.second_n if args.second_n is not None else 100 if args.quick else n, n)
    themes_present = command_exists("themes", "discover")
    default = default_backend()
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "texts.jsonl"
        info = build(n, data)
        log(f"{n:,} texts; themes command {'present' if themes_present else 'absent'}; e5-small runs on {default}")
        if args.peer_from:
            saved = json.loads(args.peer_from.read_text("utf-8"))
            if saved["n"] != n:
                raise SystemExit(f"{args.peer_from} measured the peer on {saved['n']:,} texts, not {n:,}: pass --n {saved['n']}")
            peer, peer2, models = saved["peer"], saved["peer2"], saved["models"]
            log(f"peer stack: taken from {args.peer_from} ({peer['wall_s']:.1f} s)")
        else:
            peer, peer2, models = measure_peer(tmp, data, n, second_n, 0 if args.quick else OTHER_BATCH_SAMPLE)
        if args.peer_only:
            raw = {"n": n, "info": {"median_chars": info["median_chars"]}, "peer": peer, "peer2": peer2, "models": models}
            (args.save_raw or Path("peer-only.json")).write_text(json.dumps(raw, indent=1, default=str), "utf-8")
            return log(f"peer stack measured; saved to {args.save_raw or 'peer-only.json'} for --peer-from")
        base = tmp / "ingested.db"
        log("miner ingest")
        ingest = miner("ingest", str(data), "--db", str(base), "--quiet")
        if ingest["rc"] != 0:
            raise SystemExit(f"miner ingest failed: {ingest['error']}")
        runs = []
        for backend in [b for b in args.backends.split(",") if b]:
            if backend == SAME_AS_DEFAULT.get(default) and "e5-small" in args.backends.split(","):
                runs.append({"backend": backend, "skipped": f"not run: the default e5-small already runs on {default}"})
                continue
            db = tmp / f"{backend}.db"
            copy_db(base, db)
            log(f"miner, {backend}")
            run = run_miner(backend, data, db, tmp, themes_present, second=not any("analyze" in r for r in runs))
            run["label"] = f"e5-small ({default})" if backend == "e5-small" else backend
            runs.append(run)
            log(f"  {run['analyze']['seconds']:.1f} s" if "analyze" in run else f"  {run.get('failed')}")
    raw = {"n": n, "info": {"median_chars": info["median_chars"]}, "peer": peer, "peer2": peer2, "ingest": ingest,
           "runs": runs, "themes_present": themes_present, "models": models, "default_backend": default}
    if args.save_raw:
        args.save_raw.write_text(json.dumps(raw, indent=1, default=str), "utf-8")
    report(raw, args.write or (n == 20_000 and not args.quick))


def report(raw: dict, write: bool) -> None:
    n, runs = raw["n"], raw["runs"]
    rows = [miner_row(n, raw["ingest"], m) for m in runs if "analyze" in m]
    body = render(n, raw["info"], raw["peer"], raw["peer2"], raw["ingest"], rows, runs, raw["themes_present"], raw["models"])
    print(body)
    summary = {"peer": raw["peer"], "peer_second": raw["peer2"], "default_backend": raw["default_backend"],
               "miner": [{k: v for k, v in r.items() if k != "second_parts"} for r in rows]}
    print(json.dumps(summary, indent=1, default=str))
    if write:
        write_section("peer-stack", body)


def measure_peer(tmp: Path, data: Path, n: int, second_n: int, other_sample: int) -> tuple[dict, dict | None, dict]:
    """The peer's first run over all texts and its second over the first second_n."""
    log("building the peer's models")
    models_dir = tmp / "models"
    models = build_peer_models_child(models_dir)
    log("peer stack, first run")
    peer = run_peer(models_dir, data, other_sample)
    log(f"  {peer['wall_s']:.1f} s")
    peer2 = None
    if second_n:
        data2 = data
        if second_n < n:
            data2 = tmp / "texts-second.jsonl"
            data2.write_text("".join(data.open(encoding="utf-8").readlines()[:second_n]), "utf-8")
        log(f"peer stack, second run ({second_n:,} texts)")
        peer2 = run_peer(models_dir, data2, 0)
        log(f"  {peer2['wall_s']:.1f} s")
    return peer, peer2, models


def build_peer_models_child(folder: Path) -> dict:
    """Build the models in a child process, so the parent stays small and imports nothing heavy."""
    code = ("import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
            "from bench.bench_peer_stack import build_peer_models; f = Path(sys.argv[2]); "
            "info = build_peer_models(f); (f / 'models.json').write_text(json.dumps(info)); print(json.dumps(info))")
    r = subprocess.run([sys.executable, "-c", code, str(ROOT), str(folder)], check=False, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"building the peer's models failed: {r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
