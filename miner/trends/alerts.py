"""`miner alerts`: evaluate rules, record each alert once, post it once, write JSON Lines and Markdown.

An alert is identified by (rule, dimension, key, period granularity, period): the same
spike in the same week is raised once however often cron runs; the next week, if it still
holds, is a new alert. New alerts are recorded (table `alerts`) before any post; with a
webhook they start `pending` and become `sent` on a 2xx answer. Pending alerts of earlier
runs are posted again on every run until they go through (none is lost, none is sent
twice once recorded as sent).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import sqlite_utils

from ..display import percent, shown
from ..errors import InputError, MinerError, UsageError
from ..files import replacing
from ..measures import accounts
from ..store import transaction, utc_now
from . import evidence
from .detect import detect
from .asof import as_of_text, resolve_as_of
from .periods import GRANULARITIES, Period, period_of
from .rules import Rule, RuleSet, Webhook, webhook_for_url
from .queries import Scope
from .series import trends
from .webhook import PostResult, post_json

FIGURES = (
    "volume", "total", "share", "baseline_share", "baseline_mean_volume", "growth", "volume_growth",
    "net_sentiment", "baseline_net_sentiment", "net_sentiment_change", "negative_share", "p_value", "q_value",
    "dispersion", "impact",
)


def alert_id(rule: str, dimension: str, key, granularity: str, period: str) -> str:
    raw = "\x1f".join(map(str, (rule, dimension, key, granularity, period)))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def _matches(finding: dict, when: dict) -> bool:
    for metric, cond in when.items():
        if metric == "flagged":
            if (finding["kind"] is not None) != cond:
                return False
        elif isinstance(cond, bool):
            if bool(finding.get(metric)) != cond:
                return False
        else:
            value, (lo, hi) = finding.get(metric), cond
            if value is None or (lo is not None and value < lo) or (hi is not None and value > hi):
                return False
    return True


def _describe(when: dict) -> list[str]:
    out = []
    for metric, cond in when.items():
        if isinstance(cond, bool):
            out.append(metric if cond else f"not {metric}")
        else:
            lo, hi = cond
            out.append(" and ".join(x for x in (lo is not None and f"{metric} >= {lo:g}", hi is not None and f"{metric} <= {hi:g}") if x))
    return out


def _owner(rule: Rule, rules: RuleSet, touchpoint: str | None) -> str | None:
    """A rule's owner wins; otherwise the touchpoint's owner; otherwise the default owner."""
    if rule.owner:
        return rule.owner
    if touchpoint and touchpoint in rules.touchpoint_owners:
        return rules.touchpoint_owners[touchpoint]
    return rules.default_owner


def _round(v):
    return float(f"{v:.6g}") if isinstance(v, float) else v


def rules_document_groups(db: sqlite_utils.Database, rules: RuleSet, cache: dict | None = None) -> dict[int, str]:
    """Document id -> account group, from the rules file's `accounts:` block (computed once per run)."""
    if cache is not None and "document_groups" in cache:
        return cache["document_groups"]
    a = rules.accounts
    if a is None:  # parse_rules refuses such a rule; a RuleSet built by hand may not
        raise InputError("E928", f"{rules.source}: a rule filters by account group but there is no `accounts:` block.")
    try:
        groups, _ = accounts.document_groups(
            db, a.account_field, revenue_field=a.revenue_field, accounts_csv=a.accounts_csv,
            revenue_threshold=a.revenue_threshold, satisfaction_threshold=a.satisfaction_threshold, score_kind=a.score_kind)
    except MinerError as exc:
        raise InputError("E929", f"{rules.source}: accounts: {exc.message.rstrip('.')} ({exc.code}).", exc.hint) from None
    if cache is not None:
        cache["document_groups"] = groups
    return groups


