"""Hostile and mutated inputs for every reader and every YAML file miner reads, run through the
real CLI, each outcome classified.

`cases(n, seed)` gives `n` cases spread over the kinds in `KINDS`: first the crafted attacks of
each kind (a 5 MB cell, 10^6 columns, deep JSON, zip and gzip bombs, billion laughs, invalid
UTF-16 surrogates, RTL overrides, YAML alias bombs, wrong types...), then random mutations of
valid seed files (truncation, flipped and inserted bytes, NUL bytes, hostile characters, other
encodings). `run_case` runs one through `miner ingest` (readers), `miner touchpoints check`
(taxonomy), `miner alerts --check` (alert rules) or `miner crawl --dry-run` (site profiles, all
addresses resolved to a closed port of 127.0.0.1), in process through typer's CliRunner, or in a
subprocess with `subprocess=True` (its peak RSS measured). An outcome is:

- `stored`: exit 0 (inputs: the store is consistent, whatever was stored);
- `rejected`: a non-zero exit with an error line `Error ... [E###] ...` (E999 excluded);
- `traceback`: anything else: an uncaught exception, a traceback printed, E999 (an internal
  error is a bug, not a rejection), or a non-zero exit without a coded line;
- `timeout`: a subprocess case still running after its time limit (killed).

bench/stress.py runs 10,000 of them; tests/stress/test_hostile_inputs.py a few hundred.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READERS = ("csv", "tsv", "jsonl", "json", "xlsx", "parquet", "html", "txt", "gz", "zip")
YAMLS = ("taxonomy", "rules", "profile")
KINDS = READERS + YAMLS
EXTENSION = {"gz": "csv.gz", "taxonomy": "yaml", "rules": "yaml", "profile": "yaml"}
CODE = re.compile(r"\[(E\d{3})\]")

TEXTS = [
    "The delivery was three days late and nobody answered the phone.",
    "Die Rechnung war doppelt so hoch wie vereinbart, bitte erstatten.",
    "Le livreur a laissé le colis sous la pluie, tout est mouillé.",
    "El reembolso nunca llegó y el chat me colgó dos veces.",
    "快递员态度很差，包裹也被压坏了，客服一直不回复。",
    "配送が遅れて、サポートに電話してもつながりませんでした。",
    "الطلب وصل ناقصا وخدمة العملاء لم ترد على رسائلي",
    "سفارش من دیر رسید و پشتیبانی جواب نداد",
    "Приложение вылетает при оплате, деньги списали дважды.",
    "Đơn hàng bị giao nhầm địa chỉ và không ai hỗ trợ.",
    "배송이 너무 늦고 상자가 찢어져 있었어요.",
    "The app logs me out every time 😡😡 fix it!!!",
]
# Characters that break naive code: RTL/LTR overrides and isolates, zero-width joiners, BOMs,
# line and paragraph separators, a lone surrogate (as UTF-8 bytes it is invalid), NUL, escape.
HOSTILE_CHARS = ["\u202e", "\u202d", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff", "\u2028", "\u2029",
                 "\x00", "\x1b[2J", "\r", "\x0b", "\x85", "\ufffd", "\U0001f4a9", "\u0301" * 50]
HOSTILE_BYTES = [b"\x00", b"\xed\xa0\x80", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\xc0\x80", b"\x80",
                 b"\xf4\x90\x80\x80", b'"', b",", b"\t", b"\n", b"\r", b"{", b"[", b"<", b"&", b"\\u", b"\\ud800",
                 b"PK\x03\x04", b"\x1f\x8b", b"'", b"*", b"&a", b"!!python/object:os.system", b"<<: *a"]


@dataclass
class Case:
    kind: str
    recipe: str  # crafted attack name, or the mutation applied to a seed
    make: Callable[[], bytes]
    big: bool = False  # a large input: run in a subprocess by the bench, its peak RSS measured

    @property
    def filename(self) -> str:
        return f"input.{EXTENSION.get(self.kind, self.kind)}"


@dataclass
class Outcome:
    kind: str
    recipe: str
    status: str  # stored | rejected | traceback
    code: str | None
    detail: str
    seconds: float
    peak_rss_mb: float | None = None


# --- valid seeds ------------------------------------------------------------------------


def _rows(rng: random.Random, n: int = 6) -> list[dict]:
    return [{"id": f"r{i}", "text": rng.choice(TEXTS), "date": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
             "channel": rng.choice(["email", "chat", "app"]), "score": rng.randint(0, 10)} for i in range(n)]


def _csv(rows: list[dict], sep: str = ",") -> bytes:
    import csv

    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=sep)
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def _xlsx(rows: list[list]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _parquet(columns: dict[str, list]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _html(texts: list[str], charset: str = "utf-8") -> bytes:
    body = "".join(f"<p>{t}</p>" for t in texts)
    page = f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>Complaint</title></head><body><nav>Home | Login</nav><article>{body}</article></body></html>'
    return page.encode(charset, "replace")


RULES_SEED = """\
owners:
  default: lead@example.com
