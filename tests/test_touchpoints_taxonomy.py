"""Taxonomy loading and validation: every error names the file and the bad line."""

import re
from pathlib import Path

import pytest

from miner.errors import InputError
from miner.touchpoints.taxonomy import MAX_BYTES, load_taxonomy, parse_taxonomy

ROOT = Path(__file__).resolve().parent.parent
LANGS = {"en", "de", "fr", "es", "zh", "ja", "vi", "fa", "ar"}

GOOD = """\
taxonomy: t
stages:
  - key: buy
    touchpoints:
      - key: delivery
        label: Delivery
        description: Parcels and couriers.
        examples: [late parcel, courier never came]
      - key: billing
        description: Bills.
        owner: finance
        examples:
          en: [charged twice]
          de: [doppelt abgebucht]
"""


def test_default_taxonomy_covers_the_journey_in_nine_languages():
    tax = load_taxonomy()
    assert [s for s, _ in tax.stages] == ["discover", "buy", "receive", "use", "get_help", "pay", "leave"]
    assert len(tax.touchpoints) >= 20
    for tp in tax.touchpoints:
        assert LANGS <= {lang for lang, _ in tp.examples}, tp.key
        assert tp.description and tp.owner
    assert {"delivery", "billing", "call_center", "cancellation", "installation"} <= set(tax.keys)
    assert len(tax.sha256) == 64


@pytest.mark.parametrize("name", ["airline", "home_builder", "banking", "university"])
def test_example_user_taxonomies_load(name):
    tax = load_taxonomy(ROOT / "docs" / "taxonomies" / f"{name}.yaml")
    assert len(tax.touchpoints) >= 4


def test_a_good_taxonomy_parses_list_and_per_language_examples():
    tax = parse_taxonomy(GOOD, "t.yaml")
    assert tax.keys == ["delivery", "billing"]
    assert tax.get("delivery").examples == (("", "late parcel"), ("", "courier never came"))
    assert tax.get("billing").examples == (("en", "charged twice"), ("de", "doppelt abgebucht"))
    assert tax.get("billing").label == "Billing" and tax.get("billing").owner == "finance"


def _error(text):
    with pytest.raises(InputError) as exc:
        parse_taxonomy(text, "t.yaml")
    return exc.value


@pytest.mark.parametrize(
    "old, new, line, words",
    [
        ("      - key: billing\n", "      - key: delivery\n", 9, "used twice"),  # duplicate touchpoint key
        ("        description: Bills.\n", "", 9, "no description"),
        ("        examples: [late parcel, courier never came]\n", "        examples: []\n", 8, "is empty"),
        ("        owner: finance\n", "        owner: finance\n        colour: red\n", 12, "unknown field 'colour'"),
        ("        label: Delivery\n", "        label: 12\n", 6, "must be text"),
        ("        examples: [late parcel, courier never came]\n", "        examples: late parcel\n", 8, "must be a list"),
        ("          de: [doppelt abgebucht]\n", "          de: [doppelt abgebucht]\n          en: [again]\n", 15, "twice"),
        ("        label: Delivery\n", "        label: Delivery\n        label: Parcels\n", 7, "twice"),
        ("      - key: billing\n", "      - key: Billing Team\n", 9, "lowercase"),
        ("        examples: [late parcel, courier never came]\n", "        examples: [late parcel, [nested]]\n", 8, "must be text"),
        ("  - key: buy\n", "  - key: buy\n    bad: [\n", 6, "not valid YAML"),  # where the parser notices
    ],
)
def test_each_error_names_its_line(old, new, line, words):
    assert GOOD.count(old) == 1
    e = _error(GOOD.replace(old, new))
    assert e.code == "E831"
    assert re.match(rf"t\.yaml:{line}: ", e.message), e.message
    assert words in e.message
    assert "\n" not in str(e)


def test_too_large_and_empty_and_missing(tmp_path):
    big = GOOD + "#" + "x" * MAX_BYTES
    assert _error(big).code == "E832"
    assert "empty" in _error("").message
    with pytest.raises(InputError) as exc:
        load_taxonomy(tmp_path / "nope.yaml")
    assert exc.value.code == "E830"
    with pytest.raises(InputError) as exc:
        parse_taxonomy("taxonomy: t\nstages:\n  - key: a\n    touchpoints:\n      - key: x\n        description: d\n        examples: [e]\n", "t.yaml")
    assert "at least two" in exc.value.message
    e = _error("taxonomy: t\nstages:\n  - key: a\n    touchpoints: {x: 1}\n")
    assert e.message.startswith("t.yaml:4: ") and "must be a list" in e.message


def test_cli_check(runner, tmp_path):
    from miner.cli.main import app

    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    r = runner.invoke(app, ["touchpoints", "check", str(good)])
    assert r.exit_code == 0 and "2 touchpoints" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("        description: Bills.\n", ""), encoding="utf-8")
    r = runner.invoke(app, ["touchpoints", "check", str(bad)])
    assert r.exit_code == 1
    assert f"{bad}:9: touchpoint 'billing' has no description" in r.output
    assert "Traceback" not in r.output


def test_concepts_name_the_lexicon_and_the_default_journey_maps_them():
    tax = parse_taxonomy(GOOD.replace("        examples: [late parcel", "        concepts: [delivery_late, parcel_lost]\n        examples: [late parcel"), "t.yaml")
    assert tax.get("delivery").concepts == ("delivery_late", "parcel_lost") and tax.get("billing").concepts == ()
    default = load_taxonomy()
    mapped = [c for tp in default.touchpoints for c in tp.concepts]
    assert len(mapped) == len(set(mapped)) >= 190  # each concept at one touchpoint at most
    assert "food_cold" in default.get("delivery").concepts and "warranty_claim_refused" in default.get("returns").concepts


@pytest.mark.parametrize("concepts,line,message", [
    ("[delivery_lates]", 8, "'delivery_lates' is not a concept of the lexicon"),
    ("[delivery_late, delivery_late]", 8, "lists 'delivery_late' twice"),
    ("delivery_late", 8, "must be a list"),
])
def test_bad_concepts_are_errors_with_their_line(concepts, line, message):
    e = _error(GOOD.replace("        examples: [late parcel", f"        concepts: {concepts}\n        examples: [late parcel"))
    assert e.code == "E831" and e.message.startswith(f"t.yaml:{line}:") and message in e.message, e.message


@pytest.mark.parametrize("name", ["xling_dev", "demo", "banking77", "uit_vsfc"])
def test_benchmark_user_taxonomies_load(name):
    tax = load_taxonomy(ROOT / "bench" / "taxonomies" / f"{name}.yaml")
    assert all(tp.description and tp.examples for tp in tax.touchpoints)
