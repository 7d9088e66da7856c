"""Load and validate a touchpoint taxonomy (YAML): stages holding touchpoints, each with a
key, label, description, example phrases (a list, or lists per language), an owner, and the
concept lexicon's concepts it covers (their phrases in 14 languages join its evidence).

Validation walks the composed YAML nodes, so every error names the file and line of the bad
value (`file:line: ...`) in one line; see docs/touchpoints.md for the format.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import InputError
from ..paths import model_file

MAX_BYTES = 1_000_000
MAX_TOUCHPOINTS = 300
MAX_EXAMPLES = 300  # per touchpoint
MAX_TEXT = 1000  # characters of one description or example

TOP_FIELDS = {"taxonomy", "version", "description", "languages", "stages"}
STAGE_FIELDS = {"key", "label", "description", "touchpoints"}
TOUCHPOINT_FIELDS = {"key", "label", "description", "owner", "examples", "concepts"}
_KEY = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_STR = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Touchpoint:
    key: str
    stage: str
    label: str
    description: str
    owner: str | None
    examples: tuple[tuple[str, str], ...]  # (lang or "", text)
    concepts: tuple[str, ...] = ()  # concept ids of the lexicon (models/concepts/)

    def prototype_texts(self) -> list[str]:
        """What the encoder reads for this touchpoint: its description, then each example."""
        return [f"{self.label}: {self.description}", *(text for _, text in self.examples)]


@dataclass
class Taxonomy:
    name: str
    touchpoints: list[Touchpoint]
    stages: list[tuple[str, str]] = field(default_factory=list)  # (key, label) in journey order
    source: str = ""
    sha256: str = ""

    @property
    def keys(self) -> list[str]:
        return [t.key for t in self.touchpoints]

    def get(self, key: str) -> Touchpoint:
        return next(t for t in self.touchpoints if t.key == key)


def default_taxonomy_path() -> Path:
    return model_file("touchpoints.yaml")


class _Where:
    def __init__(self, name: str):
        self.name = name

    def fail(self, node, message: str, hint: str = "See docs/touchpoints.md for the taxonomy format.") -> InputError:
        line = node.start_mark.line + 1 if node is not None else 1
        return InputError("E831", f"{self.name}:{line}: {message}", hint)


def _scalar(node, w: _Where, what: str, *, required_str: bool = True) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise w.fail(node, f"{what} must be text, not a {'list' if isinstance(node, yaml.SequenceNode) else 'mapping'}.")
    if required_str and node.tag != _STR:
        raise w.fail(node, f"{what} must be text, got {node.value!r} ({node.tag.rsplit(':', 1)[-1]}); quote it.")
    value = node.value.strip()
    if not value:
        raise w.fail(node, f"{what} is empty.")
    if len(value) > MAX_TEXT:
        raise w.fail(node, f"{what} is longer than {MAX_TEXT} characters.")
    return value


def _mapping(node, w: _Where, what: str, allowed: set[str], required: tuple[str, ...]) -> dict:
    if not isinstance(node, yaml.MappingNode):
        raise w.fail(node, f"{what} must be a mapping of fields ({', '.join(sorted(allowed))}).")
    out: dict = {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            raise w.fail(k, f"{what} has a field name that is not text.")
        if k.value in out:
            raise w.fail(k, f"{what} has the field {k.value!r} twice.")
        if k.value not in allowed:
            raise w.fail(k, f"unknown field {k.value!r} in {what}; allowed: {', '.join(sorted(allowed))}.")
        out[k.value] = (k, v)
    for name in required:
        if name not in out:
            raise w.fail(node, f"{what} has no {name!r}.")
    return out


def _sequence(node, w: _Where, what: str) -> list:
    if not isinstance(node, yaml.SequenceNode):
        raise w.fail(node, f"{what} must be a list.")
    if not node.value:
        raise w.fail(node, f"{what} is empty.")
    return node.value


def _key(node, w: _Where, what: str) -> str:
    value = _scalar(node, w, what, required_str=False)
    if not _KEY.match(value):
        raise w.fail(node, f"{what} {value!r} must be lowercase letters, digits, '_' or '-' (at most 64).")
    return value


def _examples(node, w: _Where, what: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    if isinstance(node, yaml.MappingNode):
        if not node.value:
            raise w.fail(node, f"{what} is empty.")
        seen = set()
        for k, v in node.value:
            lang = _scalar(k, w, f"a language of {what}", required_str=False)
            if not _LANG.match(lang):
                raise w.fail(k, f"{lang!r} in {what} is not a language code (en, de, zh, zh-Hant...).")
            if lang in seen:
                raise w.fail(k, f"{what} lists the language {lang!r} twice.")
            seen.add(lang)
            for item in _sequence(v, w, f"{what}[{lang}]"):
                out.append((lang, _scalar(item, w, f"an example of {what}[{lang}]")))
    else:
        for item in _sequence(node, w, what):
            out.append(("", _scalar(item, w, f"an example of {what}")))
    if len(out) > MAX_EXAMPLES:
        raise w.fail(node, f"{what} has {len(out)} examples; at most {MAX_EXAMPLES}.")
    return tuple(out)


def _concepts(node, w: _Where, what: str, known: set[str]) -> tuple[str, ...]:
    out: list[str] = []
    for item in _sequence(node, w, what):
        cid = _scalar(item, w, f"a concept of {what}", required_str=False)
        if cid not in known:
            close = sorted(k for k in known if k.split("_")[0] == cid.split("_")[0])[:5]
            raise w.fail(item, f"{what}: {cid!r} is not a concept of the lexicon (models/concepts/concepts.yaml)"
                         + (f"; close: {', '.join(close)}." if close else "."))
        if cid in out:
            raise w.fail(item, f"{what} lists {cid!r} twice.")
        out.append(cid)
    return tuple(out)


def lexicon_concepts() -> set[str]:
    """The concept ids a taxonomy may name: the shipped lexicon's."""
    from ..concepts.lexicon import load_lexicon

    return set(load_lexicon().concepts)