def evaluate_rule(
    db: sqlite_utils.Database, rule: Rule, rules: RuleSet, as_of: date, cache: dict | None = None
) -> tuple[list[dict], dict]:
    """Alerts of one rule (not yet recorded) and a summary line for the run's report.

    A rule filtered by account group counts only the documents of accounts in those groups,
    in the mentions and in the period totals alike (shares are within those accounts).
    """
    s = rule.settings
    since = period_of(as_of, rule.period).shift(-(s.baseline + 2)).start  # enough history for the baseline
    documents = None
    if rule.account_groups:
        wanted = set(rule.account_groups)
        documents = sorted(d for d, g in rules_document_groups(db, rules, cache).items() if g in wanted)
    try:
        table = trends(db, rule.by, rule.period, filters=rule.filters, since=since, until=as_of, documents=documents)
    except UsageError as exc:
        if exc.code != "E905":
            raise
        # touchpoints may simply not be assigned yet: the other rules still run
        return [], {"rule": rule.name, "period": None, "keys": 0, "tested": 0, "flagged": 0, "alerts": 0,
                    "note": "skipped: no segment has a touchpoint yet", "skipped_undated": 0}
    result = detect(table, s, as_of=as_of)
    info = {"rule": rule.name, "period": result["period"], "keys": len(result["findings"]),
            "tested": sum(f["tested"] for f in result["findings"]), "flagged": len(result["flagged"]),
            "note": result["note"], "skipped_undated": table.skipped_undated}
    if rule.account_groups:
        info["account_groups"] = rule.account_groups
        info["account_documents"] = len(documents)
    if result["period"] is None:
        return [], info
    period = table.periods[[p.label for p in table.periods].index(result["period"])]
    scope = Scope(table.filters, restricted=documents is not None)
    filters = {**table.filters, "account_group": rule.account_groups} if rule.account_groups else table.filters
    alerts = []
    for f in result["findings"]:
        if rule.by == "theme" and f["status"] == "archived" and not rule.include_archived:
            continue
        if "impact" in rule.when:
            f["impact"] = evidence.impact(db, rule.by, f["key"], scope, period)
        if not _matches(f, rule.when):
            continue
        touchpoint = _touchpoint_of(db, rule, f["key"], table.filters, scope, period)
        quotes = evidence.quotes(db, rule.by, f["key"], scope, period)
        alerts.append(_alert(rule, rules, f, touchpoint, period, result["baseline_periods"], filters, quotes))
    info["alerts"] = len(alerts)
    return alerts, info


def _touchpoint_of(db: sqlite_utils.Database, rule: Rule, key, filters: dict, scope: Scope, period: Period) -> str | None:
    """Where the alert hurts: its own key, the one touchpoint filtered on, or a theme's top touchpoint in the period."""
    if rule.by == "touchpoint":
        return key
    if len(filters.get("touchpoint", [])) == 1:
        return filters["touchpoint"][0]
    if rule.by == "theme":
        return evidence.top_touchpoint(db, key, scope, period)
    return None


def _alert(rule: Rule, rules: RuleSet, f: dict, touchpoint: str | None, period: Period, baseline_periods: list[str],
           filters: dict, quotes: list[dict]) -> dict:
    """An alert as recorded, posted and written: the rule, the finding's figures and its evidence."""
    return {
        "id": alert_id(rule.name, rule.by, f["key"], rule.period, f["period"]),
        "rule": rule.name,
        "description": rule.description,
        "severity": rule.severity,
        "owner": _owner(rule, rules, touchpoint),
        "dimension": rule.by,
        "key": f["key"],
        "label": f["label"],
        "touchpoint": touchpoint,
        "granularity": rule.period,
        "period": f["period"],
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "kind": f["kind"],
        "significant": f["significant"],
        "new": f["new"],
        "conditions": _describe(rule.when),
        "figures": {k: _round(f.get(k)) for k in FIGURES if k in f},
        "baseline_periods": baseline_periods,
        "filters": filters,
        "quotes": quotes,
    }


