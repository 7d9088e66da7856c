"""Customer-journey touchpoints: the taxonomy (`taxonomy`), assignment of segments by
prototype similarity or few-shot (`assign`, pure), the store side (`model`) and aspect
sentiment queries (`aspects`). See docs/touchpoints.md."""