defaults:
  period: week
  baseline: 8
rules:
  - name: spiking-themes
    by: theme
    when: {flagged: true}
    severity: high
  - name: billing
    filters: {touchpoint: [billing], channel: [chat, email]}
    when: {volume: {min: 20}, net_sentiment: {max: -0.5}}
"""


def seed(kind: str, rng: random.Random) -> bytes:
    rows = _rows(rng)
    if kind == "csv":
        return _csv(rows)
    if kind == "tsv":
        return _csv(rows, "\t")
    if kind == "jsonl":
        return "\n".join(json.dumps(r, ensure_ascii=rng.random() < 0.5) for r in rows).encode()
    if kind == "json":
        return json.dumps(rows if rng.random() < 0.5 else {"data": rows}, ensure_ascii=False).encode()
    if kind == "txt":
        return "\n\n".join(r["text"] for r in rows).encode()
    if kind == "html":
        return _html([r["text"] for r in rows])
    if kind == "xlsx":
        return _xlsx([list(rows[0])] + [list(r.values()) for r in rows])
    if kind == "parquet":
        return _parquet({k: [r[k] for r in rows] for k in rows[0]})
    if kind == "gz":
        return gzip.compress(_csv(rows))
    if kind == "zip":
        return _zip({"a.csv": _csv(rows), "b/c.jsonl": "\n".join(json.dumps(r) for r in rows).encode(), "d.txt": rows[0]["text"].encode()})
    if kind == "taxonomy":
        return (ROOT / "docs" / "taxonomies" / rng.choice(["university.yaml", "home_builder.yaml", "airline.yaml"])).read_bytes()
    if kind == "rules":
        return RULES_SEED.encode()
    if kind == "profile":
        return (ROOT / "docs" / "sites" / rng.choice(["zh-board.yaml", "fa-complaints.yaml"])).read_bytes()
    raise ValueError(kind)


# --- mutations of a seed ----------------------------------------------------------------


def _mutate_bytes(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    b = bytearray(data)
    how = rng.choice(["truncate", "flip", "insert", "delete", "duplicate", "nul", "chars", "splice", "encode"])
    if how == "truncate" and b:
        return how, bytes(b[: rng.randrange(len(b))])
    if how == "flip" and b:
        for _ in range(rng.randint(1, 12)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return how, bytes(b)
    if how == "insert":
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(b) + 1)
            b[at:at] = rng.choice(HOSTILE_BYTES) * rng.choice([1, 1, 2, 50, 4000])
        return how, bytes(b)
    if how == "delete" and len(b) > 2:
        at = rng.randrange(len(b) - 1)
        del b[at : at + rng.randint(1, max(1, len(b) // 4))]
        return how, bytes(b)
    if how == "duplicate" and b:
        at = rng.randrange(len(b))
        chunk = b[at : at + rng.randint(1, 200)]
        b[at:at] = chunk * rng.choice([2, 10, 1000])
        return how, bytes(b)
    if how == "nul":
        for _ in range(rng.randint(1, 20)):
            b.insert(rng.randrange(len(b) + 1), 0)
        return how, bytes(b)
    if how == "splice" and len(b) > 4:
        i, j = sorted(rng.sample(range(len(b)), 2))
        return how, bytes(b[j:] + b[i:j] + b[:i])
    if how == "encode":
        text = data.decode("utf-8", "replace")
        codec = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "gbk", "shift_jis", "cp1256", "koi8-r", "latin-1"])
        return f"encode:{codec}", text.encode(codec, "replace")
    # chars (and the fallbacks above when the seed is too short)
    text = data.decode("utf-8", "surrogateescape")
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(text) + 1)
        text = text[:at] + rng.choice(HOSTILE_CHARS) + text[at:]
    return "chars", text.encode("utf-8", "surrogateescape")


def _mutate_rows(kind: str, rng: random.Random) -> tuple[str, bytes]:
    """Mutate the records before they are written, for the binary formats a byte mutation
    mostly turns into a damaged container: odd values and types in a valid file."""
    rows = _rows(rng)
    odd = [None, "", " ", 0, -1, 1e308, float("nan"), True, "\x00", "\u202eevil\u202c", "=cmd|' /C calc'!A0",
           "x" * rng.choice([10, 100_000]), "\ud800" if kind == "parquet" else "\U0001f4a9", "2026-02-30", "9999-99-99"]
    for r in rows:
        for k in list(r):
            if rng.random() < 0.4:
                r[k] = rng.choice(odd)
    if kind == "xlsx":
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        def cell(v):  # what a workbook can hold (openpyxl refuses control characters)
            return "?" if isinstance(v, str) and (ILLEGAL_CHARACTERS_RE.search(v) or "\ud800" in v) else v

        header = list(rows[0])
        if rng.random() < 0.3:
            header = [rng.choice(odd) for _ in header]
        return "values", _xlsx([[cell(v) for v in header]] + [[cell(v) for v in r.values()] for r in rows])
    if kind == "parquet":
        cols = {k: [r[k] for r in rows] for k in rows[0]}
        cols = {k: [None if isinstance(v, str) and "\ud800" in v else (str(v) if v is not None else None) for v in vs] for k, vs in cols.items()}
        return "values", _parquet(cols)
    return "values", json.dumps(rows, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def mutated(kind: str, rng: random.Random) -> Case:
    s = seed(kind, rng)
    if kind in ("xlsx", "parquet", "json") and rng.random() < 0.4:
        recipe, data = _mutate_rows(kind, rng)
    elif kind in ("gz", "zip") and rng.random() < 0.5:  # a mutated file inside a valid container
        how, inner = _mutate_bytes(_csv(_rows(rng)), rng)
        recipe, data = f"inner-{how}", (gzip.compress(inner) if kind == "gz" else _zip({"x.csv": inner, "y.jsonl": inner}))
    else:
        recipe, data = _mutate_bytes(s, rng)
        if rng.random() < 0.15:  # several mutations in a row
            more, data = _mutate_bytes(data, rng)
            recipe += "+" + more
    return Case(kind, f"mutated:{recipe.split(':')[0]}", lambda d=data: d)


# --- crafted attacks --------------------------------------------------------------------


def _gzip_bomb(gigabytes: float, prefix: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as f:
        f.write(prefix)
        chunk = b"a" * (1 << 20)
        for _ in range(int(gigabytes * 1024)):
            f.write(chunk)
    return out.getvalue()


def _zip_bomb_member(name: str, megabytes: int, head: bytes = b"", tail: bytes = b"", unit: bytes = b"a") -> Callable[[zipfile.ZipFile], None]:
    def write(z: zipfile.ZipFile) -> None:
        with z.open(name, "w", force_zip64=True) as f:
            f.write(head)
            chunk = unit * ((1 << 20) // len(unit))
            for _ in range(megabytes):
                f.write(chunk)
            f.write(tail)
    return write


_CT = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
_RELS = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_SHEET = f'<?xml version="1.0"?><worksheet {_NS}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData></worksheet>'
_STRINGS = f'<?xml version="1.0"?><sst {_NS}><si><t>text</t></si><si><t>The parcel arrived broken.</t></si></sst>'


def _workbook(sheet: bytes | Callable | None = None, strings: bytes | Callable | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        for name, part, default in (("xl/worksheets/sheet1.xml", sheet, _SHEET), ("xl/sharedStrings.xml", strings, _STRINGS)):
            if callable(part):
                part(z)
            else:
                z.writestr(name, part if part is not None else default)
    return out.getvalue()


_LAUGHS_DTD = '<!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10}">' for i in range(1, 10)) + "]>"
_QUADRATIC = '<!DOCTYPE q [<!ENTITY a "' + "a" * 50_000 + '">]>'
def _laughs_flow(p: str = "l") -> str:
    """Billion laughs as one YAML flow list: level k is nine aliases of level k-1 (9^9 leaves)."""
    levels = [f"&{p}0 [" + ", ".join(["lol"] * 9) + "]"]
    levels += [f"&{p}{k} [" + ", ".join([f"*{p}{k - 1}"] * 9) + "]" for k in range(1, 9)]
    return "[" + ", ".join(levels) + "]"


def _yaml_bomb(kind: str) -> bytes:
    """Billion laughs in YAML, placed where the loader reads: a list it walks, then text it expects."""
    bomb = _laughs_flow()
    if kind == "taxonomy":
        body = f"taxonomy: t\nstages:\n  - key: s\n    label: S\n    touchpoints:\n      - key: t\n        label: T\n        description: d\n        examples: {{en: {bomb}}}\n"
    elif kind == "rules":
        body = f"owners: {{default: a@example.com}}\ndefaults: {bomb}\nrules:\n  - name: r\n    when: {{flagged: true}}\n    filters: {{theme: {_laughs_flow('m')}}}\n"
    else:
        body = f"site: s\nbase: http://127.0.0.1:9\nstart: {bomb}\ndrop_params: {_laughs_flow('m')}\n"
    return body.encode()


def _yaml_bomb_late(kind: str) -> bytes:
    """The same bomb in the second rule / a later field, after valid ones."""
    bomb = _laughs_flow()
    if kind == "rules":
        return f"rules:\n  - name: ok\n    when: {{flagged: true}}\n  - name: r\n    when: {{flagged: true}}\n    filters: {{channel: {bomb}}}\n    owner: *l8\n".encode()
    if kind == "taxonomy":
        return f"taxonomy: t\nlanguages: {bomb}\nstages:\n  - key: s\n    label: S\n    touchpoints: [{{key: t, label: T, description: d, examples: [a]}}, {{key: u, label: U, description: *l8, examples: [b]}}]\n".encode()
    return f"site: s\nbase: http://127.0.0.1:9\nstart: /\nitem: {bomb}\n".encode()


def _yaml_merge_bomb() -> bytes:
    lines = ["x0: &x0 {k: v}"] + [f"x{i}: &x{i} {{<<: [{', '.join(['*x%d' % (i - 1)] * 4)}], k{i}: v}}" for i in range(1, 20)]
    return ("\n".join(lines) + "\nrules: []\n").encode()


def _deep_yaml(kind: str) -> bytes:
    key = {"taxonomy": "stages", "rules": "rules", "profile": "site"}[kind]
    return (f"{key}: " + "[" * 50_000 + "]" * 50_000 + "\n").encode()


def _wrong_types(kind: str) -> list[tuple[str, bytes]]:
    if kind == "taxonomy":
        bodies = ["stages: 7", "stages: {a: 1}", "stages:\n  - key: [1, 2]\n    label: 3", "- a\n- b", "42", "!!binary aGVsbG8=",
                  "stages:\n  - key: s\n    label: S\n    touchpoints: [{key: t, label: T, description: d, examples: {en: 5}}]",
                  "stages: !!python/object/apply:os.system ['echo hacked']", "stages:\n  - key: s\n    label: 2026-01-01"]
    elif kind == "rules":
        bodies = ["rules: 7", "rules: {name: x}", "rules:\n  - name: 5\n    when: 3", "rules:\n  - name: a\n    when: {volume: {min: abc}}",
                  "rules:\n  - name: a\n    baseline: -1\n    when: {flagged: true}", "defaults: [1]\nrules: []", "webhook: 5\nrules: []",
                  "rules: !!python/object/apply:os.system ['echo hacked']", "rules:\n  - name: a\n    when: {growth: {min: 1e400}}",
                  "rules:\n  - name: a\n    period: 2026-01-01\n    when: {flagged: true}", "accounts: {account_field: [1]}\nrules: []"]
    else:
        bodies = ["site: [1]\nstart: /", "site: ok\nstart: 5", "site: ok\nstart: javascript:alert(1)", "site: ok\nbase: file:///etc/passwd\nstart: /x",
                  "site: ok\nbase: http://127.0.0.1:9\nstart: /\nlisting: '(a+)+$'\nitem: '['", "site: ok\nbase: http://127.0.0.1:9\nstart: /\npoliteness: {delay: -5}",
                  "site: ok\nbase: http://127.0.0.1:9\nstart: /\nbudget: {max_pages: 1e999}", "site: ok\nbase: http://127.0.0.1:9\nstart: /\nencoding: rot13-nope",
                  "site: !!python/object/apply:os.system ['echo hacked']", "site: ok\nbase: http://127.0.0.1:9\nstart: /\nfields: {body: {css: 5}}"]
    return [(f"wrong-type-{i}", b.encode()) for i, b in enumerate(bodies)]


def crafted(kind: str) -> list[Case]:
    """The attacks named in issue 17, as they apply to `kind`."""
    out: list[tuple[str, Callable[[], bytes], bool]] = []
    add = lambda name, make, big=False: out.append((name, make, big))  # noqa: E731
    rtl = "Refund \u202eriaper\u202c for order \u2066#42\u2069 please \u200f"
    if kind in ("csv", "tsv"):
        sep = "," if kind == "csv" else "\t"
        add("cell-5mb", lambda: f"id{sep}text\n1{sep}".encode() + b"a" * 5_000_000 + f"\n2{sep}The parcel was late.\n".encode(), True)
        add("columns-1e6", lambda: sep.join(f"c{i}" for i in range(1_000_000)).encode() + b"\n" + sep.join("x" for _ in range(1_000_000)).encode() + b"\n", True)
        add("nul-bytes", lambda: f"id{sep}text\n1{sep}a\x00b\x00\x00The bill\x00 is wrong\n".encode())
        add("rtl-override", lambda: f"id{sep}text\n1{sep}{rtl}\n".encode())
        add("utf16-lone-surrogates", lambda: b"\xff\xfe" + f"id{sep}text\n1{sep}".encode("utf-16-le") + b"\x00\xd8\x00\xd8A\x00" + "late\n".encode("utf-16-le"))
        add("utf16-truncated", lambda: f"id{sep}text\n1{sep}late parcel\n".encode("utf-16")[:-1])
        add("unclosed-quote", lambda: f'id{sep}text\n1{sep}"never closed\n2{sep}ok\n'.encode() * 1000)
        add("one-million-rows-of-nothing", lambda: f"id{sep}text\n".encode() + f"{sep}\n".encode() * 1_000_000, True)
        add("header-only-separators", lambda: (sep * 100_000).encode() + b"\n1\n")
        add("cp1252-mislabelled", lambda: f"id{sep}text\n1{sep}Le colis était cassé, remboursé ?\n".encode("cp1252"))
        add("truncated-multibyte", lambda: f"id{sep}text\n1{sep}快递很慢".encode()[:-1])
    if kind == "jsonl":
        add("cell-5mb", lambda: b'{"text": "' + b"a" * 5_000_000 + b'"}\n{"text": "The parcel was late."}\n', True)
        add("columns-1e6", lambda: json.dumps({f"c{i}": "x" for i in range(1_000_000)}).encode() + b"\n", True)
        add("deep-nesting", lambda: b'{"text": ' + b"[" * 200_000 + b"]" * 200_000 + b"}\n")
        add("deep-objects", lambda: b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"\n" + b'{"text": "late"}\n')
        add("lone-surrogate-escape", lambda: b'{"text": "\\ud800 lone \\udfff surrogates"}\n')
        add("huge-number", lambda: b'{"text": "late", "score": 1' + b"0" * 100_000 + b"}\n")
        add("rtl-override", lambda: json.dumps({"text": rtl}).encode() + b"\n")
        add("nul-in-keys", lambda: b'{"te\\u0000xt": "a", "text": "b\\u0000c is broken"}\n')
        add("duplicate-keys", lambda: b'{"text": "a", "text": "b", "text": {"x": 1}}\n')
        add("not-objects", lambda: b"1\n[]\nnull\ntrue\n\"x\"\n")
    if kind == "json":
        add("cell-5mb", lambda: b'[{"text": "' + b"a" * 5_000_000 + b'"}, {"text": "The parcel was late."}]', True)
        add("columns-1e6", lambda: json.dumps([{f"c{i}": "x" for i in range(1_000_000)}]).encode(), True)
        add("deep-nesting", lambda: b"[" * 200_000 + b"]" * 200_000)
        add("deep-objects", lambda: b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
        add("huge-number", lambda: b'[{"text": "late", "score": 1' + b"0" * 100_000 + b"}]")
        add("nan-infinity", lambda: b'[{"text": "late", "score": NaN}, {"text": "late again", "score": -Infinity}]')
        add("lone-surrogate-escape", lambda: b'[{"text": "\\udc00\\ud800"}]')
        add("rtl-override", lambda: json.dumps([{"text": rtl}]).encode())
        add("many-lists", lambda: json.dumps({"a": [1], "b": [2], "c": "x"}).encode())
        add("scalar", lambda: b"42")
    if kind == "txt":
        add("cell-5mb", lambda: b"a" * 5_000_000, True)
        add("one-long-line-20mb", lambda: (b"the parcel was late " * 1_000_000), True)
        add("nul-bytes", lambda: b"late\x00parcel\x00" * 100)
        add("rtl-override", lambda: rtl.encode())
        add("utf16-lone-surrogates", lambda: b"\xff\xfe" + b"\x00\xd8" * 50 + "late".encode("utf-16-le"))
        add("utf16-be-odd-length", lambda: b"\xfe\xff" + "late parcel".encode("utf-16-be") + b"\x00")
        add("utf8-overlong-and-surrogates", lambda: b"\xc0\xaf\xed\xa0\x80\xed\xbf\xbf late \xf8\x88\x80\x80\x80")
        add("combining-storm", lambda: ("a" + "\u0301" * 100_000).encode())
        add("only-control-chars", lambda: bytes(range(1, 32)) * 100)
        add("million-blank-lines", lambda: b"\n" * 1_000_000, True)
    if kind == "html":
        add("billion-laughs", lambda: f'<?xml version="1.0"?>{_LAUGHS_DTD}<html><body><p>&lol9;</p><p>The parcel was late.</p></body></html>'.encode())
        add("quadratic-blowup", lambda: f'<?xml version="1.0"?>{_QUADRATIC}<html><body><p>{"&a;" * 50_000}</p></body></html>'.encode(), True)
        add("external-entity", lambda: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><html><body><p>&e; late</p></body></html>')
        add("deep-nesting", lambda: b"<html><body>" + b"<div>" * 200_000 + b"late" + b"</div>" * 200_000 + b"</body></html>", True)
        add("unclosed-tags", lambda: b"<html><body>" + b"<p><b><i>late parcel " * 50_000)
        add("cell-5mb", lambda: b"<html><body><p>" + b"a" * 5_000_000 + b"</p></body></html>", True)
        add("wrong-charset", lambda: '<html><head><meta charset="utf-16"></head><body><p>包裹坏了</p></body></html>'.encode("gbk"))
        add("bogus-charset", lambda: b'<html><head><meta charset="x-\x00\xff-nope"></head><body><p>late</p></body></html>')
        add("rtl-override", lambda: f"<html><body><p>{rtl}</p></body></html>".encode())
        add("script-only", lambda: b"<html><script>" + b"while(1){}" * 10_000 + b"</script></html>")
        add("comment-bomb", lambda: b"<html><body><!--" + b"-" * 1_000_000 + b"<p>late</p></body></html>")
    if kind == "xlsx":
        add("zip-bomb-shared-strings", lambda: _workbook(strings=_zip_bomb_member("xl/sharedStrings.xml", 2048, f'<sst {_NS}><si><t>'.encode(), b"</t></si></sst>")), True)
        add("zip-bomb-many-strings", lambda: _workbook(strings=_zip_bomb_member("xl/sharedStrings.xml", 1024, f'<sst {_NS}>'.encode(), b"</sst>", b"<si><t>a</t></si>")), True)
        add("zip-bomb-sheet", lambda: _workbook(sheet=_zip_bomb_member("xl/worksheets/sheet1.xml", 2048, f'<worksheet {_NS}><sheetData>'.encode(), b"</sheetData></worksheet>", b'<row><c t="inlineStr"><is><t>a</t></is></c></row>')), True)
        add("billion-laughs", lambda: _workbook(strings=f'<?xml version="1.0"?>{_LAUGHS_DTD}<sst {_NS}><si><t>&lol9;</t></si><si><t>x</t></si></sst>'.encode()))
        add("external-entity", lambda: _workbook(strings=f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><sst {_NS}><si><t>&e;</t></si><si><t>x</t></si></sst>'.encode()))
        add("string-index-out-of-range", lambda: _workbook(sheet=f'<worksheet {_NS}><sheetData><row r="1"><c r="A1" t="s"><v>99</v></c></row></sheetData></worksheet>'.encode()))
        add("bad-cell-ref", lambda: _workbook(sheet=f'<worksheet {_NS}><sheetData><row r="1"><c r="ZZZZZZ99999999" t="s"><v>0</v></c></row></sheetData></worksheet>'.encode()))
        add("not-xml", lambda: _workbook(sheet=b"\x00\xff garbage", strings=b"<sst"))
        add("missing-parts", lambda: _zip({"[Content_Types].xml": _CT.encode()}))
        add("encrypted-looking", lambda: b"PK\x03\x04\x14\x00\x01\x00" + b"\x00" * 5000)
        add("cell-5mb", lambda: _xlsx([["id", "text"], [1, "a" * 5_000_000], [2, "The parcel was late."]]), True)
        add("rtl-override", lambda: _xlsx([["id", "text"], [1, rtl]]))
        add("columns-16k", lambda: _xlsx([[f"c{i}" for i in range(16_384)], ["x"] * 16_384]), True)
    if kind == "parquet":
        add("cell-5mb", lambda: _parquet({"id": [1, 2], "text": ["a" * 5_000_000, "The parcel was late."]}), True)
        add("columns-100k", lambda: _parquet({f"c{i}": ["x"] for i in range(100_000)}), True)
        add("columns-10k", lambda: _parquet({**{f"c{i}": ["x"] for i in range(9_999)}, "text": ["The refund never came."]}), True)
        add("truncated", lambda: _parquet({"text": TEXTS})[:-20])
        add("magic-only", lambda: b"PAR1" + b"\x00" * 100 + b"PAR1")
        add("footer-length-lies", lambda: b"PAR1" + b"\x00" * 100 + (2**31 - 1).to_bytes(4, "little") + b"PAR1")
        add("nested-types", lambda: _parquet({"text": [[{"a": [1, 2]}], []], "id": [{"x": 1}, None]}))
        add("binary-column", lambda: _parquet({"text": [b"\xff\xfe\x00", b"late"]}))
        add("rtl-override", lambda: _parquet({"text": [rtl]}))
    if kind == "gz":
        add("gzip-bomb", lambda: _gzip_bomb(3, b"id,text\n1,"), True)
        add("gzip-many-lines", lambda: gzip.compress(b"id,text\n" + b"1,late\n" * 200_000, 9), True)
        add("bz2-bomb", lambda: bz2.compress(b"id,text\n1," + b"a" * 300_000_000), True)
        add("truncated", lambda: gzip.compress(_csv(_rows(random.Random(1))))[:-10])
        add("header-only", lambda: b"\x1f\x8b\x08\x00")
        add("gzip-in-gzip", lambda: gzip.compress(gzip.compress(_csv(_rows(random.Random(2))))))
    if kind == "zip":
        add("zip-bomb", lambda: _zip_with(_zip_bomb_member("a.csv", 3072, b"id,text\n1,")), True)
        add("many-members", lambda: _zip({f"f{i}.txt": b"late parcel" for i in range(20_000)}), True)
        add("path-traversal", lambda: _zip({"../../../../tmp/evil.csv": b"id,text\n1,late\n", "/abs.csv": b"id,text\n1,late\n"}))
        add("nested-zip", lambda: _zip({"inner.zip": _zip({"a.csv": b"id,text\n1,late\n"}), "a.csv": b"id,text\n1,late\n"}))
        add("encrypted-flag", lambda: _encrypted_zip())
        add("truncated", lambda: _zip({"a.csv": _csv(_rows(random.Random(3)))})[:-30])
        add("lying-sizes", lambda: _lying_zip())
    if kind in YAMLS:
        add("alias-bomb", lambda: _yaml_bomb(kind))
        add("alias-bomb-late", lambda: _yaml_bomb_late(kind))
        add("merge-key-bomb", _yaml_merge_bomb)
        add("deep-nesting", lambda: _deep_yaml(kind))
        add("huge-file", lambda: b"# " + b"x" * 5_000_000 + b"\n", True)
        add("not-utf8", lambda: "site: é\nstages: [é]\nrules: []\n".encode("latin-1"))
        add("tabs-and-nul", lambda: b"rules:\n\t- name: \x00\n")
        add("unknown-tag", lambda: b"rules: !!python/name:os.system\nsite: !ruby/object {}\nstages: !!set {a}\n")
        for name, body in _wrong_types(kind):
            add(name, lambda b=body: b)
    return [Case(kind, name, make, big) for name, make, big in out]


def _zip_with(write: Callable[[zipfile.ZipFile], None]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        write(z)
    return out.getvalue()


def _encrypted_zip() -> bytes:
    data = bytearray(_zip({"a.csv": b"id,text\n1,late\n"}))
    # set the "encrypted" flag bit in the local header and the central directory
    data[6] |= 1
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1
    return bytes(data)


def _lying_zip() -> bytes:
    data = bytearray(_zip({"a.csv": b"id,text\n1,late parcel\n" * 50}))
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (2**32 - 2).to_bytes(4, "little")  # uncompressed size: 4 GB
    return bytes(data)


def cases(n: int, seed_value: int = 17, kinds: tuple[str, ...] = KINDS, include_big: bool = True) -> list[Case]:
    """`n` cases: every crafted attack of `kinds` (the big ones only with `include_big`), then
    mutations of valid seeds, spread evenly over the kinds, up to `n`."""
    rng = random.Random(seed_value)
    out = [c for kind in kinds for c in crafted(kind) if include_big or not c.big]
    i = 0
    while len(out) < n:
        out.append(mutated(kinds[i % len(kinds)], rng))
        i += 1
    return out[:n] if len(out) > n else out


# --- running a case ---------------------------------------------------------------------


@contextmanager
def loopback_only() -> Iterator[None]:
    """Every name resolves to 127.0.0.1 port 9 (closed): a mutated profile never reaches the network."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        return real("127.0.0.1", 9, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = real