def _record(db: sqlite_utils.Database, alerts: list[dict], webhook: Webhook | None, now: str) -> list[dict]:
    """Insert alerts not seen before (one transaction); return those that were new."""
    new = []
    with transaction(db):
        for a in alerts:
            a["raised_at"] = now
            cur = db.execute(
                "INSERT OR IGNORE INTO alerts (id, rule, dimension, key, label, granularity, period, kind, severity, owner, "
                "payload, raised_at, delivery, webhook_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [a["id"], a["rule"], a["dimension"], None if a["key"] is None else str(a["key"]), a["label"], a["granularity"],
                 a["period"], a["kind"], a["severity"], a["owner"], json.dumps(a, ensure_ascii=False), now,
                 "pending" if webhook else "none", webhook.url if webhook else None],
            )
            if cur.rowcount:
                new.append(a)
    return new


def deliver_pending(
    db: sqlite_utils.Database, webhook: Webhook, post: Callable[..., PostResult] = post_json, sleep: Callable[[float], None] = time.sleep
) -> dict:
    """Post every pending alert (oldest first); each outcome is committed as soon as it is known."""
    rows = db.execute("SELECT id, payload FROM alerts WHERE delivery = 'pending' ORDER BY raised_at, id").fetchall()
    sent, failed, errors = 0, 0, []
    for alert_id_, payload in rows:
        result = post(webhook.url, json.loads(payload), retries=webhook.retries, backoff=webhook.backoff,
                      timeout=webhook.timeout, idempotency_key=alert_id_, sleep=sleep)
        now = utc_now()
        if result.ok:
            db.execute(
                "UPDATE alerts SET delivery = 'sent', sent_at = ?, attempts = attempts + ?, last_attempt_at = ?, "
                "last_error = NULL, webhook_url = ? WHERE id = ?",
                [now, result.attempts, now, webhook.url, alert_id_],
            )
            sent += 1
        else:
            db.execute(
                "UPDATE alerts SET attempts = attempts + ?, last_error = ?, last_attempt_at = ?, webhook_url = ? WHERE id = ?",
                [result.attempts, result.error, now, webhook.url, alert_id_],
            )
            failed += 1
            errors.append(result.error)
    return {"url": webhook.url, "attempted": len(rows), "sent": sent, "pending": failed, "last_error": errors[-1] if errors else None}


