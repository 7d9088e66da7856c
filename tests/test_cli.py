"""The CLI through CliRunner: help everywhere, clean one-line errors, documented exit codes."""

import csv
import io
import json

from miner.cli.main import app


def all_commands(group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if hasattr(command, "commands"):  # a group (typer's own click: not a click.Group)
            yield from all_commands(command, prefix + (name,))


def test_every_command_has_help(runner):
    import typer.main

    group = typer.main.get_command(app)
    commands = list(all_commands(group))
    assert {c[0][0] for c in commands} >= {"ingest", "export", "search", "demo"}
    for path, command in commands:
        assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_ingest_then_export_jsonl_and_csv(runner, tmp_path, write):
    db = tmp_path / "m.db"
    src = write(
        "t.csv",
        "id,date,comment\n1,2026-09-01,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\") my bill doubled\"\n2,2026-09-02,+33 is not a phone here: the app crashes\n",
    )
    result = runner.invoke(app, ["ingest", str(src), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "stored 2" in result.output
    out = tmp_path / "docs.csv"
    result = runner.invoke(app, ["export", "documents", "--db", str(db), "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0]["text"].startswith("'=HYPERLINK")
    assert rows[1]["text"].startswith("'+")
    assert {"id", "source_name", "external_id", "clean_text", "lang", "script", "created_at", "duplicate_of", "informative"} <= rows[0].keys()
    result = runner.invoke(app, ["export", "documents", "--db", str(db)])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["external_id"] for r in lines] == ["1", "2"]


def test_export_parquet_needs_out_and_writes_file(runner, tmp_path, write):
    import pyarrow.parquet as pq

    db = tmp_path / "m.db"
    runner.invoke(app, ["ingest", str(write("a.txt", "The engineer never came.")), "--db", str(db)])
    result = runner.invoke(app, ["export", "documents", "--db", str(db), "--format", "parquet"])
    assert result.exit_code == 2 and "E403" in result.stderr
    out = tmp_path / "d.parquet"
    assert runner.invoke(app, ["export", "segments", "--db", str(db), "--format", "parquet", "--out", str(out)]).exit_code == 0
    assert pq.read_table(out).num_rows >= 1


def test_missing_column_is_one_line_with_available_columns(runner, tmp_path, write):
    src = write("t.csv", "id,body\n1,hello\n")
    result = runner.invoke(app, ["ingest", str(src), "--db", str(tmp_path / "m.db"), "--text", "comment"])
    assert result.exit_code == 1
    assert "Available columns: id, body" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_strict_exit_code(runner, tmp_path, write):
    src = write("t.jsonl", '{"text": "ok then"}\n{broken\n')
    result = runner.invoke(app, ["ingest", str(src), "--db", str(tmp_path / "m.db"), "--strict"])
    assert result.exit_code == 3
    result = runner.invoke(app, ["ingest", str(src), "--db", str(tmp_path / "m.db")])
    assert result.exit_code == 0 and "broken_json 1" in result.output


def test_usage_errors_exit_2(runner, tmp_path, write):
    src = write("t.txt", "text")
    for args in (["--format", "docx"], ["--redact-pattern", "no-equals-sign"], ["--keep", "dna"], ["--encoding", "klingon"]):
        result = runner.invoke(app, ["ingest", str(src), "--db", str(tmp_path / "m.db"), *args])
        assert result.exit_code in (1, 2), args
        assert result.stderr.startswith("Error"), (args, result.stderr)
        assert "[E" in result.stderr
        assert "Traceback" not in result.stderr


def test_bad_db_paths(runner, tmp_path, write):
    src = write("t.txt", "text")
    not_db = write("x.db", b"this is not sqlite at all, just text" * 100)
    result = runner.invoke(app, ["ingest", str(src), "--db", str(not_db)])
    assert result.exit_code == 1 and "E105" in result.stderr
    result = runner.invoke(app, ["export", "documents", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 1 and "E102" in result.stderr
    result = runner.invoke(app, ["ingest", str(src), "--db", str(tmp_path / "no" / "dir.db")])
    assert result.exit_code == 1 and "E104" in result.stderr


def test_stdin_and_search(runner, tmp_path):
    db = str(tmp_path / "m.db")
    result = runner.invoke(app, ["ingest", "-", "--db", db], input="退款一直没到账\nThe hold music is endless\n")
    assert result.exit_code == 0 and "stored 2" in result.output
    result = runner.invoke(app, ["search", "退款", "--db", db, "--json"])
    assert [h["clean_text"] for h in json.loads(result.stdout)] == ["退款一直没到账"]


def test_json_summary_and_quiet(runner, tmp_path, write):
    src = write("t.txt", "The bill doubled.")
    db = str(tmp_path / "m.db")
    result = runner.invoke(app, ["ingest", str(src), "--db", db, "--json"])
    summary = json.loads(result.stdout)
    assert summary["totals"]["stored"] == 1 and summary["languages"] == {"en": 1}
    result = runner.invoke(app, ["ingest", str(src), "--db", db, "--quiet"])
    assert result.exit_code == 0 and result.stdout == ""


def test_unexpected_errors_are_one_line(runner, tmp_path, write, monkeypatch):
    import miner.ingest.pipeline as pipeline

    def boom(*a, **k):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(pipeline, "ingest", boom)
    result = runner.invoke(app, ["ingest", str(write("t.txt", "x")), "--db", str(tmp_path / "m.db")])
    assert result.exit_code == 1 and "E999" in result.stderr and "Traceback" not in result.stderr


def test_demo_runs_and_is_idempotent(runner, tmp_path):
    db = str(tmp_path / "demo.db")
    result = runner.invoke(app, ["demo", "--db", db, "--json", "--no-analyze"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    assert first["documents"] >= 300
    assert len(first["ingest"]["languages"]) >= 8
    second = json.loads(runner.invoke(app, ["demo", "--db", db, "--json", "--no-analyze"]).stdout)
    assert second["documents"] == first["documents"]
    assert all(i["status"] == "unchanged" for i in second["ingest"]["inputs"])
