"""Line-level evaluation of page cleaning on the labelled noisy pages (corpora/noisy_pages).

A page goes through a cleaning system (bytes in, kept text out); each labelled line counts as
kept when its text (NFKC, Arabic/Persian letters folded, spaces collapsed, case folded) is found
in the output. Dropping is the positive class: precision = labelled drops among the lines
dropped, recall = labelled drops that were dropped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "corpora" / "noisy_pages"
_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u200c": None, "\u200d": None,
                       **{chr(0x06F0 + i): str(i) for i in range(10)}, **{chr(0x0660 + i): str(i) for i in range(10)}})
_SPACE = re.compile(r"\s+")


def norm(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).translate(_FOLD)).strip().casefold()


def load_pages(split: str | None = None) -> list[dict]:
    """[{site, page, split, lang, encoding, path, lines: [(label, kind, text)]}] in site and page order."""
    pages: dict[tuple, dict] = {}
    for line in (PAGES / "labels.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        if split and r["split"] != split:
            continue
        key = (r["site"], r["page"])
        page = pages.setdefault(key, {k: r[k] for k in ("site", "page", "split", "lang", "encoding")}
                                | {"path": PAGES / "pages" / r["site"] / f"{r['page']}.html", "lines": []})
        page["lines"].append((r["label"], r["kind"], r["text"]))
    return list(pages.values())


def score(pages: list[dict], system: Callable[[dict], str]) -> dict:
    """Precision and recall of dropping, overall, per site and per kind of line."""
    tp = fp = fn = tn = 0
    by_site: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # [lines, wrong]
    mistakes = []
    for page in pages:
        out = norm(system(page))
        for label, kind, text in page["lines"]:
            kept = norm(text) in out
            dropped = not kept
            s = by_site[page["site"]]
            if label == "drop" and dropped:
                tp += 1; s[0] += 1
            elif label == "keep" and dropped:
                fp += 1; s[1] += 1; mistakes.append(("false drop", page["site"], text))
            elif label == "drop" and kept:
                fn += 1; s[2] += 1; mistakes.append(("missed", page["site"], text))
            else:
                tn += 1; s[3] += 1
            by_kind[kind][0] += 1
            by_kind[kind][1] += (label == "drop") != dropped
    def pr(t, f_p, f_n):
        return (t / (t + f_p) if t + f_p else 1.0, t / (t + f_n) if t + f_n else 1.0)
    p, r = pr(tp, fp, fn)
    return {"precision": p, "recall": r, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "sites": {k: dict(zip(("precision", "recall"), pr(v[0], v[1], v[2]))) | {"false_drops": v[1], "missed": v[2]}
                      for k, v in by_site.items()},
            "kinds": {k: {"lines": v[0], "wrong": v[1]} for k, v in by_kind.items()},
            "mistakes": mistakes}


CORPORA = ROOT.parent / "shared" / "corpora"


def corpus_pages(plan: list[tuple], seed: str, per_page: int = 8, pages_per_source: int = 5) -> list[dict]:
    """Pages of third-party customer text (../shared/corpora, read, never copied), `per_page`
    texts each, set in the noise of corpora/noisy_pages/noise.yaml: plan rows are (corpus file,
    language or None, splits, noise language). Lines labelled as load_pages labels them."""
    import gzip
    import html
    import random

    import lxml.html
    import yaml

    noise = yaml.safe_load((PAGES / "noise.yaml").read_text(encoding="utf-8"))
    pages = []
    for file, lang, splits, noise_lang in plan:
        path = CORPORA / file
        if not path.exists():
            continue
        texts = []
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if (lang is None or r.get("lang") == lang) and r.get("split") in splits \
                        and 15 <= len(r["text"]) <= 600 and "\n" not in r["text"]:
                    texts.append(" ".join(r["text"].split()))
                if len(texts) >= 400:
                    break
        rng = random.Random(f"{seed}:{file}:{lang}")
        rng.shuffle(texts)
        n = noise[noise_lang]
        site = f"{seed}-{file.split('_')[0]}-{lang or ''}"
        for k in range(pages_per_source):
            chunk = texts[k * per_page:(k + 1) * per_page]
            if len(chunk) < per_page:
                break
            lines = [("drop", "nav", n["nav"][0]), ("drop", "share", n["share"][0])]
            nav = " | ".join(f"<a href=/{i}>{html.escape(x)}</a>" for i, x in enumerate(n["nav"][0].split(" | ")))
            parts = [f'<div class="nav">{nav}</div>', f'<div class="share"><a href="/s">{html.escape(n["share"][0])}</a></div>']
            for j, t in enumerate(chunk):
                lines.append(("keep", "real", t))
                parts.append(f"<div class=comment><p>{html.escape(t)}</p></div>")
                meta = n["meta"][2]
                lines.append(("drop", "meta", meta))
                parts.append(f"<div>{' · '.join(f'<a href=/a>{html.escape(x)}</a>' for x in meta.split(' · '))}</div>")
                if j == per_page // 2:
                    for kind, text in (("spam", n["spam"][k % 2]), ("mt", n["mt"][0])):
                        lines.append(("drop", kind, text))
                        parts.append(f"<div class=comment><p>{html.escape(text)}</p></div>")
            lines.append(("drop", "policy", n["policy"][0]))
            parts.append(f"<div>{html.escape(n['policy'][0])}</div>")
            for t in n["related"][1:]:
                lines.append(("drop", "related", t))
                parts.append(f"<li><a href=/r>{html.escape(t)}</a></li>")
            lines.append(("drop", "footer", n["footer"][0]))
            parts.append(f"<div>{html.escape(n['footer'][0])}</div>")
            doc = f"<html><head><meta charset=utf-8></head><body>{''.join(parts)}</body></html>"
            pages.append({"site": site, "page": k, "lines": lines, "bytes": doc.encode("utf-8"),
                          "body": (lambda d=doc: lxml.html.document_fromstring(d).find(".//body"))})
    return pages
