"""What the encoder reads: the segment text with who-and-where tokens masked.

Themes must be about the complaint, not about whom it addresses: on short complaint tweets,
@handles, links and order numbers dominate an embedding (plain BERTopic on such tweets
grouped them by the company addressed). They are replaced by fixed placeholders, the
convention of XLM-T and of the tweet corpora the sentiment head is trained on, before the
single encoder pass that serves sentiment, themes and touchpoints alike.
"""

from __future__ import annotations

import re

# A URL ends at whitespace or at CJK / full-width punctuation, which often follows it unspaced.
_URL = re.compile(r"(?:https?://|www\.)[^\s\u3000-\u303f\u4e00-\u9fff\uff00-\uffef<>\"']+", re.I)
_HANDLE = re.compile(r"(?<![\w.])@\w{2,}")
# Order, ticket and customer numbers: 5+ digits, optionally after a short letter prefix.
_NUMBER = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]{1,4}[-#]?)?\d[\d-]{3,}\d(?![A-Za-z0-9])")


def encoder_input(text: str) -> str:
    text = _URL.sub("http", text)
    text = _HANDLE.sub("@user", text)
    return _NUMBER.sub("0", text)
