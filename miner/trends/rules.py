"""Alert rules from YAML, validated with errors that name the rule and the field.

See docs/alerts.md for the reference. Every problem is one `InputError` line such as
`[E923] alerts.yaml: rule 'billing-spike' (rules[1]) when.growth: expected {min: N} and/or {max: N}, got 'high'.`
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import yaml

from ..errors import InputError, UsageError
from ..fields import field_name, is_field
from ..measures.accounts import GROUPS
from ..measures.impact import SCORE_KINDS
from .detect import MAX_BASELINE, DetectSettings
from .periods import GRANULARITIES
from .queries import DIMENSIONS

NUMERIC = (
    "volume", "share", "growth", "volume_growth", "net_sentiment", "net_sentiment_change",
    "negative_share", "p_value", "q_value", "impact", "baseline_volume",
)
BOOLEAN = ("significant", "new", "flagged")
SEVERITIES = ("low", "medium", "high")
TOP_KEYS = ("webhook", "owners", "defaults", "accounts", "rules")
ACCOUNT_KEYS = ("account_field", "revenue_field", "accounts_csv", "revenue_threshold", "satisfaction_threshold", "score_kind")
ACCOUNT_FILTER = "account_group"  # not a trends dimension: it narrows the documents counted
SETTINGS = ("period", "baseline", "alpha", "min_count", "min_growth")
RULE_KEYS = ("name", "by", "filters", "when", "owner", "severity", "include_archived", "description", *SETTINGS)
WEBHOOK_KEYS = ("url", "retries", "backoff", "timeout")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


@dataclass
class Webhook:
    url: str
    retries: int = 3
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    timeout: float = 10.0


@dataclass
class Accounts:
    """How to find each document's account and revenue (as `miner backlog accounts`)."""

    account_field: str
    revenue_field: str | None = None
    accounts_csv: str | None = None  # resolved against the rules file's folder
    revenue_threshold: float | None = None
    satisfaction_threshold: float | None = None
    score_kind: str | None = None


@dataclass
class Rule:
    name: str
    by: str = "theme"
    period: str = "week"
    settings: DetectSettings = field(default_factory=DetectSettings)
    filters: dict = field(default_factory=dict)
    account_groups: list[str] = field(default_factory=list)  # empty: documents of every account and none
    when: dict = field(default_factory=dict)  # metric -> (min, max) or bool
    owner: str | None = None
    severity: str = "medium"
    include_archived: bool = False
    description: str | None = None


@dataclass
class RuleSet:
    rules: list[Rule]
    webhook: Webhook | None = None
    default_owner: str | None = None
    touchpoint_owners: dict[str, str] = field(default_factory=dict)
    source: str = ""
    accounts: Accounts | None = None


class _Where:
    """Builds error messages that say which file, rule and field."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, code: str, where: str, message: str, hint: str | None = None) -> InputError:
        return InputError(code, f"{self.source}: {where}: {message}", hint)


_REPR = reprlib.Repr()
_REPR.maxstring, _REPR.maxother, _REPR.maxlevel = 80, 80, 3


def _show(value) -> str:
    """A value for an error message, bounded: a YAML alias bomb's value would repr to gigabytes."""
    return _REPR.repr(value)


def _number(value, where: str, w: _Where, *, integer: bool = False) -> float:
    if isinstance(value, str) and value.strip().endswith("%") and not integer:
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        kind = "a whole number" if integer else "a number (or a percentage like '50%')"
        raise w.fail("E923", where, f"expected {kind}, got {_show(value)}.")
    return int(value) if integer else float(value)


def _check_url(url, where: str, w: _Where) -> str:
    parsed = urlparse(url) if isinstance(url, str) else None
    if not parsed or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise w.fail("E925", where, f"expected an http(s) URL, got {_show(url)}.", "e.g. https://hooks.example.com/miner")
    return url


def parse_webhook(value, w: _Where) -> Webhook | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Webhook(_check_url(value, "webhook", w))
    if not isinstance(value, dict):
        raise w.fail("E925", "webhook", f"expected a URL or a mapping with {', '.join(WEBHOOK_KEYS)}, got {_show(value)}.")
    for k in value:
        if k not in WEBHOOK_KEYS:
            raise w.fail("E922", f"webhook.{k}", "unknown key.", f"Expected: {', '.join(WEBHOOK_KEYS)}.")
    hook = Webhook(_check_url(value.get("url"), "webhook.url", w))
    if "retries" in value:
        hook.retries = _number(value["retries"], "webhook.retries", w, integer=True)
    for k in ("backoff", "timeout"):
        if k in value:
            setattr(hook, k, _number(value[k], f"webhook.{k}", w))
    if hook.retries < 0 or hook.backoff < 0 or hook.timeout <= 0:
        raise w.fail("E925", "webhook", "retries and backoff must be 0 or more, timeout above 0.")
    return hook


