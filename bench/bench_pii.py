"""PII redaction on the labelled cases of corpora/pii_cases: recall and decoys kept, per kind
and per language, on the tuning part and the held-out part separately.

Usage: .venv/bin/python bench/bench_pii.py [--no-write] [--show N]

Each case goes through what ingest stores (miner.ingest.prepare.prepare_batch: redaction of the
original, cleaning, redaction of the clean text). A PII string counts as gone when no 6-character
piece of it (letters and digits only, digits of any script read as ASCII; the whole of a shorter
one; pieces the case's text holds outside its PII strings, such as a display name equal to an
address's local part, are not counted, nor pieces made with a placeholder's letters) is left in the
stored original or clean text; a decoy counts as kept when it is in the stored original text verbatim.
Names of people are an opt-in kind: they are measured with it on (`redact_names`), and the
decoys are measured both with it off (the default) and on.
Baseline: the pii.py of commit BASELINE (before issue 17), on the same cases.
Writes the `pii` section of docs/benchmarks.md and the `pii` section of docs/reliability.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from miner.ingest.prepare import Prepared, prepare_batch  # noqa: E402

CASES = ROOT / "corpora" / "pii_cases"
RELIABILITY = ROOT / "docs" / "reliability.md"
BASELINE = "df8dd80"  # miner/ingest/pii.py before the evidence rules of issue 17
_ALNUM = re.compile(r"[\W_]+")
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_]{0,30}\]")
TARGET = 0.99
FIRST_RUNS = {  # measured once on each part as it was committed, before any rule changed after seeing it
    "tune": "tuned on it",
    "heldout": "0.993 (152/153) / 0.990 (206/208)",
    "fresh": "0.865 (90/104) / 0.998 (521/522)",
    "final": "0.900 (117/130) / 1.000 (156/156)",
    "wild": "0.630 (126/200) / 0.992 (603/608)",  # names on: person 0/26; cases e213162, rules of 7e26aba (0.655 with the leak check of 5503ae8)
}
PARTS = ["tune", "heldout", "fresh", "final", "wild"]  # in the order they were written (see corpora/pii_cases/make_*.py)


def load(part: str) -> list[dict]:
    path = CASES / f"{part}.jsonl"
    return [json.loads(line) for line in path.open(encoding="utf-8")] if path.exists() else []


def _compact(s: str) -> str:
    """Letters and digits only, lower case, NFKC (full-width forms) and every decimal digit as ASCII, so
    that a value written in Persian or full-width digits still counts as leaked if a stored text holds it
    in another digit form."""
    s = unicodedata.normalize("NFKC", s)
    s = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in s)
    return _ALNUM.sub("", s).lower()


def leaked(secret: str, outputs: list[str], elsewhere: str = "") -> bool:
    """Is a piece of `secret` left in `outputs`? Pieces that the case's text holds outside its PII
    strings (`elsewhere`) tell nothing: "Stefan Hoffmann <s.hoffmann54@gmx.net>" keeps "hoffma" in the
    name, which is not the address's."""
    c = _compact(secret)
    pieces = {c} if len(c) <= 6 else {c[i : i + 6] for i in range(len(c) - 5)}
    if elsewhere:
        rest = _compact(elsewhere)
        pieces = {p for p in pieces if p not in rest} or {c}
    # a placeholder is no one's data: "<[EMAIL]> escribió" does not leak "mailes" of "hotmail.es"
    segments = [_compact(seg) for out in outputs for seg in _PLACEHOLDER.split(out)]
    return any(p in seg for seg in segments for p in pieces)


def outside(case: dict) -> str:
    """The case's text with its PII strings cut out."""
    text = case["text"]
    for s in case["pii"]:
        text = text.replace(s, "\n")
    return text


def run(cases: list[dict], redactor) -> list[dict]:
    """Per case: the stored texts and, per PII string and decoy, whether it went/stayed."""
    prepared = prepare_batch([c["text"] for c in cases], redactor)
    out = []
    for c, p in zip(cases, prepared):
        texts = [p.text, p.clean_text] if isinstance(p, Prepared) else [c["text"]]
        out.append({
            "case": c, "stored": texts[0],
            "gone": [not leaked(s, texts, outside(c)) for s in c["pii"]],
            "kept": [k in texts[0] for k in c["keep"]],
        })
    return out