def command(case: Case, path: Path, db: Path) -> list[str]:
    if case.kind == "taxonomy":
        return ["touchpoints", "check", str(path)]
    if case.kind == "rules":
        return ["alerts", "--rules", str(path), "--check", "--db", str(db)]
    if case.kind == "profile":
        return ["crawl", str(path), "--db", str(db), "--dry-run", "--base", "http://127.0.0.1:9", "--max-pages", "1", "--delay", "0"]
    return ["ingest", str(path), "--db", str(db), "--workers", "0"]


def classify(exit_code: int, stdout: str, stderr: str, exception: BaseException | None) -> tuple[str, str | None, str]:
    output = stdout + stderr
    if exception is not None and not isinstance(exception, SystemExit):
        return "traceback", None, f"{type(exception).__name__}: {str(exception)[:200]}"
    if "Traceback (most recent call last)" in output:
        return "traceback", None, output[-300:]
    codes = CODE.findall(stderr)
    if "E999" in codes:
        return "traceback", "E999", next(line for line in stderr.splitlines() if "E999" in line)[:300]
    if exit_code == 0:
        return "stored", None, ""
    error_lines = [line for line in stderr.splitlines() if line.startswith("Error")]
    if not codes or not error_lines or any(not CODE.search(line) for line in error_lines):
        return "traceback", None, f"exit {exit_code} without a coded error line: {stderr[-300:]!r}"
    return "rejected", codes[0], error_lines[0][:300]


