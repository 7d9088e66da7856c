"""Any transformers / sentence-transformers encoder from a local folder (`hf:PATH_OR_ID`).

The folder is what `save_pretrained` writes (config.json, safetensors weights, tokenizer
files); a sentence-transformers folder (modules.json, 1_Pooling/config.json) has its pooling
honoured, anything else is mean-pooled over the attention mask. Vectors are always
L2-normalised (the encoder contract). torch and transformers are imported only when a model
is loaded, so importing this module (and `miner.nlp.encoders.registry`) stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import UsageError
from .base import normalise_rows, safe_text

# Files whose bytes decide the vectors: a retrained or re-configured model gets a new id.
_HASHED = ("config.json", "tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "spiece.model",
           "tokenizer_config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json")
# Models whose position ids start after the padding id, so two positions are never usable.
_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "camembert", "xlm-roberta-xl", "longformer"}
_HINT = ("Give a local folder holding config.json and *.safetensors weights (hf:/path/to/model), "
         "or the id of a model already in the Hugging Face cache.")


def _not_found(name: str, why: str) -> UsageError:
    return UsageError("E703", f"encoder model {name!r} could not be found locally ({why}).", _HINT)


def _resolve(name: str) -> tuple[Path, str | None]:
    """(local folder, hub name@commit or None): a folder as given, else a hub id from the cache (or the hub)."""
    folder = Path(name).expanduser()
    if folder.is_dir():
        return folder.resolve(), None
    if name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1:
        raise _not_found(name, "no such folder")  # clearly a path: the hub cannot help
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise _not_found(name, "no such folder") from None
    attempts = [True] if os.environ.get("HF_HUB_OFFLINE") == "1" else [True, False]
    for local_only in attempts:
        try:  # only what loading needs: not the ONNX/OpenVINO/pickle copies many repos carry
            path = Path(snapshot_download(name, local_files_only=local_only,
                                          allow_patterns=["*.json", "*.txt", "*.model", "*.safetensors"]))
            return path, f"{name}@{path.name[:12]}"  # snapshot folders are named by commit
        except Exception:  # invalid id, not cached, no network: all mean "not here"
            continue
    raise _not_found(name, "not a folder, nor a cached hub model")


def _fingerprint(folder: Path, model_dir: Path) -> str:
    """First 12 hex of sha256 over config, tokenizer, pooling and weight files (name + bytes)."""
    digest = hashlib.sha256()
    files = [folder / f for f in _HASHED] + [model_dir / f for f in _HASHED]
    files += sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.safetensors.index.json"))
    for path in sorted({p for p in files if p.is_file()}):  # not resolved: symlinked weights are fine
        digest.update(os.path.relpath(path, folder).encode("utf-8", "surrogatepass") + b"\0")
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def _pooling_mode(config: dict[str, Any]) -> str:
    """The one pooling a sentence-transformers Pooling config asks for (old flags or new string)."""
    flags = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens", "max": "pooling_mode_max_tokens",
             "mean_sqrt_len": "pooling_mode_mean_sqrt_len_tokens", "lasttoken": "pooling_mode_lasttoken",
             "weightedmean": "pooling_mode_weightedmean_tokens"}
    modes = {config["pooling_mode"]} if isinstance(config.get("pooling_mode"), str) else \
        {mode for mode, key in flags.items() if config.get(key)}
    # mean / sqrt(len) is mean times a scalar: identical once L2-normalised.
    modes = {"mean" if m.startswith("mean") else m for m in modes}
    if len(modes) != 1 or not modes <= {"cls", "mean", "max", "lasttoken"}:
        raise UsageError("E705", f"unsupported sentence-transformers pooling {sorted(modes)}.",
                         "miner runs one of cls, mean, max, lasttoken pooling.")
    return modes.pop()


def _layout(folder: Path) -> tuple[Path, str, int | None]:
    """(transformer folder, pooling mode, max_seq_length) of a folder, sentence-transformers or not."""
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        return folder, "mean", None
    model_dir, pooling = folder, "mean"
    for module in json.loads(modules_file.read_text("utf-8")):
        kind, path = str(module.get("type", "")).rsplit(".", 1)[-1], folder / module.get("path", "")
        if kind == "Transformer":
            model_dir = path
        elif kind == "Pooling" and (path / "config.json").is_file():
            pooling = _pooling_mode(json.loads((path / "config.json").read_text("utf-8")))
        elif kind not in ("Normalize", "Pooling"):  # Dense etc. would change the vectors: refuse, not guess
            raise UsageError("E705", f"sentence-transformers module {kind!r} is not supported.",
                             "miner runs Transformer + Pooling (+ Normalize) models.")
    st_config = model_dir / "sentence_bert_config.json"
    max_seq = json.loads(st_config.read_text("utf-8")).get("max_seq_length") if st_config.is_file() else None
    return model_dir, pooling, max_seq


class TransformersEncoder:
    """A transformers encoder behind the `Encoder` contract (see `miner.nlp.encoders.base`)."""

    def __init__(self, name_or_path: str, threads: int | None = None, max_length: int = 512,
                 prefix: str = "", device: str | None = None, batch_size: int = 32):
        try:
            import torch
            import transformers
        except ImportError:
            raise UsageError("E704", "the hf: encoder needs torch and transformers.", "pip install transformers") from None
        folder, hub_name = _resolve(name_or_path)
        model_dir, self.pooling, max_seq = _layout(folder)
        if not (model_dir / "config.json").is_file():
            raise _not_found(name_or_path, f"no config.json in {model_dir}")
        if not any(model_dir.glob("*.safetensors")):  # pickle weights (pytorch_model.bin) are never loaded
            raise _not_found(name_or_path, "no *.safetensors weights; re-save the model with save_pretrained")
        if threads:
            torch.set_num_threads(threads)
        bars = transformers.utils.logging.is_progress_bar_enabled()
        transformers.utils.logging.disable_progress_bar()  # library code never prints
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
            model = transformers.AutoModel.from_pretrained(str(model_dir), local_files_only=True, use_safetensors=True)
        except Exception as exc:  # corrupt or unknown architecture: one line, no traceback
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise _not_found(name_or_path, f"loading failed: {first}") from None
        finally:
            if bars:
                transformers.utils.logging.enable_progress_bar()
        self.device = device if device and device.startswith("cuda") and torch.cuda.is_available() else "cpu"
        self.model = model.float().to(self.device).eval()
        config = model.config
        self.dim = int(config.hidden_size)
        limits = [max_length, max_seq, getattr(config, "max_position_embeddings", None),
                  getattr(self.tokenizer, "model_max_length", None)]
        if config.model_type in _OFFSET_POSITIONS and limits[2]:
            limits[2] -= 2
        self.max_length = min(int(n) for n in limits if n and 0 < n < 1_000_000)
        self.prefix, self.batch_size = prefix, max(1, batch_size)
        stable = hub_name or f"{folder.name}-{_fingerprint(folder, model_dir)}"
        self.id = f"hf/{stable}" + (f":len{self.max_length}" if self.max_length != 512 else "") + \
            (f":{prefix}" if prefix else "")

    def _pool(self, hidden: Any, mask: Any) -> Any:
        if self.pooling == "cls":
            return hidden[:, 0]
        if self.pooling == "lasttoken":  # last real token, whichever side the tokenizer pads
            last = (mask * mask.cumsum(1)).argmax(1)
            return hidden[last.new_tensor(range(len(last))), last]
        m = mask.unsqueeze(-1).to(hidden.dtype)
        if self.pooling == "max":
            return hidden.masked_fill(m == 0, float("-inf")).max(1).values
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised; padding per batch only to its own longest text."""
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Tokenising a huge text costs its whole length though only max_length tokens are kept.
        clean = [safe_text(self.prefix + t[: self.max_length * 64]) for t in texts]
        order = sorted(range(len(clean)), key=lambda i: len(clean[i]))  # less padding, same vectors
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = self.tokenizer([clean[i] for i in idx], padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt").to(self.device)
                hidden = self.model(**batch).last_hidden_state
                out[idx] = self._pool(hidden, batch["attention_mask"]).float().cpu().numpy()
        return normalise_rows(out)