def webhook_for_url(url: str, base: Webhook | None = None) -> Webhook:
    """A webhook given on the command line; retries and timeouts from the rules file's, if any."""
    hook = Webhook(_check_url(url, "--webhook", _Where("command line")))
    if base:
        hook.retries, hook.backoff, hook.timeout = base.retries, base.backoff, base.timeout
    return hook


def _settings(block: dict, base: dict, where: str, w: _Where) -> dict:
    out = dict(base)
    for k in SETTINGS:
        if k not in block:
            continue
        v = block[k]
        if k == "period":
            if v not in GRANULARITIES:
                raise w.fail("E924", f"{where}period", f"expected one of {', '.join(GRANULARITIES)}, got {_show(v)}.")
            out[k] = v
        elif k in ("baseline", "min_count"):
            out[k] = _number(v, f"{where}{k}", w, integer=True)
        else:
            out[k] = _number(v, f"{where}{k}", w)
    if not 1 <= out["baseline"] <= MAX_BASELINE:
        raise w.fail("E924", f"{where}baseline", f"expected 1 to {MAX_BASELINE} periods, got {out['baseline']}.")
    if not 0 < out["alpha"] < 1:
        raise w.fail("E924", f"{where}alpha", f"expected a number between 0 and 1, got {out['alpha']}.")
    if out["min_count"] < 1 or out["min_growth"] < 0:
        raise w.fail("E924", where.rstrip(".") or "defaults", "min_count must be at least 1 and min_growth 0 or more.")
    return out


def _conditions(when, where: str, w: _Where) -> dict:
    if not isinstance(when, dict) or not when:
        raise w.fail("E923", f"{where} when", "expected a mapping of conditions, e.g. {significant: true, volume: {min: 10}}.")
    out = {}
    for metric, cond in when.items():
        at = f"{where} when.{metric}"
        if metric in BOOLEAN:
            if not isinstance(cond, bool):
                raise w.fail("E923", at, f"expected true or false, got {_show(cond)}.")
            out[metric] = cond
        elif metric in NUMERIC:
            if not isinstance(cond, dict) or not cond or set(cond) - {"min", "max"}:
                raise w.fail("E923", at, f"expected {{min: N}} and/or {{max: N}}, got {_show(cond)}.")
            lo = _number(cond["min"], f"{at}.min", w) if "min" in cond else None
            hi = _number(cond["max"], f"{at}.max", w) if "max" in cond else None
            if lo is not None and hi is not None and lo > hi:
                raise w.fail("E923", at, f"min {lo} is above max {hi}.")
            out[metric] = (lo, hi)
        else:
            raise w.fail("E923", at, "unknown condition.", f"Use: {', '.join(NUMERIC + BOOLEAN)}.")
    return out


def _account_groups(values, where: str, w: _Where, accounts: Accounts | None) -> list[str]:
    at = f"{where} filters.{ACCOUNT_FILTER}"
    values = [values] if isinstance(values, str) else values
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise w.fail("E928", at, f"expected a group or a list of groups, got {_show(values)}.", f"Groups: {', '.join(GROUPS)}.")
    for v in values:
        if v not in GROUPS:
            raise w.fail("E928", at, f"unknown account group {_show(v)}.", f"Groups: {', '.join(GROUPS)}.")
    if accounts is None:
        raise w.fail("E928", at, "needs a top-level `accounts:` block saying how to find each document's account.",
                     "e.g. accounts: {account_field: account_id, revenue_field: arr}; see docs/alerts.md.")
    return list(dict.fromkeys(values))


