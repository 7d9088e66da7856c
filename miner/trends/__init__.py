"""Themes over time: series per period, emerging and spiking themes, alerts, and fix checks.

- `series`: volume, share and net sentiment per theme, touchpoint, channel or language, by
  day, ISO week or month (`trends`).
- `detect`: the latest complete period against a baseline of earlier ones (`detect`).
- `rules`, `alerts`, `webhook`: YAML alert rules, evaluated, stored once, posted once.
- `fixcheck`: a theme's share and negative share before and after a ship date (`fix_check`).

Counting unit: documents (originals and informative by default); a document counts once
per theme per period. Documents without a usable `created_at` are counted as skipped.

Import from the modules: this package imports none of them, so that `trends.periods` (used
by the backlog and the CLI's date options) does not load scipy with `detect` and `fixcheck`.
"""
