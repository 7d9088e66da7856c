"""Keyword tokenising in a second process (miner.themes.background)."""

import os
import signal

import pytest

from miner.themes import background as bg
from miner.themes.keywords import term_table

TEXTS = ["the login page crashes", "refund never arrived", "外卖送餐太慢了", "the login page crashes"] * 3
LANGS = ["en", "en", "zh", "en"] * 3


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(bg, "available_cores", lambda: 2)


def test_the_second_process_gives_the_same_table_as_in_line(two_cores):
    with bg.TermsInBackground(TEXTS, LANGS, {"page"}, min_texts=0) as job:
        table = job.result()
    assert table is not None, job.error
    want = term_table(TEXTS, LANGS, {"page"})
    assert table.terms == want.terms and table.parts == want.parts


def test_one_core_or_few_texts_start_no_process(monkeypatch):
    monkeypatch.setattr(bg, "available_cores", lambda: 1)
    assert bg.TermsInBackground(TEXTS, LANGS, set(), min_texts=0).result() is None
    monkeypatch.setattr(bg, "available_cores", lambda: 2)
    assert bg.TermsInBackground(TEXTS, LANGS, set()).result() is None  # under MIN_TEXTS


def test_a_child_that_dies_gives_none_and_no_hang(two_cores):
    job = bg.TermsInBackground(TEXTS * 2000, LANGS * 2000, set(), min_texts=0)
    os.kill(job._proc.pid, signal.SIGKILL)  # at once: long before its imports are done
    assert job.result() is None
    assert "without a result" in job.error


def test_closing_early_stops_the_child(two_cores):
    job = bg.TermsInBackground(TEXTS * 2000, LANGS * 2000, set(), min_texts=0)
    proc = job._proc
    job.close()  # what an error in the clustering does (the `with` block in discover)
    assert not proc.is_alive()
    assert job.result() is None