def _filters(value, where: str, w: _Where, accounts: Accounts | None = None) -> tuple[dict, list[str]]:
    """The trends filters, and the account groups (kept apart: they are not a dimension)."""
    if value is None:
        return {}, []
    if not isinstance(value, dict):
        raise w.fail("E924", f"{where} filters", f"expected a mapping like {{channel: [chat]}}, got {_show(value)}.")
    out, groups = {}, []
    for dim, values in value.items():
        if dim == ACCOUNT_FILTER:
            groups = _account_groups(values, where, w, accounts)
            continue
        if dim not in DIMENSIONS and not is_field(dim):
            raise w.fail("E924", f"{where} filters.{dim}", "unknown filter.",
                         f"Filter by: {', '.join(DIMENSIONS + (ACCOUNT_FILTER,))}, or a field of the input: meta.FIELD.")
        values = [values] if isinstance(values, (str, int)) and not isinstance(values, bool) else values
        if not isinstance(values, list) or not values or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            raise w.fail("E924", f"{where} filters.{dim}", f"expected a value or a list of values, got {_show(values)}.")
        if is_field(dim):  # meta.airline: [United] -> the trends' field filters
            out.setdefault("fields", {})[_field(dim, f"{where} filters", w)] = [str(v) for v in values]
        else:
            out[dim] = values
    return out, groups


def _field(dim: str, where: str, w: _Where) -> str:
    try:
        return field_name(dim)
    except UsageError as exc:
        raise w.fail("E924", f"{where}.{dim}", exc.message) from None


def _text(value, where: str, w: _Where) -> str:
    if not isinstance(value, str) or not value.strip():
        raise w.fail("E926", where, f"expected a field name (text), got {_show(value)}.")
    return value.strip()