def run_alerts(
    db: sqlite_utils.Database,
    rules: RuleSet,
    *,
    webhook_url: str | None = None,
    as_of: date | None = None,
    today: date | None = None,
    dry_run: bool = False,
    post: Callable[..., PostResult] = post_json,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Evaluate every rule for the latest complete period by `as_of` (the run's "today"; by
    default the day after the data ends, see `asof`; pass the real date for cron's calendar).

    Returns {"alerts": new alerts, "already_raised": n, "rules": [...], "delivery": {...} or None,
    "dry_run": bool, and the as-of fields: "as_of", "as_of_source", "data_ends", "stale_warning"}.
    An alert's id is (rule, dimension, key, granularity, period), whatever the as-of day: a
    period alerted once is never alerted again, by the calendar or by the end of the data.
    With `dry_run`, nothing is recorded and nothing is posted.
    """
    when = resolve_as_of(db, as_of, today=today)
    as_of = when.day
    webhook = rules.webhook
    if webhook_url:
        webhook = webhook_for_url(webhook_url, rules.webhook)
    firing, report, cache = [], [], {}
    for rule in rules.rules:
        alerts, info = evaluate_rule(db, rule, rules, as_of, cache)
        firing += alerts
        report.append(info)
    if dry_run:
        known = {r[0] for r in db.execute("SELECT id FROM alerts").fetchall()}
        new = [a for a in firing if a["id"] not in known]
        for a in new:
            a["raised_at"] = None
        delivery = None
    else:
        new = _record(db, firing, webhook, utc_now())
        delivery = deliver_pending(db, webhook, post, sleep) if webhook else None
        if delivery is None:
            waiting = db.execute("SELECT COUNT(*) FROM alerts WHERE delivery = 'pending'").fetchone()[0]
            delivery = {"url": None, "attempted": 0, "sent": 0, "pending": waiting, "last_error": None} if waiting else None
    finest = min((r.period for r in rules.rules), key=GRANULARITIES.index, default="week")
    return {
        **{k: v for k, v in when.fields(finest).items() if k != "open_period"},
        "alerts": new,
        "already_raised": len(firing) - len(new),
        "rules": report,
        "delivery": delivery,
        "dry_run": dry_run,
    }


# --- output ---------------------------------------------------------------------------


def render_markdown(result: dict) -> str:
    alerts = result["alerts"]
    lines = [f"# miner alerts ({result['as_of']})", ""]
    tested = sorted({r["period"] for r in result["rules"] if r.get("period")})
    when = as_of_text(result, ", ".join(tested) or None)
    lines += [when[:1].upper() + when[1:] + ".", ""]
    if not alerts:
        lines.append("No new alerts.")
    for a in alerts:
        f = a["figures"]
        what = {"new": "new", "spike": "spiking"}.get(a["kind"] or "", "alert")
        lines += [
            f"## [{a['severity']}] {a['label']} ({a['dimension']} {a['key']}): {what}, {a['period']}",
            "",
            f"- Rule `{a['rule']}`: {'; '.join(a['conditions'])}" + (f". {a['description']}" if a["description"] else ""),
            f"- Owner: {a['owner'] or 'unassigned'}" + (f" · touchpoint: {a['touchpoint']}" if a["touchpoint"] else ""),
            f"- {f['volume']} of {f['total']} documents"
            + (f" of {', '.join(a['filters']['account_group'])} accounts" if a["filters"].get("account_group") else "")
            + f" ({percent(f['share'])}); baseline {percent(f['baseline_share'])} over "
            f"{len(a['baseline_periods'])} periods; share growth {shown(f['growth'], '+.0%')}; "
            f"q = {shown(f['q_value'], '.2g')}",
            f"- Net sentiment {shown(f['net_sentiment'], '+.2f')} (baseline {shown(f['baseline_net_sentiment'], '+.2f')})"
            + (f"; impact on score {shown(f.get('impact'), '+.2f')}" if f.get("impact") is not None else ""),
        ]
        for q in a["quotes"]:
            lines.append(f"  > {q['text']} (document {q['document_id']}{', ' + q['sentiment'] if q['sentiment'] else ''})")
        lines.append("")
    d = result["delivery"]
    if d:
        lines += ["", f"Webhook: {d['sent']} sent, {d['pending']} pending" + (f" (last error: {d['last_error']})" if d["last_error"] else "") + "."]
    notes = [f"- Rule `{r['rule']}`: {r['note']}." for r in result["rules"] if r.get("note")]
    if notes:
        lines += ["", "Notes:", *notes]
    if result["already_raised"]:
        lines += ["", f"{result['already_raised']} alert(s) still firing were raised by an earlier run and are not repeated."]
    return "\n".join(lines).rstrip() + "\n"


def render_jsonl(result: dict) -> str:
    return "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in result["alerts"])


def render_alerts(result: dict | None, fmt: str = "md") -> str:
    """The run's new alerts as Markdown (`md`) or JSON Lines (`jsonl`); None only checks `fmt`."""
    if fmt not in ("md", "jsonl"):
        raise UsageError("E914", f"unknown alerts format {fmt!r}.", "Choose md or jsonl.")
    if result is None:
        return ""
    return render_markdown(result) if fmt == "md" else render_jsonl(result)


def write_outputs(result: dict, out_dir: str | Path) -> list[str]:
    """alerts.jsonl and alerts.md in `out_dir` (replaced every run: empty when nothing is new)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError("E910", f"{out} is a file.", "--out takes a folder; alerts.jsonl and alerts.md go inside.")
    if not out.parent.exists():
        raise UsageError("E910", f"the folder above {out} does not exist.", "Create it first.")
    out.mkdir(exist_ok=True)
    paths = [out / "alerts.jsonl", out / "alerts.md"]
    for path, text in zip(paths, (render_jsonl(result), render_markdown(result))):
        with replacing(path) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
    return [str(p) for p in paths]
