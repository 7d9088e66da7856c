"""Assemble the labelled set of noisy pages: `python corpora/noisy_pages/build.py`.

14 sites (12 languages, 8 encodings, 3 page layouts), 8 pages each. Keep lines are complaints
and replies from corpora/demo (the team's own texts) and content.yaml (ar, ru, ko, and `hard`
lines that look like noise); drop lines are the page noise of noise.yaml. Each site has its own
chrome (navigation, footer, comment policy: the same on every page of the site, as on real
sites) and per-page noise (machine-translation placeholders, spam replies, related lists, post
meta lines). Writes pages/SITE/N.html in the site's encoding and labels.jsonl: one row per line
of every page {site, page, split, lang, encoding, label: keep|drop, kind, text}. Deterministic.

Sites marked `held_out` are never used to write rules or fit the line model (bench/bench_cleaning.py).
"""

from __future__ import annotations

import csv
import html
import json
import random
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "demo"

SITES = [  # name, lang, encoding, layout, split
    ("en-forum", "en", "utf-8", "forum", "tune"),
    ("en-reviews", "en", "utf-8", "review", "tune"),
    ("de-reviews", "de", "cp1252", "review", "tune"),
    ("fr-forum", "fr", "utf-8", "forum", "tune"),
    ("es-news", "es", "cp1252", "news", "tune"),
    ("vi-reviews", "vi", "utf-8", "review", "tune"),
    ("zh-forum", "zh-Hans", "gb18030", "forum", "tune"),
    ("zh-reviews", "zh-Hans", "utf-8", "review", "tune"),
    ("fa-reviews", "fa", "cp1256", "review", "held_out"),
    ("ar-forum", "ar", "cp1256", "forum", "held_out"),
    ("ja-news", "ja", "shift_jis", "news", "held_out"),
    ("tw-forum", "zh-Hant", "big5", "forum", "held_out"),
    ("ru-reviews", "ru", "cp1251", "review", "held_out"),
    ("ko-news", "ko", "euc-kr", "news", "held_out"),
]
PAGES = 8
_FA_1256 = str.maketrans({"ی": "ي", "۰": "0", "۱": "1", "۲": "2", "۳": "3", "۴": "4", "۵": "5", "۶": "6", "۷": "7",
                          "۸": "8", "۹": "9", "\u200c": "\u200c"})


