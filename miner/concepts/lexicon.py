"""The concept lexicon: short complaint, praise and request concepts written by the team in many
languages, which name themes in the reader's language and align languages for clustering.

Each concept has a kind (complaint, praise, request, venting) and, per language, a label (how a
product team would title it: "Refund not received") and example phrases as customers write
them. Shipped in `models/concepts/`: `concepts.yaml` (ids and kinds) and one `LANG.yaml` per
language (`concept_id: [label, example, example]`). Users add concepts, or phrases of shipped
concepts in more languages, with a YAML file of their own (`--lexicon FILE`, docs/themes.md):

    concepts:
      kitchen_too_small:
        kind: complaint
        en: ["Kitchen too small", "there is no room to cook in the kitchen"]
        de: ["Küche zu klein", "in der Küche kann man sich kaum umdrehen"]

No machine translation is installable here, so the reader-language label is the label of the
concept that best matches a theme, found through the encoder's cross-lingual space: each
document is compared with the concept's phrases *in its own language* (the most reliable
comparison a multilingual encoder makes), so a Persian theme is named in German through the
Persian and German phrases of one concept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import InputError, UsageError
from ..paths import model_file

KINDS = ("complaint", "praise", "request", "venting")
LEXICON_DIR = "concepts"
MAX_BYTES = 2_000_000
MAX_PHRASE = 300  # characters
# Languages written in two scripts that the lexicon keeps apart; the store has lang + script.
SCRIPT_VARIANTS = {("zh", "Hant"): "zh-Hant", ("zh", "Hans"): "zh-Hans", ("zh", None): "zh-Hans"}
ALIASES = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-hans": "zh-Hans", "zh-hant": "zh-Hant",
           "pt-br": "pt", "pt-pt": "pt"}


@dataclass
class Lexicon:
    concepts: list[str]  # concept ids, in file order
    kinds: dict[str, str]
    phrases: dict[str, dict[str, list[str]]]  # language -> concept -> [label, example, ...]
    sources: list[str] = field(default_factory=list)
    sha256: str = ""

    @property
    def languages(self) -> list[str]:
        return sorted(self.phrases)

    def label(self, concept: str, lang: str) -> str | None:
        texts = self.phrases.get(lang, {}).get(concept)
        return texts[0] if texts else None

    def items(self) -> list[tuple[int, str, str]]:
        """(concept index, language, text) of every phrase, labels included, in a fixed order."""
        index = {c: i for i, c in enumerate(self.concepts)}
        return [
            (index[c], lang, text)
            for lang in self.languages
            for c, texts in self.phrases[lang].items()
            for text in texts
        ]


def language_key(lang: str | None, script: str | None = None) -> str:
    """The lexicon's name for a stored language: Chinese splits by script, the rest is the code."""
    lang = (lang or "und").strip()
    if lang == "zh":
        return SCRIPT_VARIANTS.get(("zh", script), "zh-Hans")
    return lang


def label_language(code: str, lexicon: Lexicon) -> str:
    """A valid --label-lang for this lexicon (zh means Simplified Chinese), or a one-line error."""
    key = normalise_language(code)
    by_lower = {lang.lower(): lang for lang in lexicon.languages}
    if key.lower() in by_lower:
        return by_lower[key.lower()]
    raise UsageError(
        "E816", f"no labels in language {code!r}.",
        f"Choose one of: {', '.join(lexicon.languages)} (zh = zh-Hans), or add the language's phrases with --lexicon FILE.",
    )


def lexicon_digest(extra: Path | None = None) -> str:
    """A hash of the lexicon's files (shipped and the user's), cheaper than loading them: what
    tells a discovery run whether the lexicon changed."""
    h = hashlib.sha256()
    for path in sorted(model_file(LEXICON_DIR).glob("*.yaml")) + ([extra] if extra else []):
        h.update(path.name.encode())
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"missing")
    return h.hexdigest()


def normalise_language(code: str) -> str:
    """--label-lang as given, with its usual aliases resolved (zh -> zh-Hans); not validated."""
    raw = (code or "").strip()
    return ALIASES.get(raw.lower(), raw if "-" in raw else raw.lower())


def load_lexicon(extra: Path | None = None) -> Lexicon:
    """The shipped lexicon, plus the concepts and phrases of a user file."""
    folder = model_file(LEXICON_DIR)
    kinds = _read_kinds(folder / "concepts.yaml")
    lexicon = Lexicon(concepts=list(kinds), kinds=dict(kinds), phrases={}, sources=[str(folder)])
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "concepts.yaml":
            continue
        lang, phrases = _read_language_file(path, kinds)
        lexicon.phrases.setdefault(lang, {}).update(phrases)
    if extra is not None:
        _merge_user_file(lexicon, extra)
    lexicon.sha256 = _fingerprint(lexicon)
    return lexicon


