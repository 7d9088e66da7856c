"""docs/cli.md and docs/errors.md are generated (`python -m miner.cli.docs`) and must not drift."""

import subprocess
import sys

import pytest

from miner.cli import docs
from miner.cli.main import app

REGENERATE = f"they differ from the code: regenerate both with `{docs.REGENERATE}` (from the checkout)"


@pytest.mark.parametrize("name", sorted(docs.GENERATED))
def test_generated_doc_is_up_to_date(name):
    path = docs.DOCS / name
    assert path.read_text(encoding="utf-8") == docs.GENERATED[name](), f"docs/{name}: {REGENERATE}"


def test_cli_doc_lists_every_command_with_its_help():
    import typer.main

    text = docs.cli_markdown()
    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="miner")
    commands = list(docs.walk_commands(root, ctx))
    assert len(commands) >= 36  # the app, 11 commands and groups, their subcommands
    for command, cctx in commands:
        assert (command.help or "").strip(), f"`{cctx.command_path}` has no help text (its docstring)"
        assert f"\n## {cctx.command_path}\n" in text
    assert "--min-documents <int>" in text and "[default: 3]" in text and "[env var: MINER_DB; default: miner.db]" in text


def test_generated_docs_do_not_depend_on_the_terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    assert docs.cli_markdown() == (docs.DOCS / "cli.md").read_text(encoding="utf-8")


def test_check_mode_reports_stale_docs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(docs, "DOCS", tmp_path)
    assert docs.main(["--check"]) == 1
    assert docs.REGENERATE in capsys.readouterr().err
    assert docs.main([]) == 0 and docs.main(["--check"]) == 0
    assert (tmp_path / "errors.md").read_text(encoding="utf-8") == docs.errors_markdown()


def test_help_loads_no_library_module():
    """`miner --help` stays fast: the command modules import the library (sqlite_utils, scipy) only when a command runs."""
    code = "import sys, miner.cli.main; print(sorted(m for m in ('miner.store', 'sqlite_utils', 'scipy', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
