"""The error registry (miner/errors/codes.py) lists exactly the codes the source raises, with the
exit code their raise sites had, and MinerError takes its hint and exit code from it."""

import ast
import re
from pathlib import Path

import pytest

from miner.errors.codes import CODES, INPUT, USAGE, section_of
from miner.errors import InputError, MinerError, StoreError, UsageError

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for p in (ROOT / "miner").rglob("*.py") if p != ROOT / "miner" / "errors" / "codes.py") + [ROOT / "cli.py"]
CODE = re.compile(r"""["'](E\d{3})["']""")  # a code as a string of its own, wherever it is used
CLASS_EXIT = {"InputError": INPUT, "StoreError": INPUT, "MinerError": INPUT, "UsageError": USAGE}


def codes_in_source() -> dict[str, list[str]]:
    """code -> the places (file:line) its string appears in miner/ (miner/cli/ included) and cli.py."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for code in CODE.findall(line):
                found.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{number}")
    return found


def raise_sites() -> list[tuple[str, str, str]]:
    """(code, error class, place) of every `SomeError("Exxx", ...)` in miner/."""
    sites = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CLASS_EXIT
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                sites.append((node.args[0].value, node.func.id, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return sites


def test_every_code_used_is_in_the_registry():
    missing = {code: places for code, places in codes_in_source().items() if code not in CODES}
    assert not missing, f"add these codes to miner/errors/codes.py (then run `python -m miner.cli.docs`): {missing}"


def test_every_registry_code_is_used():
    unused = sorted(set(CODES) - set(codes_in_source()))
    assert not unused, f"no code in miner/ uses {unused}: remove them from miner/errors/codes.py"


def test_the_scan_sees_the_raise_sites():
    sites = raise_sites()
    assert len({code for code, _, _ in sites}) > 100
    assert {"E220", "E903", "E978"} <= set(codes_in_source())


def test_registry_exit_code_matches_the_raising_class():
    """Exit codes once came from the class raised (UsageError 2, the others 1): the registry keeps them."""
    wrong = [f"{place}: {cls}({code!r}) exits {CLASS_EXIT[cls]}, the registry says {CODES[code].exit_code}"
             for code, cls, place in raise_sites() if code in CODES and CODES[code].exit_code != CLASS_EXIT[cls]]
    assert not wrong, "\n".join(wrong)


def test_registry_entries_are_complete():
    for code, entry in CODES.items():
        assert re.fullmatch(r"E\d{3}", code) and entry.code == code
        assert entry.exit_code in (INPUT, USAGE), code
        assert entry.summary.strip() and entry.hint.strip(), code
        assert section_of(code), code


def test_error_takes_exit_code_and_missing_hint_from_the_registry():
    err = InputError("E922", "rules.yaml: owners: expected text.")
    assert err.hint == CODES["E922"].hint and str(err).endswith(CODES["E922"].hint)
    assert UsageError("E501", "empty search query.", "Give a word.").hint == "Give a word."
    assert UsageError("E501", "x").exit_code == 2 and StoreError("E102", "x").exit_code == 1
    assert InputError("E999", "x").exit_code == CODES["E999"].exit_code


@pytest.mark.parametrize("cls, expected", [(MinerError, 1), (InputError, 1), (StoreError, 1), (UsageError, 2)])
def test_a_code_missing_from_the_registry_falls_back_to_the_class(cls, expected):
    err = cls("E000", "not a listed code")
    assert err.exit_code == expected and err.hint is None and str(err) == "[E000] not a listed code"