def _fingerprint(lexicon: Lexicon) -> str:
    h = hashlib.sha256()
    for c in lexicon.concepts:
        h.update(f"{c}\t{lexicon.kinds[c]}\n".encode())
    for _, lang, text in lexicon.items():
        h.update(f"{lang}\t{text}\n".encode())
    return h.hexdigest()


# libyaml's loader where PyYAML has it: the shipped files load in 0.04 s instead of 0.37 s.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_kinds(path: Path) -> dict[str, str]:
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_FAST_LOADER) or {}
    return {cid: spec["kind"] for cid, spec in (doc.get("concepts") or {}).items()}


def _read_language_file(path: Path, kinds: dict[str, str]) -> tuple[str, dict[str, list[str]]]:
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_FAST_LOADER) or {}
    lang = doc.get("language") or path.stem
    phrases = {cid: [" ".join(str(t).split()) for t in texts] for cid, texts in (doc.get("concepts") or {}).items() if cid in kinds}
    return lang, phrases


# -- the user's file: validated node by node, so an error names its line --------------------------
def _fail(path: Path, node, message: str) -> InputError:
    line = node.start_mark.line + 1 if node is not None else 1
    return InputError("E817", f"{path.name}:{line}: {message}", "See docs/themes.md for the lexicon format.")


def _merge_user_file(lexicon: Lexicon, path: Path) -> None:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError("E817", f"{path.name} is larger than {MAX_BYTES:,} bytes.", "Split the lexicon or keep only concepts you need.")
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError("E817", f"cannot read the lexicon {path}: {exc.strerror or exc}.", "Check the path.") from None
    except UnicodeDecodeError:
        raise InputError("E817", f"{path.name} is not UTF-8 text.", "Save the lexicon as UTF-8.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path.name}:{mark.line + 1}" if mark else path.name
        raise InputError("E817", f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc}).", "See docs/themes.md for the lexicon format.") from None
    concepts = _mapping_value(root, "concepts", path)
    for key_node, spec in concepts.value:
        cid = key_node.value
        if not isinstance(spec, yaml.MappingNode):
            raise _fail(path, spec, f"concept {cid!r} must be a mapping of kind and languages.")
        kind = None
        for field_node, value in spec.value:
            name = field_node.value
            if name == "kind":
                if not isinstance(value, yaml.ScalarNode) or value.value not in KINDS:
                    raise _fail(path, value, f"kind must be one of {', '.join(KINDS)}.")
                kind = value.value
            else:
                name = _user_language(name, lexicon)
                lexicon.phrases.setdefault(name, {}).setdefault(cid, [])
                lexicon.phrases[name][cid] = _phrases(value, path, cid, name, lexicon.phrases[name][cid])
        if cid not in lexicon.kinds:
            if kind is None:
                raise _fail(path, key_node, f"new concept {cid!r} needs a kind ({', '.join(KINDS)}).")
            lexicon.concepts.append(cid)
        if kind is not None:
            lexicon.kinds[cid] = kind
    lexicon.sources.append(str(path))


def _user_language(name: str, lexicon: Lexicon) -> str:
    """A language of the user's file as the lexicon spells it: `zh` is Simplified Chinese (as for
    --label-lang), `DE` is `de`; else its phrases would sit under a language nothing uses."""
    key = normalise_language(name)
    return {lang.lower(): lang for lang in lexicon.phrases}.get(key.lower(), key)


def _mapping_value(root, key: str, path: Path):
    if not isinstance(root, yaml.MappingNode):
        raise _fail(path, root, "the lexicon must be a mapping with a `concepts:` key.")
    found = None
    for k, v in root.value:  # every key, those after `concepts:` too (a typo, a second copy)
        if k.value != key:
            raise _fail(path, k, f"unknown key {k.value!r}; the lexicon has only `concepts:`.")
        if found is not None:
            raise _fail(path, k, "`concepts:` appears twice.")
        if not isinstance(v, yaml.MappingNode) or not v.value:
            raise _fail(path, v, "`concepts:` must map concept ids to their kind and phrases.")
        found = v
    if found is None:
        raise _fail(path, root, "the lexicon has no `concepts:` key.")
    return found


def _phrases(node, path: Path, cid: str, lang: str, existing: list[str]) -> list[str]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise _fail(path, node, f"{cid} [{lang}] must be a list: the label first, then example phrases.")
    texts = []
    for item in node.value:
        if not isinstance(item, yaml.ScalarNode) or not item.value.strip():
            raise _fail(path, item, f"{cid} [{lang}]: every phrase must be non-empty text.")
        if len(item.value) > MAX_PHRASE:
            raise _fail(path, item, f"{cid} [{lang}]: a phrase has more than {MAX_PHRASE} characters.")
        texts.append(" ".join(item.value.split()))
    # A user's label replaces the shipped one; their examples add to the shipped ones.
    return [texts[0], *[t for t in existing[1:] if t not in texts], *texts[1:]]
