"""Fit the line model of page cleaning (models/cleaning-lines.npz) on the tuning sites of the
labelled noisy pages (corpora/noisy_pages); the held-out sites are never read here.

Each page's lines come from `miner.ingest.lines.page_lines` over <body>, matched to their labels;
the `page` weights see the DOM's link density and how many earlier pages of the site carry the
line (pages in order, as a crawl meets them), the `text` weights neither (plain texts). A
logistic regression on standardised features (scikit-learn, class weights balanced); each
variant's threshold is chosen by leave-one-site-out over the tuning sites: the highest
recall of dropping whose precision of dropping stays at or above 0.97.

    .venv/bin/python bench/train_cleaning.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cleaning_eval import load_pages, norm  # noqa: E402
from miner.ingest.clean import rule_verdicts  # noqa: E402
from miner.ingest.lines import FEATURES, Line, SiteLines, features, page_lines  # noqa: E402

OUT = ROOT / "models" / "cleaning-lines.npz"
MIN_PRECISION = 0.97


TRAIN_PLAN = [  # real short texts as keep lines (train splits), in the tuning languages' noise
    ("umsab_tweets.jsonl.gz", "en", ("train",), "en"), ("umsab_tweets.jsonl.gz", "de", ("train",), "de"),
    ("umsab_tweets.jsonl.gz", "fr", ("train",), "fr"), ("umsab_tweets.jsonl.gz", "es", ("train",), "es"),
    ("uit_vsfc_vi.jsonl.gz", None, ("train",), "vi"), ("chnsenticorp_hotel_zh.jsonl.gz", None, ("all",), "zh-Hans"),
    ("banking77.jsonl.gz", None, ("train",), "en"),
]


def body_of(path: Path):
    import lxml.html

    from miner.ingest.encoding import decode_bytes, html_declared_charset

    data = path.read_bytes()
    text, _, _ = decode_bytes(data, None, html_declared_charset(data))
    tree = lxml.html.document_fromstring(text)
    body = tree.find(".//body")
    return body if body is not None else tree


def rows_of(pages: list[dict]):
    """(X_page, X_text, y, site) over every line that matches a label."""
    xs_page, xs_text, ys, sites = [], [], [], []
    site_lines: dict[str, SiteLines] = {}
    for page in pages:
        labels = {norm(t): 1 if label == "drop" else 0 for label, _, t in page["lines"]}
        lines = page_lines(body_of(page["path"]) if "path" in page else page["body"]())
        site = site_lines.setdefault(page["site"], SiteLines())
        verdicts, details = rule_verdicts([l.text for l in lines])
        xp = features(lines, verdicts, details, site.share(lines), site.pages)
        site.add(lines)
        plain = [Line(l.text) for l in lines]
        xt = features(plain, verdicts, details)
        for i, line in enumerate(lines):
            y = labels.get(norm(line.text))
            if y is None:
                continue
            xs_page.append(xp[i]); xs_text.append(xt[i]); ys.append(y); sites.append(page["site"])
    return np.array(xs_page), np.array(xs_text), np.array(ys), np.array(sites)


def fit(x: np.ndarray, y: np.ndarray, mean: np.ndarray, scale: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    model.fit((x - mean) / scale, y)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def pick_threshold(x: np.ndarray, y: np.ndarray, sites: np.ndarray, mean, scale) -> tuple[float, dict]:
    probs = np.zeros(len(y))
    for s in np.unique(sites):
        train, test = sites != s, sites == s
        coef, b = fit(x[train], y[train], mean, scale)
        probs[test] = 1 / (1 + np.exp(-(((x[test] - mean) / scale) @ coef + b)))
    best = (0.5, {"precision": 0, "recall": 0})
    for t in np.arange(0.3, 0.96, 0.01):
        drop = probs >= t
        tp = int((drop & (y == 1)).sum()); fp = int((drop & (y == 0)).sum()); fn = int((~drop & (y == 1)).sum())
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        if p >= MIN_PRECISION and r > best[1]["recall"]:
            best = (float(round(t, 2)), {"precision": round(p, 4), "recall": round(r, 4)})
    return best


def main() -> None:
    from bench.cleaning_eval import corpus_pages

    pages = load_pages("tune") + corpus_pages(TRAIN_PLAN, seed="train", pages_per_source=6)
    xp, xt, y, sites = rows_of(pages)
    mean = np.concatenate([xp, xt]).mean(axis=0)
    scale = np.concatenate([xp, xt]).std(axis=0)
    scale[scale < 1e-6] = 1.0
    out = {"features": np.array(FEATURES), "mean": mean.astype(np.float32), "scale": scale.astype(np.float32)}
    for variant, x in (("page", xp), ("text", xt)):
        threshold, cv = pick_threshold(x, y, sites, mean, scale)
        coef, b = fit(x, y, mean, scale)
        out[f"coef_{variant}"], out[f"intercept_{variant}"] = coef, np.float32(b)
        out[f"threshold_{variant}"] = np.float32(threshold)
        print(f"{variant}: {len(y)} lines from {len(set(sites))} sites ({int(y.sum())} noise); "
              f"leave-one-site-out at threshold {threshold}: {cv}")
        for name, w in sorted(zip(FEATURES, coef), key=lambda p: -abs(p[1]))[:10]:
            print(f"   {name:16} {w:+.2f}")
    np.savez(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