def consistent(db_path: Path) -> str | None:
    """None when the store is consistent (or absent), else what is wrong."""
    if not db_path.exists():
        return None
    conn = sqlite3.connect(db_path)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            return "integrity_check failed"
        checks = {
            "orphan segments": "SELECT COUNT(*) FROM segments WHERE document_id NOT IN (SELECT id FROM documents)",
            "segment counts": "SELECT COUNT(*) FROM documents d WHERE n_segments != (SELECT COUNT(*) FROM segments s WHERE s.document_id = d.id)",
            "fts rows": "SELECT (SELECT COUNT(*) FROM documents_fts) - (SELECT COUNT(*) FROM documents)",
            "running sources": "SELECT COUNT(*) FROM sources WHERE status = 'running'",
        }
        for what, sql in checks.items():
            if conn.execute(sql).fetchone()[0]:
                return what
        return None
    finally:
        conn.close()


def _clean(folder: Path) -> None:
    for p in folder.iterdir():
        p.unlink()


def run_case(case: Case, folder: Path, *, runner=None, subprocess_run: bool = False, timeout: float = 300) -> Outcome:
    """Run one case in an empty `folder` (emptied again afterwards)."""
    folder.mkdir(parents=True, exist_ok=True)
    _clean(folder)
    path, db = folder / case.filename, folder / "store.db"
    path.write_bytes(case.make())
    args = command(case, path, db)
    started = time.perf_counter()
    peak = None
    if subprocess_run:
        rss_file = folder / "peak_rss_kb"
        # VmHWM: the peak resident size of this program alone (ru_maxrss would count the parent's
        # memory at fork time, which survives exec)
        code = ("import atexit, socket, sys\nf = sys.argv[1]\n"
                "atexit.register(lambda: open(f, 'w').write(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))))\n"
                "r = socket.getaddrinfo\nsocket.getaddrinfo = lambda h, p, *a, **k: r('127.0.0.1', 9, *a, **k)\n"
                "from miner.cli.main import app\nsys.argv = ['miner'] + sys.argv[2:]\napp()\n")
        proc = subprocess.Popen([sys.executable, "-c", code, str(rss_file), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=folder)
        try:
            out, errs = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            _clean(folder)
            return Outcome(case.kind, case.recipe, "timeout", None, f"timed out after {timeout:.0f} s", time.perf_counter() - started)
        peak = int(rss_file.read_text()) / 1024 if rss_file.exists() else None
        exit_code, exception = proc.returncode, None
        stdout, stderr = out.decode("utf-8", "replace"), errs.decode("utf-8", "replace")
        if exit_code < 0:
            exception = RuntimeError(f"killed by signal {-exit_code}")
    else:
        from typer.testing import CliRunner

        from miner.cli.main import app

        runner = runner or CliRunner()
        with loopback_only():
            result = runner.invoke(app, args)
        exit_code, stdout, stderr, exception = result.exit_code, result.stdout, result.stderr, result.exception
    seconds = time.perf_counter() - started
    status, error_code, detail = classify(exit_code, stdout, stderr, exception)
    if case.kind in READERS:
        broken = consistent(db)
        if broken:
            status, detail = "traceback", f"inconsistent store after ingest: {broken}"
    _clean(folder)
    return Outcome(case.kind, case.recipe, status, error_code, detail, seconds, peak)