def demo_texts() -> dict[str, list[str]]:
    """Informative demo texts by language (zh split into zh-Hans / zh-Hant by labels.csv)."""
    labels = {r["id"]: r for r in csv.DictReader((DEMO / "labels.csv").open(encoding="utf-8"))}
    texts: dict[str, str] = {}
    for r in csv.DictReader((DEMO / "complaint_posts.tsv").open(encoding="utf-8"), delimiter="\t"):
        texts[r["post_id"]] = r["complaint"]
    for line in (DEMO / "tickets.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        texts[r["ticket_id"]] = r["body"]
    for r in json.loads((DEMO / "app_reviews.json").read_text(encoding="utf-8")):
        texts[r["review_id"]] = r["content"]
    for r in csv.DictReader((DEMO / "survey_nps.csv").open(encoding="utf-8"), delimiter=";"):
        texts[r["response_id"]] = r["comment"]
    out: dict[str, list[str]] = {}
    for key, text in sorted(texts.items()):
        label = labels.get(key)
        if not label or "noninformative" in label["topics"] or len(text) < 25:
            continue
        out.setdefault(label["lang"], []).append(text)
    return out


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\r", "").split("\n") if p.strip()]


class Page:
    def __init__(self):
        self.parts: list[str] = []
        self.lines: list[tuple[str, str, str]] = []  # (label, kind, text)

    def add(self, label: str, kind: str, text: str, markup: str) -> None:
        self.lines.append((label, kind, text))
        self.parts.append(markup)


def linked(text: str, href: str = "/x") -> str:
    return f'<a href="{href}">{html.escape(text)}</a>'


def menu(text: str) -> str:
    """A line of | or · separated items, each item a link."""
    for sep in (" | ", " · ", " › ", " » ", " > "):
        if sep in text:
            head, *rest = text.split(sep)
            items = [linked(x.strip(), f"/m{i}") for i, x in enumerate([head, *rest])]
            return html.escape(sep).join(items)
    return linked(text)


def build_site(name: str, lang: str, encoding: str, layout: str, split: str, noise: dict, content: dict,
               demo: dict[str, list[str]]) -> list[dict]:
    rng = random.Random(name)
    n = noise[lang]
    texts = list(demo.get(lang, [])) + list(content.get(lang, []))
    rng.shuffle(texts)
    hard = list(content["hard"].get(lang, []))
    chrome_footer = n["footer"]
    policy = n["policy"][rng.randrange(len(n["policy"]))]
    rows = []
    out_dir = HERE / "pages" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for k in range(1, PAGES + 1):
        p = Page()
        p.add("drop", "nav", n["nav"][0], f'<div class="nav">{menu(n["nav"][0])}</div>')
        if layout != "news":
            p.add("drop", "nav", n["nav"][1], f'<div class="crumb">{menu(n["nav"][1])}</div>')
        complaint = texts[(k * 3) % len(texts)]
        p.parts.append('<div class="post">')
        if layout == "forum":
            p.add("drop", "meta", n["meta"][0], f'<div class="author">{html.escape(n["meta"][0])}</div>')
        if rng.random() < 0.5:
            mt = n["mt"][rng.randrange(len(n["mt"]))]
            p.add("drop", "mt", mt, f'<p class="tr">{html.escape(mt)}</p>')
        for para in paragraphs(complaint):
            p.add("keep", "complaint", para, f"<p>{html.escape(para)}</p>")
        if hard and rng.random() < 0.6:
            line = hard[k % len(hard)]
            markup = html.escape(line)
            if "https://" in line:
                url = line[line.index("https://"):].split()[0]
                markup = html.escape(line).replace(html.escape(url), linked(url, url))
            p.add("keep", "hard", line, f"<p>{markup}</p>")
        p.parts.append("</div>")
        p.add("drop", "share", n["share"][0], f'<div class="share">{menu(n["share"][0])}</div>')
        if layout == "review":
            p.add("drop", "misc", n["misc"][0], f'<div class="helpful">{html.escape(n["misc"][0])}</div>')
        p.add("drop", "meta", n["meta"][1], f'<div class="stats">{html.escape(n["meta"][1])}</div>')
        p.add("drop", "policy", policy, f'<div class="rules">{html.escape(policy)}</div>')
        replies = rng.randint(1, 3)
        spam_at = rng.randrange(replies + 1) if rng.random() < 0.6 else -1
        for j in range(replies + 1):
            p.parts.append('<div class="comment">')
            if j == spam_at:
                spam = n["spam"][(k + j) % len(n["spam"])]
                p.add("drop", "spam", spam, f"<p>{html.escape(spam)}</p>")
            elif j < replies:
                reply = texts[(k * 3 + j + 1) % len(texts)]
                for para in paragraphs(reply)[:2]:
                    p.add("keep", "reply", para, f"<p>{html.escape(para)}</p>")
                if rng.random() < 0.3:
                    mt = n["mt"][0]
                    p.add("drop", "mt", mt, f'<span class="tr">{html.escape(mt)}</span>')
            p.add("drop", "meta", n["meta"][2], f'<div class="actions">{menu(n["meta"][2])}</div>')
            p.parts.append("</div>")
        if rng.random() < 0.5:
            p.add("drop", "misc", n["misc"][1], f'<div class="more">{linked(n["misc"][1])}</div>')
        p.add("drop", "related", n["related"][0], f'<div class="related"><h3>{html.escape(n["related"][0])}</h3><ul>')
        for title in n["related"][1:]:
            p.add("drop", "related", title, f"<li>{linked(title, '/r')}</li>")
        p.parts.append("</ul></div>")
        p.add("drop", "misc", n["misc"][3], f'<div class="login">{linked(n["misc"][3])}</div>')
        for line in chrome_footer:
            p.add("drop", "footer", line, f'<div class="footer">{html.escape(line)}</div>')
        page_html = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="{encoding}"><title>{name} {k}</title></head>'
                     f'<body>{"".join(p.parts)}</body></html>')
        if encoding == "cp1256":
            page_html = page_html.translate(_FA_1256)
        (out_dir / f"{k}.html").write_bytes(page_html.encode(encoding, errors="xmlcharrefreplace"))
        for label, kind, text in p.lines:
            rows.append({"site": name, "page": k, "split": split, "lang": lang, "encoding": encoding,
                         "label": label, "kind": kind, "text": text})
    return rows


def main() -> None:
    noise = yaml.safe_load((HERE / "noise.yaml").read_text(encoding="utf-8"))
    content = yaml.safe_load((HERE / "content.yaml").read_text(encoding="utf-8"))
    demo = demo_texts()
    rows = []
    for site in SITES:
        rows.extend(build_site(*site, noise, content, demo))
    with (HERE / "labels.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    keep = sum(r["label"] == "keep" for r in rows)
    print(f"{len(SITES)} sites, {len(SITES) * PAGES} pages, {len(rows)} lines ({keep} keep, {len(rows) - keep} drop)")


if __name__ == "__main__":
    main()