def tally(results: list[dict], with_names: bool) -> dict:
    """{(axis, value): [pii gone, pii total, decoys kept, decoys total]} over kind and language."""
    t: dict = defaultdict(lambda: [0, 0, 0, 0])
    for r in results:
        c = r["case"]
        kind = c["kind"].split(":")[0]
        for key in (("all", "all"), ("kind", kind), ("lang", c["lang"])):
            if c["kind"] != "person" or with_names:
                t[key][0] += sum(r["gone"])
                t[key][1] += len(r["gone"])
            t[key][2] += sum(r["kept"])
            t[key][3] += len(r["kept"])
    return t


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f} ({a}/{b})" if b else "-"


def baseline_redactor():
    src = subprocess.run(["git", "show", f"{BASELINE}:miner/ingest/pii.py"], cwd=ROOT, capture_output=True, text=True)
    if src.returncode:
        return None
    path = Path("/tmp") / f"pii_baseline_{BASELINE}.py"
    path.write_text(src.stdout.replace("from ..errors import", "from miner.errors import"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("pii_baseline", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.Redactor()


def validators(n: int = 300) -> list[str]:
    """Check-digit validators, hand-written (miner before issue 17) against python-stdnum, on ids that
    corpora/pii_cases/pii_ids.py generates valid and mistyped: share of valid ones accepted and of
    mistyped ones rejected."""
    import random

    from stdnum import iban, luhn, verhoeff
    from stdnum.br import cpf
    from stdnum.cn import ric
    from stdnum.es import dni, nie
    from stdnum.fr import nir
    from stdnum.it import codicefiscale

    sys.path.insert(0, str(CASES))
    import pii_ids as ids

    src = subprocess.run(["git", "show", f"{BASELINE}:miner/ingest/pii.py"], cwd=ROOT, capture_output=True, text=True).stdout
    ns: dict = {}
    exec(compile(src.replace("from ..errors import", "from miner.errors import"), "pii_baseline", "exec"), ns)
    digits = lambda s: re.sub(r"[^0-9]", "", s)  # noqa: E731
    rows = [
        ("card (Luhn)", lambda r, v: ids.card(r, r.choice(["visa", "mastercard", "amex", "unionpay"]), v),
         lambda s: ns["_luhn"](s), luhn.is_valid),
        ("Aadhaar (Verhoeff)", lambda r, v: digits(ids.in_aadhaar(r, v)), lambda s: ns["_verhoeff"](s), verhoeff.is_valid),
        ("IBAN (15 countries incl. IR)", lambda r, v: ids.iban(r, r.choice(list(ids.IBAN_SHAPES)), v),
         lambda s: ns["_iban_span"](s) == len(s), iban.is_valid),
        ("CN resident id", lambda r, v: ids.cn_id(r, v), lambda s: ns["_cn_id_ok"](s), ric.is_valid),
        ("ES DNI", lambda r, v: ids.es_dni(r, v), lambda s: ns["_dni_ok"](s), dni.is_valid),
        ("ES NIE", lambda r, v: ids.es_nie(r, v), lambda s: ns["_dni_ok"](s), nie.is_valid),
        ("FR NIR", lambda r, v: ids.fr_nir(r, v).replace(" ", ""), lambda s: ns["_nir_ok"](s), nir.is_valid),
        ("IT codice fiscale", lambda r, v: ids.it_cf(r, v), lambda s: ns["_cf_ok"](s), codicefiscale.is_valid),
        ("BR CPF", lambda r, v: digits(ids.br_cpf(r, v)), lambda s: ns["_cpf_ok"](s), cpf.is_valid),
    ]
    out = ["| id | hand-written: valid accepted | mistyped rejected | python-stdnum: valid accepted | mistyped rejected |",
           "| --- | --- | --- | --- | --- |"]
    for name, gen, hand, lib in rows:
        rng = random.Random(name)
        good = [gen(rng, True) for _ in range(n)]
        bad = [gen(rng, False) for _ in range(n)]
        cells = []
        for f in (hand, lib):
            ok = lambda s: bool(f(s)) if True else False  # noqa: E731
            cells += [f"{sum(map(ok, good)) / n:.3f}", f"{1 - sum(map(ok, bad)) / n:.3f}"]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def phones(parts: dict) -> list[str]:
    """Phone finding alone: the hand-written finder (with phonenumbers deciding after a phone keyword)
    against phonenumbers' PhoneNumberMatcher (leniency VALID) over the regions of the text's script."""
    import phonenumbers

    from miner.ingest import pii

    def matcher(norm: str) -> list:
        regions = next((rs for rx, rs in pii._SCRIPT_REGIONS if rx.search(norm)), pii._LATIN_REGIONS)
        return [(m.start, m.end, "[PHONE]") for r in regions
                for m in phonenumbers.PhoneNumberMatcher(norm, r, leniency=phonenumbers.Leniency.VALID)]

    def apply(text: str, edits: list) -> str:
        out, pos = [], 0
        for a, b, r in pii._merge(list(edits)):
            out += [text[pos:a], r]
            pos = b
        return "".join(out) + text[pos:]

    rows = ["| part | finder | phone recall | decoys kept (all decoys) | seconds |", "| --- | --- | --- | --- | --- |"]
    for part, cases in parts.items():
        for name, find in (("miner (rules + phonenumbers after a keyword)", pii._find_phones), ("PhoneNumberMatcher alone", matcher)):
            gone = total = kept = ktotal = 0
            t0 = time.perf_counter()
            for c in cases:
                out = apply(c["text"], find(pii._normalise(c["text"])))
                if c["kind"] == "phone":
                    total += len(c["pii"])
                    gone += sum(not leaked(s, [out], outside(c)) for s in c["pii"])
                ktotal += len(c["keep"])
                kept += sum(k in out for k in c["keep"])
            rows.append(f"| {part} | {name} | {_ratio(gone, total)} | {_ratio(kept, ktotal)} | {time.perf_counter() - t0:.2f} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--show", type=int, default=0, help="print the first N misses of each part")
    ap.add_argument("--part", choices=[*PARTS, "all"], default="all")
    args = ap.parse_args()
    from miner.ingest.pii import Redactor

    parts = {p: load(p) for p in (PARTS if args.part == "all" else [args.part])}
    parts = {p: cs for p, cs in parts.items() if cs}
    systems = {
        "default": (Redactor(), False),
        "names": (Redactor(enabled={"person"}), True),
    }
    base = baseline_redactor()
    if base is not None:
        systems["baseline"] = (base, False)
    tallies, seconds = {}, {}
    for part, cases in parts.items():
        for name, (redactor, with_names) in systems.items():
            t0 = time.perf_counter()
            results = run(cases, redactor)
            seconds[(part, name)] = time.perf_counter() - t0
            tallies[(part, name)] = tally(results, with_names)
            if args.show and name in ("default", "names"):
                misses = [r for r in results if not all(r["gone"]) or not all(r["kept"])]
                misses = [r for r in misses if name == "names" or r["case"]["kind"] != "person"]
                print(f"--- {part} / {name}: {len(misses)} cases with a miss")
                for r in misses[: args.show]:
                    print(f"  {r['case']['id']} {r['case']['lang']} {r['case']['kind']}: {r['stored']!r}")

    lines = ["## PII redaction (`bench/bench_pii.py`, issue 17)", ""]
    lines.append(
        f"Labelled cases in `corpora/pii_cases/` ({', '.join(f'{p}: {len(c)}' for p, c in parts.items())}), "
        "13 languages; about half are decoys that must be kept (order, tracking, invoice, customer and part numbers, "
        "EAN barcodes, dates, prices, quantities, numbers next to order words). The held-out part was written from "
        "other templates after the rules were fixed. Each case goes through what ingest stores (redaction, cleaning, "
        "redaction of the clean text). The held-out part's first run (commit e7a077d, rules as committed in 2122be7) "
        "gave recall 0.993 (152/153) and decoys kept 0.990 (206/208); its three misses showed two bugs (\"social "
        "security no.\" read as a sentence end; a 4-4-4 Aadhaar shape cut out of a 22-digit USPS tracking number), "
        "fixed after that run, so it has been seen once. The fresh part (support forms and chats: labelled fields, "
        "several values per message, a value on the line under its label) was written after those fixes; its first "
        "run (commit d5b5147) gave recall 0.865 (90/104) and decoys kept 0.998 (521/522): a label on its own line, "
        "German compounds and a tracking number read as an IBAN of no country were fixed after it (commit 0b0334a). "
        "The final part was written after that and committed (627bc99); its first run gave recall 0.900 (117/130) "
        "and decoys kept 1.000 (156/156): all 13 misses were a keyword after the value (\"4411 ... - that's my card "
        "number\"), which the rules did not look for. They do now (a keyword within 24 characters after the value), "
        "so the final part has been seen once too. The wild part (`make_wild.py`) was written by someone who had "
        "not read pii.py, in forms the other parts do not use (chat transcripts with timestamps and speakers, form "
        "dumps, signatures, quoted reply headers, values grouped by hand or wrapped onto the next line, full-width "
        "and Persian/Arabic-Indic digits, abbreviated or misspelled keywords, e-mails written out, secrets in URL "
        "paths; look-alikes: masked cards, which count as decoys, IMEIs, tickets in fours, RF creditor references, "
        "postcodes...) and committed (e213162) before its first run (6574f0c), which gave recall 0.630 (126/200), "
        "decoys kept 0.992 (603/608) and names 0/26: well below target, like the fresh and final parts before it. "
        "5 of those 74 misses were the leak check's own (an address's local part equal to the display name before "
        "it; pieces made with a placeholder's letters): it no longer counts them, and gives 0.655 (131/200) for "
        "the same rules. The other misses were fixed by general rules (5503ae8: tokens in URL paths, e-mails "
        "written out, values grouped by hand or wrapped after their keyword, chat transcripts, abbreviated "
        "keywords, tickets in fours, names under '-- ' or a name label), so the wild part has been seen once "
        "too; the figures below are after those fixes, and a new part written after them is the only way to "
        "know what a user will see. Recall: PII strings with no 6-character piece left in the stored texts. "
        f"Targets: recall >= {TARGET} and decoys kept >= {TARGET}. Names of people are an opt-in kind (`--redact-names`): "
        "their recall is measured with it on; decoys are measured with it off and on."
    )
    lines.append("")
    lines += ["| part | redactor | recall | decoys kept | seconds |", "| --- | --- | --- | --- | --- |"]
    labels = {"default": "default kinds", "names": "default + names", "baseline": f"before issue 17 ({BASELINE})"}
    for (part, name), t in tallies.items():
        a = t[("all", "all")]
        lines.append(f"| {part} | {labels[name]} | {_ratio(a[0], a[1])} | {_ratio(a[2], a[3])} | {seconds[(part, name)]:.2f} |")
    for axis in ("kind", "lang"):
        lines += ["", f"By {axis} (" + ("default kinds; person with names on" if axis == "kind" else "default kinds; names not counted") + "):", ""]
        header = "| " + axis + " | " + " | ".join(f"{p} recall | {p} decoys kept" for p in parts) + " |"
        lines += [header, "| --- |" + " --- | --- |" * len(parts)]
        values = sorted({k[1] for (p, n), t in tallies.items() for k in t if k[0] == axis})
        for v in values:
            cells = []
            for part in parts:
                t = tallies[(part, "names" if v == "person" else "default")][(axis, v)]
                cells += [_ratio(t[0], t[1]), _ratio(t[2], t[3])]
            lines.append(f"| {v} | " + " | ".join(cells) + " |")
    lines += ["", "Phone numbers: the finder miner uses against phonenumbers' matcher alone (on the same cases; "
              "the matcher takes many order and tracking numbers for phones, so it only decides numbers after a "
              "phone keyword that the rules' shapes do not know, such as Russian `8 (916) 212-26-67`):", ""]
    lines += phones(parts)
    lines += ["", f"Check-digit validators on generated ids ({300} valid, {300} with one digit mistyped each):", ""]
    lines += validators(300)
    body = "\n".join(lines)
    print(body)
    if args.no_write:
        return
    write_section("pii", body)
    write_reliability(tallies, parts)


def write_reliability(tallies: dict, parts: dict) -> None:
    from datetime import datetime, timezone

    rows = ["### PII redaction (`bench/bench_pii.py`)", "",
            "Labelled cases in 13 languages (`corpora/pii_cases/`), each part written before it was first measured. "
            "Recall counts every kind, names of people with their opt-in on; decoys are look-alikes that must stay "
            "(order, tracking, invoice, part numbers, dates, prices...). \"First run\" is each part's measurement "
            "before any rule was changed after seeing it; the current figures come after the fixes those runs showed "
            "(docs/benchmarks.md tells which).", "",
            "| part | cases | first run: recall (names off) / decoys kept | recall now (target >= 0.99) | decoys kept now (target >= 0.99) "
            "| decoys kept, names on |",
            "| --- | --- | --- | --- | --- | --- |"]
    for part, cases in parts.items():
        d, n = tallies[(part, "default")][("all", "all")], tallies[(part, "names")][("all", "all")]
        person = tallies[(part, "names")].get(("kind", "person"), [0, 0, 0, 0])
        gone, total = d[0] + person[0], d[1] + person[1]
        rows.append(f"| {part} | {len(cases)} | {FIRST_RUNS.get(part, '-')} | {_ratio(gone, total)} | {_ratio(d[2], d[3])} "
                    f"| {_ratio(n[2], n[3])} |")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = "<!-- reliability:pii -->\n" + "\n".join(rows) + f"\n\n_Measured {stamp}; details in docs/benchmarks.md._\n<!-- /reliability:pii -->"
    text = RELIABILITY.read_text(encoding="utf-8") if RELIABILITY.exists() else "# Reliability\n"
    pattern = re.compile(r"<!-- reliability:pii -->.*?<!-- /reliability:pii -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    RELIABILITY.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