def parse_taxonomy(text: str, name: str = "<taxonomy>") -> Taxonomy:
    """Validate taxonomy YAML text; raise InputError E831 (with `name:line`) on the first problem."""
    w = _Where(name)
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise InputError("E832", f"{name}: the taxonomy is larger than {MAX_BYTES // 1000} kB.", "Keep a handful of examples per touchpoint and language.")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise InputError("E831", f"{name}:{line}: not valid YAML ({exc.problem}).", "Check the indentation and quoting there.") from None
    except yaml.YAMLError as exc:
        raise InputError("E831", f"{name}: not valid YAML ({exc}).", "Check the file.") from None
    except RecursionError:
        raise InputError("E831", f"{name}: lists or mappings nested too deeply to be read.", "Check the brackets: a few levels of nesting are enough.") from None
    if root is None:
        raise InputError("E831", f"{name}:1: the taxonomy is empty.", "See docs/touchpoints.md for the format.")
    top = _mapping(root, w, "the taxonomy", TOP_FIELDS, ("taxonomy", "stages"))
    title = _scalar(top["taxonomy"][1], w, "taxonomy (its name)", required_str=False)
    stages: list[tuple[str, str]] = []
    touchpoints: list[Touchpoint] = []
    seen_tp: dict[str, int] = {}
    seen_stage: set[str] = set()
    known: set[str] | None = None
    for snode in _sequence(top["stages"][1], w, "stages"):
        s = _mapping(snode, w, "a stage", STAGE_FIELDS, ("key", "touchpoints"))
        skey = _key(s["key"][1], w, "the stage key")
        if skey in seen_stage:
            raise w.fail(s["key"][1], f"the stage key {skey!r} is used twice.")
        seen_stage.add(skey)
        slabel = _scalar(s["label"][1], w, f"the label of stage {skey!r}") if "label" in s else skey.replace("_", " ").capitalize()
        stages.append((skey, slabel))
        for tnode in _sequence(s["touchpoints"][1], w, f"the touchpoints of stage {skey!r}"):
            t = _mapping(tnode, w, "a touchpoint", TOUCHPOINT_FIELDS, ("key",))
            key = _key(t["key"][1], w, "the touchpoint key")
            if key in seen_tp:
                raise w.fail(t["key"][1], f"the touchpoint key {key!r} is used twice (first at line {seen_tp[key]}).")
            seen_tp[key] = t["key"][1].start_mark.line + 1
            what = f"touchpoint {key!r}"
            if "description" not in t:
                raise w.fail(tnode, f"{what} has no description.", "Describe in one sentence what customers say about it.")
            if "examples" not in t:
                raise w.fail(tnode, f"{what} has no examples.", "Give a handful of example phrases, ideally in several languages.")
            concepts: tuple[str, ...] = ()
            if "concepts" in t:
                known = lexicon_concepts() if known is None else known
                concepts = _concepts(t["concepts"][1], w, f"the concepts of {what}", known)
            touchpoints.append(
                Touchpoint(
                    key=key,
                    stage=skey,
                    label=_scalar(t["label"][1], w, f"the label of {what}") if "label" in t else key.replace("_", " ").capitalize(),
                    description=_scalar(t["description"][1], w, f"the description of {what}"),
                    owner=_scalar(t["owner"][1], w, f"the owner of {what}") if "owner" in t else None,
                    examples=_examples(t["examples"][1], w, f"the examples of {what}"),
                    concepts=concepts,
                )
            )
    if len(touchpoints) > MAX_TOUCHPOINTS:
        raise InputError("E832", f"{name}: {len(touchpoints)} touchpoints; at most {MAX_TOUCHPOINTS}.", "Split the taxonomy or merge touchpoints.")
    if len(touchpoints) < 2:
        raise w.fail(root, "a taxonomy needs at least two touchpoints.")
    return Taxonomy(title, touchpoints, stages, name, hashlib.sha256(text.encode("utf-8")).hexdigest())


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """The taxonomy in `path`, or the default customer journey shipped in models/."""
    p = Path(path) if path else default_taxonomy_path()
    if not p.is_file():
        raise InputError("E830", f"no taxonomy file at {p}.", "Give a YAML file with --taxonomy (see docs/touchpoints.md).")
    if p.stat().st_size > MAX_BYTES:
        raise InputError("E832", f"{p}: the taxonomy is larger than {MAX_BYTES // 1000} kB.", "Keep a handful of examples per touchpoint and language.")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("E831", f"{p}:1: not UTF-8 text.", "Save the taxonomy as UTF-8.") from None
    tax = parse_taxonomy(text, str(p))
    return tax
