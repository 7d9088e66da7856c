"""Generate docs/cli.md from the Typer app and docs/errors.md from the error registry.

    python -m miner.cli.docs            rewrite both (run from the checkout)
    python -m miner.cli.docs --check    exit 1 when either differs from the files

tests/test_docs.py fails when the files differ from what this module generates.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

REGENERATE = "python -m miner.cli.docs"
DOCS = Path(__file__).resolve().parents[2] / "docs"
WIDTH = 100  # help text is wrapped at this width, whatever the terminal


def walk_commands(command, ctx) -> Iterator[tuple[object, object]]:
    """(command, its context) for a command and every command below it, in `--help` order."""
    yield command, ctx
    for name in command.list_commands(ctx) if hasattr(command, "list_commands") else []:
        sub = command.get_command(ctx, name)
        yield from walk_commands(sub, type(ctx)(sub, parent=ctx, info_name=name, terminal_width=WIDTH, max_content_width=WIDTH))


def cli_markdown() -> str:
    """Every command's `--help`, under a heading per command, and the exit codes."""
    import typer.main

    from .common import EXIT_CODES
    from .main import app

    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="miner", terminal_width=WIDTH, max_content_width=WIDTH)
    out = [
        "# The `miner` command",
        "",
        f"Generated from the Typer app (miner/cli/) by `{REGENERATE}`; do not edit by hand.",
        "Each command's `--help`, in the order `miner --help` lists them. Error codes: [errors.md](errors.md).",
        "",
        "## Exit codes",
        "",
        "| code | meaning |",
        "|---:|---|",
        *(f"| {code} | {_cell(meaning)} |" for code, meaning in EXIT_CODES.items()),
    ]
    for command, cctx in walk_commands(root, ctx):
        out += ["", f"## {cctx.command_path}", "", "```", command.get_help(cctx).rstrip(), "```"]
    return "\n".join(out) + "\n"


def errors_markdown() -> str:
    """The error registry as tables, one per section."""
    from miner.errors.codes import CODES, INPUT, USAGE, section_of

    out = [
        "# Error codes",
        "",
        f"Generated from miner/errors/codes.py by `{REGENERATE}`; do not edit by hand.",
        "",
        "Every error is one line on standard error: the code, what went wrong, and how to fix it, e.g.",
        "`Error [E220] no column named 'comment' (from --text). Available columns: id, body.`",
        "The message names the specifics; the hint below is the one given when the message has none.",
        f"Exit code {INPUT}: an input, a setting file or the store cannot be used; {USAGE}: a usage error",
        "(options that contradict each other or the data). `MINER_DEBUG=1` shows the traceback of an",
        "internal error (E999). Other exit codes: [cli.md](cli.md#exit-codes).",
    ]
    section = None
    for code, entry in sorted(CODES.items()):
        if section_of(code) != section:
            section = section_of(code)
            out += ["", f"## {section}", "", "| code | exit | what went wrong | how to fix it |", "|---|---:|---|---|"]
        out.append(f"| {code} | {entry.exit_code} | {_cell(entry.summary)} | {_cell(entry.hint)} |")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


GENERATED = {"cli.md": cli_markdown, "errors.md": errors_markdown}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, generate in GENERATED.items():
        path, text = DOCS / name, generate()
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(str(path))
        if not check:
            path.write_text(text, encoding="utf-8")
    if check and stale:
        print(f"Out of date: {', '.join(stale)}. Regenerate with: {REGENERATE}", file=sys.stderr)
        return 1
    print(f"{'Rewrote' if stale else 'Up to date:'} {', '.join(stale) or ', '.join(GENERATED)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
