import pytest

from miner.errors import InputError
from miner.ingest.mapping import parse_date, parse_score, resolve_mapping


def test_auto_detects_common_export_headers():
    m = resolve_mapping(["Response ID", "Submitted At", "NPS", "What could we do better?", "Region"])
    assert m.text == "What could we do better?"
    assert m.external_id == "Response ID"
    assert m.created_at == "Submitted At"
    assert m.score == "NPS"
    assert m.meta == ["Region"]


def test_named_column_missing_lists_available_columns():
    with pytest.raises(InputError) as info:
        resolve_mapping(["id", "body", "date"], text="comment")
    message = str(info.value)
    assert "comment" in message and "id, body, date" in message and "E220" in message


def test_named_columns_are_case_insensitive_and_meta_is_explicit():
    m = resolve_mapping(["ID", "Body", "Country", "Plan"], text="body", meta=["country"])
    assert m.text == "Body" and m.external_id == "ID" and m.meta == ["Country"]


def test_text_column_falls_back_to_longest_prose_column():
    rows = [{"a": "1", "b": "The router keeps dropping the connection every night"}, {"a": "2", "b": "Billing is wrong"}]
    assert resolve_mapping(["a", "b"], sample_rows=rows).text == "b"


def test_no_text_column_is_a_clear_error():
    with pytest.raises(InputError) as info:
        resolve_mapping(["a", "b"], sample_rows=[{"a": "1", "b": "2"}])
    assert "--text" in str(info.value)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2026-09-03", "2026-09-03"),
        ("2026-09-03T14:05:00Z", "2026-09-03T14:05:00"),
        ("2026-09-03 14:05:00+02:00", "2026-09-03T12:05:00"),
        ("03.09.2026", "2026-09-03"),
        ("03/09/2026", "2026-09-03"),
        ("09/23/2026", "2026-09-23"),
        ("2026年9月3日", "2026-09-03"),
        ("2026/9/3 08:30", "2026-09-03T08:30:00"),
        ("Thu, 03 Sep 2026 10:00:00 +0000", "2026-09-03T10:00:00"),
        ("1788393600", "2026-09-03"),
        (1788393600000, "2026-09-03"),
        ("", None),
        (None, None),
    ],
)
def test_dates(raw, expected):
    assert parse_date(raw) == expected


def test_date_format_option_and_unreadable_dates():
    assert parse_date("09/03/2026", "%m/%d/%Y") == "2026-09-03"
    for bad in ("yesterday", "2026-13-45", "99999999999999"):
        with pytest.raises((ValueError, OverflowError)):
            parse_date(bad)


@pytest.mark.parametrize(
    "raw, expected",
    [("7", 7.0), (9, 9.0), ("4,5", 4.5), ("4/5", 4.0), ("★★★☆☆", 3.0), ("", None), ("n/a", None), (None, None)],
)
def test_scores(raw, expected):
    assert parse_score(raw) == expected


def test_unreadable_score():
    with pytest.raises(ValueError):
        parse_score("great")
