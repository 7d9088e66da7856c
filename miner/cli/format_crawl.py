"""Terminal text of `miner crawl` and its `--dry-run`."""

from __future__ import annotations


def _counts(counter: dict) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counter.items())


def crawl_lines(result: dict) -> list[str]:
    d = result["documents"]
    how = "resumed" if result["resumed"] else "incremental" if result["incremental"] else "new"
    rate = f" ({result['pages_per_second']:.1f} pages/s)" if result.get("pages_per_second") else ""
    lines = [
        f"Crawled {result['site']} (run {result['run_id']}, {how}) in {result['seconds']:.1f}s{rate}: "
        f"{result['pages']:,} pages ({result['not_modified']:,} not modified, {result['unchanged']:,} unchanged), "
        f"{result['errors']:,} errors, waited {result['wait_seconds']:.1f}s.",
        f"Documents of this run: stored {d.get('stored', 0):,}, already stored {d.get('already_stored', 0):,}, "
        f"duplicates {d.get('duplicates', 0):,} exact + {d.get('near_duplicates', 0):,} near, skipped {d.get('skipped', 0):,}.",
    ]
    if result["urls"]:
        lines.append("URLs: " + _counts(result["urls"]))
    if result["errors_by"]:
        lines.append("Errors: " + _counts(result["errors_by"]))
    if result["skipped"]:
        lines.append("Skipped: " + _counts(result["skipped"]))
    if result["languages"]:
        lines.append("Languages: " + _counts(result["languages"]))
    if result["pii_redacted"]:
        lines.append("PII redacted: " + _counts(result["pii_redacted"]))
    dropped = {k: v for k, v in result["dropped_lines"].items() if v}
    for k, v in result.get("page_noise", {}).items():
        dropped[k] = dropped.get(k, 0) + v
    if dropped:
        lines.append("Lines dropped by cleaning: " + _counts(dropped))
    if result["status"] == "paused":
        lines.append(f"Paused ({result['stop_reason']}), {result['queued']:,} URLs queued: run the same command again to go on.")
    elif result["status"] == "done":
        lines.append("Done: the next run is incremental (new and changed pages only).")
    return lines


def preview_lines(result: dict) -> list[str]:
    lines = [f"Dry run of {result['site']} as {result['user_agent']!r}: nothing was written."]
    for host, info in result["hosts"].items():
        robots = "unavailable (nothing would be fetched)" if info["robots_unavailable"] else f"HTTP {info['robots_status']}"
        lines.append(f"  {host}: robots.txt {robots}, {info['delay']:g}s between requests")
    for page in result["pages"]:
        status = page["status"] or page["error"]
        lines.append(f"  {page['kind']:8} {status}  {page['url']}")
        if page.get("links"):
            lines.append("           links: " + _counts(page["links"]))
            for verdict, example in page.get("examples", {}).items():
                lines.append(f"             {verdict}: {example}")
    if result["records"]:
        lines.append(f"Records of the first complaint page ({len(result['records'])}):")
        for r in result["records"]:
            first = r["clean_text"].split("\n", 1)[0][:100] if r["clean_text"] else "(nothing left after cleaning)"
            lines.append(f"  {r['kind']:9} {r['created_at'] or '-':20} {first}")
    else:
        lines.append("No complaint page was reached: check the item patterns and the selectors.")
    return lines