def parse_accounts(value, w: _Where, base_dir: Path | None = None) -> Accounts | None:
    """The top-level `accounts:` block; `accounts_csv` is read relative to `base_dir` (the rules file's folder)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise w.fail("E926", "accounts", f"expected a mapping with {', '.join(ACCOUNT_KEYS)}, got {_show(value)}.")
    for k in value:
        if k not in ACCOUNT_KEYS:
            raise w.fail("E926", f"accounts.{k}", "unknown key.", f"Expected: {', '.join(ACCOUNT_KEYS)}.")
    if "account_field" not in value:
        raise w.fail("E926", "accounts.account_field", "missing: the document field (documents.meta) that holds the account id.")
    acc = Accounts(_text(value["account_field"], "accounts.account_field", w))
    if value.get("revenue_field") is not None:
        acc.revenue_field = _text(value["revenue_field"], "accounts.revenue_field", w)
    if value.get("accounts_csv") is not None:
        name = _text(value["accounts_csv"], "accounts.accounts_csv", w)
        path = Path(name) if Path(name).is_absolute() or base_dir is None else Path(base_dir) / name
        if not path.is_file():
            raise w.fail("E926", "accounts.accounts_csv", f"no file at {path}.",
                         "The path is relative to the rules file; the CSV has columns account_id and revenue.")
        acc.accounts_csv = str(path)
    if not acc.revenue_field and not acc.accounts_csv:
        raise w.fail("E926", "accounts", "accounts need a revenue: give revenue_field or accounts_csv (or both; the CSV wins).")
    for k in ("revenue_threshold", "satisfaction_threshold"):
        if value.get(k) is None:
            continue
        try:
            setattr(acc, k, _number(value[k], f"accounts.{k}", w))
        except InputError as exc:
            raise InputError("E927", exc.message, exc.hint) from None
    if acc.revenue_threshold is not None and acc.revenue_threshold < 0:
        raise w.fail("E927", "accounts.revenue_threshold", f"expected 0 or more, got {acc.revenue_threshold:g}.")
    if acc.satisfaction_threshold is not None and not 0 <= acc.satisfaction_threshold <= 1:
        raise w.fail("E927", "accounts.satisfaction_threshold", f"expected 0 to 1 (or a percentage), got {acc.satisfaction_threshold:g}.",
                     "Satisfaction is on a 0..1 scale; the default is the median.")
    if value.get("score_kind") is not None:
        if value["score_kind"] not in SCORE_KINDS:
            raise w.fail("E927", "accounts.score_kind", f"expected one of {', '.join(SCORE_KINDS)}, got {_show(value['score_kind'])}.")
        acc.score_kind = value["score_kind"]
    return acc


def _owners(value, w: _Where) -> tuple[str | None, dict]:
    if value is None:
        return None, {}
    if not isinstance(value, dict) or set(value) - {"default", "touchpoints"}:
        raise w.fail("E922", "owners", "expected {default: OWNER, touchpoints: {TOUCHPOINT: OWNER}}.")
    tps = value.get("touchpoints") or {}
    if not isinstance(tps, dict) or not all(isinstance(v, str) and v for v in tps.values()):
        raise w.fail("E922", "owners.touchpoints", "expected a mapping of touchpoint to owner (text).")
    default = value.get("default")
    if default is not None and not isinstance(default, str):
        raise w.fail("E922", "owners.default", f"expected text, got {_show(default)}.")
    return default, {str(k): v for k, v in tps.items()}


def parse_rules(data, source: str = "rules", base_dir: str | Path | None = None) -> RuleSet:
    """Validate a parsed YAML document into a RuleSet; the first problem raises InputError.

    `base_dir`: the folder relative paths in the file (accounts_csv) are read from.
    """
    w = _Where(source)
    if not isinstance(data, dict):
        raise w.fail("E922", "top level", "expected a mapping with a `rules:` list.", "See docs/alerts.md.")
    for k in data:
        if k not in TOP_KEYS:
            raise w.fail("E922", str(k), "unknown top-level key.", f"Expected: {', '.join(TOP_KEYS)}.")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - set(SETTINGS):
        bad = sorted(set(defaults) - set(SETTINGS)) if isinstance(defaults, dict) else defaults
        raise w.fail("E922", "defaults", f"unexpected {_show(bad)}.", f"Defaults may set: {', '.join(SETTINGS)}.")
    base = _settings(defaults, {"period": "week", **vars(DetectSettings())}, "defaults.", w)
    rules_data = data.get("rules")
    if not isinstance(rules_data, list) or not rules_data:
        raise w.fail("E922", "rules", "expected a non-empty list of rules.", "See corpora/demo/alerts.yaml for an example.")
    default_owner, tp_owners = _owners(data.get("owners"), w)
    accounts = parse_accounts(data.get("accounts"), w, None if base_dir is None else Path(base_dir))
    rules, names = [], set()
    for i, r in enumerate(rules_data):
        rules.append(_parse_rule(r, i, names, base, accounts, w))
    return RuleSet(rules, parse_webhook(data.get("webhook"), w), default_owner, tp_owners, source, accounts)


def _parse_rule(r, i: int, names: set[str], base: dict, accounts: Accounts | None, w: _Where) -> Rule:
    """The i-th rule; `names` holds the names of the rules before it (and takes this one's)."""
    if not isinstance(r, dict):
        raise w.fail("E922", f"rules[{i}]", f"expected a mapping, got {_show(r)}.")
    name = r.get("name")
    where = f"rule {_show(name)} (rules[{i}])" if name else f"rules[{i}]"
    if not isinstance(name, str) or not _NAME.match(name):
        raise w.fail("E922", f"{where} name", "each rule needs a name: letters, digits, _ . - (up to 80).")
    if name in names:
        raise w.fail("E922", f"{where} name", "the same name is used twice; names identify alerts across runs.")
    names.add(name)
    for k in r:
        if k not in RULE_KEYS:
            raise w.fail("E922", f"{where} {k}", "unknown key.", f"Expected: {', '.join(RULE_KEYS)}.")
    by = r.get("by", "theme")
    if by not in DIMENSIONS and not (isinstance(by, str) and is_field(by)):
        raise w.fail("E924", f"{where} by", f"expected one of {', '.join(DIMENSIONS)} or a field meta.FIELD, got {_show(by)}.")
    if is_field(by):
        _field(by, f"{where} by", w)
    st = _settings(r, base, f"{where} ", w)
    severity = r.get("severity", "medium")
    if severity not in SEVERITIES:
        raise w.fail("E924", f"{where} severity", f"expected one of {', '.join(SEVERITIES)}, got {_show(severity)}.")
    owner = r.get("owner")
    if owner is not None and (not isinstance(owner, str) or not owner):
        raise w.fail("E924", f"{where} owner", f"expected text, got {_show(owner)}.")
    archived = r.get("include_archived", False)
    if not isinstance(archived, bool):
        raise w.fail("E924", f"{where} include_archived", f"expected true or false, got {_show(archived)}.")
    filters, groups = _filters(r.get("filters"), where, w, accounts)
    return Rule(
        name=name,
        by=by,
        period=st.pop("period"),
        settings=DetectSettings(**st),
        filters=filters,
        account_groups=groups,
        when=_conditions(r.get("when"), where, w),
        owner=owner,
        severity=severity,
        include_archived=archived,
        description=r.get("description"),
    )


def load_rules(path: str | Path) -> RuleSet:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("E920", f"no rules file at {path}.", "See docs/alerts.md for the format.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("E920", f"cannot read {path}: {exc}.", "Give a UTF-8 YAML file.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError("E921", f"{path.name}: YAML syntax error{at}: {problem}.", "Check indentation and quoting.") from None
    except RecursionError:
        raise InputError("E921", f"{path.name}: lists or mappings nested too deeply to be read.", "Check the brackets: a few levels of nesting are enough.") from None
    return parse_rules(data, path.name, path.parent)
