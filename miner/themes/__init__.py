"""Themes: the same complaint across languages, with ids, labels and human edits that last.

- `fit` (pure: vectors in, clusters out), `debias`, `identity` (clusters to the themes of
  the last run), `keywords` and `background` (labels), `terms` (user stop terms);
- `discover`: a discovery run against the store; `assign`: later segments, without a refit;
- `state`: the fitted state in the store; `manage`: reading themes and the human edits.
See docs/themes.md.
"""
