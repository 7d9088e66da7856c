"""The crawler's pure parts: URL normalisation and traps, Retry-After, robots delays, selectors,
and the line model of page cleaning (plain arrays, no pickle)."""

from __future__ import annotations

from datetime import date

import lxml.html
import numpy as np
import pytest

from miner.crawl.fetch import host_delay, retry_after_seconds, robots_rules
from miner.crawl.urls import dates_in, normalise, shape, trap_reason
from miner.ingest.clean import line_noise
from miner.ingest.lines import FEATURES, MODEL_FILE, SiteLines, load_model, page_lines
from miner.paths import model_file


@pytest.mark.parametrize("raw, expected", [
    ("HTTP://Example.COM:80/a/./b/../c?b=2&a=1#top", "http://example.com/a/c?a=1&b=2"),
    ("https://example.com:443/x", "https://example.com/x"),
    ("http://h/t-5.html?utm_source=weibo&utm_medium=x&fbclid=1&spm=a.b", "http://h/t-5.html"),
    ("http://h/t?sid=8f3a2c&PHPSESSID=1&page=2", "http://h/t?page=2"),
    ("http://h/x;jsessionid=ABC123?p=1", "http://h/x?p=1"),
    ("http://h/%7euser/%e4%bd%a0", "http://h/~user/%E4%BD%A0"),
    ("http://h", "http://h/"),
])
def test_normalise_gives_one_spelling_per_page(raw, expected):
    assert normalise(raw) == expected


def test_normalise_resolves_relative_links_and_refuses_other_schemes():
    assert normalise("../b?x=1", "http://h/a/c/d.html") == "http://h/a/b?x=1"
    assert normalise("/forum-1-2.html", "http://h:8080/x") == "http://h:8080/forum-1-2.html"
    for bad in ("mailto:a@b.c", "javascript:void(0)", "#top", "ftp://h/x", ""):
        assert normalise(bad, "http://h/") is None
    assert normalise("http://h/t?from=x", drop_params=frozenset({"from"})) == "http://h/t"
    assert normalise("http://h/t?sid=1", keep_params=frozenset({"sid"})) == "http://h/t?sid=1"


def test_shapes_and_traps():
    assert shape("http://h/forum-1-12.html?page=3") == shape("http://h/forum-1-99.html?page=1")
    assert dates_in("http://h/calendar.php?month=2027-10") == [date(2027, 10, 1)]
    assert dates_in("http://h/thread-20261001.html") == []  # eight digits in a path are an id
    today = date(2026, 9, 1)
    assert trap_reason("http://h/calendar.php?month=2027-10", today) == "future_date"
    assert trap_reason("http://h/calendar.php?month=2026-10", today) is None
    assert trap_reason("http://h/a/b/a/b/a/b/a/b/", today) == "repeating_path"
    assert trap_reason("http://h/" + "x" * 600, today) == "url_too_long"


def test_retry_after_and_robots_delays():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # a date in the past
    rules = robots_rules(200, b"User-agent: *\nCrawl-delay: 4\nDisallow: /admin/\n")
    assert host_delay(rules, "acme/1.0", 2.0) == 4.0 and host_delay(rules, "acme/1.0", 9.0) == 9.0
    assert not rules.can_fetch("http://h/admin/x", "acme/1.0") and rules.can_fetch("http://h/a", "acme/1.0")
    assert robots_rules(404, b"").can_fetch("http://h/admin/", "acme")  # no robots.txt: all allowed
    assert robots_rules(503, b"") is None  # unavailable: nothing allowed for now


def test_the_line_model_is_plain_arrays():
    path = model_file(MODEL_FILE)
    with np.load(path, allow_pickle=False) as z:  # raises if anything needs pickle
        assert tuple(str(f) for f in z["features"]) == FEATURES
        assert z["coef_page"].shape == (len(FEATURES),)
    assert load_model() is not None
    assert (path.parent / "cleaning-lines.md").exists()


PAGE = """<html><body>
<div class="nav"><a href="/">Trang chủ</a> | <a href="/k">Khiếu nại</a> | <a href="/l">Đăng nhập</a></div>
<div class="post"><p>Tôi đặt hàng từ mười ngày trước mà đến giờ vẫn chưa nhận được, tổng đài không ai nghe máy.</p>
<p>Đang dịch, vui lòng chờ...</p>
<p>Mình cũng bị y hệt, chờ ba tuần mới nhận được hàng.</p></div>
<div class="comment"><p>nhà cái uy tín_cá độ bóng đá_lô đề online_nạp tiền nhận thưởng_casino</p></div>
<ul><li><a href="/r1">Mạng cáp quang sập ở Đà Nẵng, hàng nghìn khách hàng mất kết nối</a></li>
<li><a href="/r2">Top 10 nhà mạng bị khiếu nại nhiều nhất</a></li></ul>
<div>© 2026 Khiếu nại online. Bản quyền thuộc về công ty.</div></body></html>"""


def test_page_noise_lines_are_left_out_and_the_complaint_kept():
    body = lxml.html.document_fromstring(PAGE).find(".//body")
    lines = page_lines(body)
    assert lines[0].link_ratio > 0.6 and lines[1].link_ratio == 0
    kept = [l.text for l, r in zip(lines, line_noise(lines)) if r is None]
    assert kept == ["Tôi đặt hàng từ mười ngày trước mà đến giờ vẫn chưa nhận được, tổng đài không ai nghe máy.",
                    "Mình cũng bị y hệt, chờ ba tuần mới nhận được hàng."]


def test_site_lines_know_what_every_page_carries():
    site = SiteLines(limit=100)
    footer = page_lines(lxml.html.fragment_fromstring("<div><p>© 2026 Example</p><p>A line of its own 1</p></div>"))
    for k in range(5):
        site.add(page_lines(lxml.html.fragment_fromstring(f"<div><p>© 2026 Example</p><p>A line of its own {k}</p></div>")))
    assert site.share(footer) == [1.0, 0.2]
    for k in range(300):  # bounded: lines seen once are forgotten past the limit
        site.add(page_lines(lxml.html.fragment_fromstring(f"<div><p>unique {k}</p></div>")))
    assert len(site.counts) <= 101
