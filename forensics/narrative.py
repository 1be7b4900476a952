"""The answer in words: the sentences, headline figures and glossary the report opens with.

Everything here is generated from the evidence files (never recomputed from the logs), so
a sentence can be quoted and checked against the rows it summarizes: each headline figure
names the table that lists exactly the rows it counts.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from forensics import findings
from forensics.errors import EvidenceError
from forensics.evidence import MANIFEST, read_manifest, sha256_file
from forensics.findings import Evidence, by_category
from forensics.webpage import when, when_local


@dataclass(frozen=True)
class RunInfo:
    """Who produced the evidence folder, with what, when: the report's first line."""

    case: str
    started: str
    tool_version: str
    manifest_sha256: str
    pseudonymized: bool
    literals_kept: bool
    log_files: dict[str, int]
    warnings: tuple[str, ...] = ()
    timezone: str = "UTC"


@dataclass(frozen=True)
class Figure:
    """One headline number: what it counts, and the table (`anchor`) listing those rows.

    `total_of` names the column of that table whose sum is the figure (empty: the figure
    is the table's row count); `source` is the evidence file and filter behind the table."""

    key: str
    value: int
    label: str
    anchor: str
    source: str
    total_of: str = ""


def run_info(folder: str | Path) -> RunInfo:
    """The manifest's case, start time, tool version and fingerprint, and the logs read."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    options = manifest.get("options", {})
    logs: dict[str, int] = {}
    for entry in manifest.get("inputs", []):
        if "lines" in entry:  # a log file (policies and the directory have no lines)
            logs[str(entry.get("format", "log"))] = logs.get(str(entry.get("format")), 0) + 1
    zone = _zone_of(manifest, folder)
    return RunInfo(
        case=str(manifest.get("case", "")),
        started=when_local(manifest.get("run", {}).get("started"), zone),
        tool_version=str(manifest.get("tool", {}).get("version", "")),
        manifest_sha256=sha256_file(folder / MANIFEST),
        pseudonymized=bool(options.get("pseudonym_key_id")),
        literals_kept=bool(options.get("keep_literals")),
        log_files=dict(sorted(logs.items())),
        warnings=tuple(str(w) for w in manifest.get("warnings", [])),
        timezone=zone,
    )


def case_zone(ev: Evidence) -> str:
    """The case's time zone (IANA name) as the manifest records it; `UTC` for a manifest
    written before it did."""
    return _zone_of(read_manifest(ev.folder), ev.folder)


def _zone_of(manifest: dict, folder: Path) -> str:
    zone = str(manifest.get("timezone") or "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise EvidenceError(
            f"{folder / MANIFEST}: timezone {zone[:60]!r} is not a known zone; the manifest "
            "was damaged (rerun forensics investigate)"
        ) from None
    return zone


def zone_note(zone: str) -> str:
    """The sentence that says how the report writes times."""
    if zone == "UTC":
        return "All times are UTC."
    return f"All times are UTC; in brackets beside the key ones, the case's local time ({zone})."


def exposure_readers(ev: Evidence) -> pd.DataFrame:
    """Every principal with a read only the exposure allowed, most reads first."""
    people = ev.principals
    table = people[pd.to_numeric(people["exposure_enabled_events"]) > 0]
    return _reader_rows(ev, table, "exposure_enabled")


def copy_readers(ev: Evidence) -> pd.DataFrame:
    """Principals who read only copies of exposed data (no read of the exposed tables)."""
    people = ev.principals
    ee = pd.to_numeric(people["exposure_enabled_events"])
    table = people[(ee == 0) & (pd.to_numeric(people["secondary_events"]) > 0)]
    return _reader_rows(ev, table, "secondary")


def _reader_rows(ev: Evidence, people: pd.DataFrame, classification: str) -> pd.DataFrame:
    """One row per reader: who, organisation, what they read, how often, when."""
    events = ev.access_events[ev.access_events["classification"] == classification]
    tables = _tables_read(events)
    count = (
        "exposure_enabled_events" if classification == "exposure_enabled" else "secondary_events"
    )
    table = pd.DataFrame(
        {
            "principal": people["principal"],
            "kind": people["kind"].replace("", "unknown"),
            "org": people["org"],
            "tables": people["principal"].map(tables).fillna(""),
            "categories": people["sensitivity"].str.replace(";", "; "),
            "reads": pd.to_numeric(people[count]),
            "first_read": people["first_read"],
            "last_read": people["last_read"],
            "copies_made": pd.to_numeric(people["derived_copies_made"]),
        }
    )
    return table.sort_values(["reads", "principal"], ascending=[False, True]).reset_index(drop=True)


def _tables_read(events: pd.DataFrame) -> pd.Series:
    """Per principal (the index), the tables its `events` read, as `_names` of them in
    order: one pass over the distinct (principal, table) pairs, sorted. A function called
    per principal took 0.3 s at 1M events (45,000 readers), and a page asks several times."""
    pairs = events[["principal", "object"]].drop_duplicates().sort_values(["principal", "object"])
    return pd.Series(
        {
            principal: _names([table for _, table in group])
            for principal, group in groupby(
                zip(pairs["principal"], pairs["object"], strict=True), key=itemgetter(0)
            )
        },
        dtype=object,
    )


def copies(ev: Evidence) -> pd.DataFrame:
    """One row per copy made from exposed data: made from what, by whom, when."""
    edges = ev.derived_copies
    if edges.empty:
        return pd.DataFrame(columns=["copy", "made_from", "made_by", "time", "generation"])
    table = edges.groupby("derived_object").agg(
        made_from=("source_object", lambda v: "; ".join(sorted(set(v)))),
        made_by=("principal", lambda v: "; ".join(sorted(set(v)))),
        time=("time", "min"),
        generation=("generation", "min"),
    )
    return table.reset_index().rename(columns={"derived_object": "copy"})


def events_of(ev: Evidence, classification: str) -> pd.DataFrame:
    """The access events of one classification, with the id `forensics trace` takes."""
    events = ev.access_events[ev.access_events["classification"] == classification]
    columns = ["time", "principal", "object", "engine", "via", "event_id"]
    return events.sort_values(["time", "event_id"])[columns].reset_index(drop=True)


def figures(ev: Evidence) -> list[Figure]:
    """The headline numbers, each equal to the rows (or a column's total) of its table."""
    readers = exposure_readers(ev)
    return [
        Figure(
            "objects", len(ev.objects), "tables and views were exposed", "objects", "objects.csv"
        ),
        Figure(
            "readers",
            len(readers),
            "people or accounts read them only because of the exposure",
            "exposure-readers",
            "principals.csv, rows with exposure_enabled_events > 0",
        ),
        Figure(
            "reads",
            int(readers["reads"].sum()),
            "reads only the exposure allowed",
            "exposure-readers",
            "principals.csv, column exposure_enabled_events",
            total_of="reads",
        ),
        Figure(
            "categories",
            len(by_category(ev)),
            "kinds of sensitive data were read that way",
            "categories",
            "exposure_enabled_reads.csv, column sensitivity",
        ),
        Figure(
            "copies",
            len(copies(ev)),
            "copies were made from exposed data",
            "copies",
            "derived_copies.csv, distinct derived_object",
        ),
        Figure(
            "copy_readers",
            len(copy_readers(ev)),
            "more read only those copies",
            "copy-readers",
            "principals.csv, rows with only secondary_events",
        ),
        Figure(
            "denied",
            len(events_of(ev, "denied")),
            "attempts were denied",
            "denied",
            "access_events.csv, classification denied",
        ),
        Figure(
            "outside",
            len(ev.unexplained_reads),
            "reads outside the windows suggest a window is wrong",
            "outside",
            "unexplained_reads.csv",
        ),
        Figure(
            "quarantined",
            len(ev.quarantine),
            "log lines could not be read",
            "quarantine",
            "quarantine.csv",
        ),
        Figure(
            "unparsed",
            len(ev.unparsed_statements),
            "statements could not be analysed",
            "unparsed",
            "unparsed_statements.csv",
        ),
    ]


def _names(names: list[str], most: int = 8) -> str:
    """`a, b and c`, or the first `most` and how many others."""
    if not names:
        return ""
    if len(names) > most:
        return f"{', '.join(names[:most])} and {len(names) - most} others"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _times(n: int, first: object, last: object, zone: str = "UTC") -> str:
    """`once, at T` or `N times between A and B` (with the case's local time beside)."""
    if n == 1 or when(first) == when(last):
        return f"{'once' if n == 1 else f'{n} times'}, at {when_local(first, zone)}"
    return f"{n} times between {when_local(first, zone)} and {when_local(last, zone)}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def summary(ev: Evidence) -> str:
    """The first paragraph: who, how many, what kind of data, when, in plain words."""
    zone = case_zone(ev)
    spans = _window_span(ev, zone)
    readers = exposure_readers(ev)
    kinds = readers["kind"].value_counts()
    people = _plural(int(kinds.get("human", 0)), "person", "people")
    services = _plural(int(kinds.get("service", 0)), "service account")
    unknown = int(kinds.get("unknown", 0))
    others = f" and {_plural(unknown, 'account')} not in the directory" if unknown else ""
    categories = _names(list(by_category(ev)["category"]))
    text = [
        f"{_plural(len(ev.objects), 'table or view', 'tables and views')} "
        f"{'was' if len(ev.objects) == 1 else 'were'} readable by people the normal "
        f"(baseline) access policy does not allow{spans}."
    ]
    if readers.empty:
        text.append(
            "The logs record no read that only the exposure allowed: no one outside the "
            "baseline read an exposed table inside its window."
        )
    else:
        first, last = readers["first_read"].min(), readers["last_read"].max()
        text.append(
            f"The logs show {_plural(len(readers), 'reader')} ({people}, {services}{others}) "
            f"who read them only because of the exposure: {_names(list(readers['principal']))}"
            f"; {_plural(int(readers['reads'].sum()), 'read')} in all, from "
            f"{when_local(first, zone)} to {when_local(last, zone)}. "
            f"The data read was of these kinds: {categories}."
        )
    made, later = copies(ev), copy_readers(ev)
    if len(made):
        text.append(
            f"{_plural(len(made), 'copy', 'copies')} of exposed data "
            f"{'was' if len(made) == 1 else 'were'} made"
            + (
                f", and {_plural(len(later), 'more reader')} read only those copies: "
                f"{_names(list(later['principal']))}."
                if len(later)
                else "; no one else read them."
            )
        )
    return " ".join(text)


def _window_span(ev: Evidence, zone: str = "UTC") -> str:
    """` from START to END`, the earliest window start to the latest end (UTC, and the
    case's local time beside)."""
    windows = ev.exposure_windows
    if windows.empty:
        return ""
    start = pd.to_datetime(windows["start"].replace("", None), utc=True).min()
    ends = pd.to_datetime(windows["end"].replace("", None), utc=True)
    end = (
        "an end the policy history does not record"
        if ends.isna().any()
        else when_local(ends.max(), zone)
    )
    return f" from {when_local(start, zone)} to {end}"


def limits(ev: Evidence, info: RunInfo, coverage: str | None = None) -> list[str]:
    """What the logs could not show, as sentences: the coverage every absence rests on
    (`coverage`: `findings.coverage_statement(ev)` when already computed)."""
    logs = ", ".join(f"{n} {fmt}" for fmt, n in info.log_files.items()) or "no log files"
    out = [
        "The logs record that a read was allowed and when, not what was seen: the rows "
        "returned and their content are not in them.",
        f"Only the logs given to the tool are covered ({logs} files); a read through a "
        "system whose logs were not provided, or after its logs expired, is not in the "
        "evidence.",
    ]
    if ev.coverage.empty:
        out.append(
            "No coverage analysis (coverage.csv) is in this evidence folder: gaps in the "
            "logs' time span have not been checked."
        )
    else:
        statement = findings.coverage_statement(ev) if coverage is None else coverage
        first = statement.splitlines()[0]
        out.append(f"{first} (coverage.csv; details in the section Coverage of the logs.)")
    out += [f"The run recorded a warning: {warning}" for warning in info.warnings]
    q, u, o = len(ev.quarantine), len(ev.unparsed_statements), len(ev.unexplained_reads)
    out.append(
        f"{_plural(q, 'log line')} could not be read (quarantine.csv)."
        if q
        else "Every log line was read."
    )
    if u:
        out.append(
            f"{_plural(u, 'statement')} could not be analysed, so copies made by them may be "
            "missing (unparsed_statements.csv)."
        )
    if o:
        out.append(
            f"{_plural(o, 'read')} outside every window by someone the baseline does not "
            "allow suggest a window started earlier or ended later than the policy history "
            "says (unexplained_reads.csv)."
        )
    return out


def findings_sentences(ev: Evidence, most: int = 100) -> list[str]:
    """Numbered findings, each a sentence that can be quoted with the file it rests on;
    beyond `most` of a kind, one sentence says how many more the tables list."""
    out: list[str] = []
    zone = case_zone(ev)
    readers = exposure_readers(ev)
    for row in readers.head(most).itertuples():
        org = f" ({row.org})" if row.org else ""
        out.append(
            f"{row.principal}{org}, a {row.kind} account, read {row.tables} "
            f"{_times(int(row.reads), row.first_read, row.last_read, zone)} only because of the "
            "exposure; the data was of kind "
            f"{row.categories or 'unclassified'}"
            + (
                f", and made {_plural(int(row.copies_made), 'copy', 'copies')}."
                if row.copies_made
                else "."
            )
        )
    out += _more(len(readers), most, "reader", "Who read exposed data only because of the exposure")
    made = copies(ev)
    for row in made.head(most).itertuples():
        out.append(
            f"{row.made_by} copied {row.made_from} into {row.copy} at {when_local(row.time, zone)} "
            f"(generation {int(row.generation)})."
        )
    out += _more(len(made), most, "copy", "Copies made from exposed data", "copies")
    later = copy_readers(ev)
    for row in later.head(most).itertuples():
        out.append(
            f"{row.principal} read the copy {row.tables} "
            f"{_times(int(row.reads), row.first_read, row.last_read, zone)}."
        )
    out += _more(len(later), most, "reader of copies", "Who read only copies", "readers of copies")
    return out


def _more(total: int, shown: int, one: str, table: str, many: str | None = None) -> list[str]:
    """The sentence that stands for the rows a list leaves out, if any."""
    if total <= shown:
        return []
    n = total - shown
    return [f'{n:,} more {one if n == 1 else (many or one + "s")}, listed in the table "{table}".']


#: The words the report uses, each defined in one line.
GLOSSARY = {
    "exposure": "a change to the access policy that let people read tables they normally cannot.",
    "exposure window": "the time during which the changed policy was in force for a table "
    "(start inclusive, end exclusive), from the policy history.",
    "baseline": "the access policy in force before the exposure; who it allows is "
    "authorized anyway.",
    "read only the exposure allowed (exposure-enabled read)": "a logged, allowed read of an "
    "exposed table inside its window by someone the baseline does not allow.",
    "reader (principal)": "the user or service account named in the log, as its short name "
    "(or a pseudonym p-... when the evidence was pseudonymized).",
    "copy (derived copy)": "a table or directory written by a statement that read exposed "
    "data; a copy of a copy has a higher generation.",
    "read of a copy (secondary read)": "a read of a copy after it was made, by anyone.",
    "denied": "an attempt the policy refused; no data was returned.",
    "outside the window": "an allowed read by someone the baseline does not allow, before "
    "or after every window: evidence that a window is wrong.",
    "quarantined line": "a log line that could not be parsed; kept with the reason, never "
    "dropped silently.",
    "event_id": "the identifier of one logged event; `forensics trace EVIDENCE EVENT_ID` "
    "prints the raw log line it came from.",
    "manifest": "manifest.json: the fingerprint (sha256) of every input and output file; "
    "`forensics verify` checks that nothing changed.",
}


def exposed_objects(ev: Evidence) -> pd.DataFrame:
    """The exposed tables and views as the scope page lists them."""
    columns = [
        "object",
        "type",
        "sensitivity",
        "windows",
        "baseline_principals",
        "exposure_enabled_principals",
        "exposure_enabled_events",
        "denied_events",
    ]
    zone = case_zone(ev)
    table = ev.objects[columns].assign(windows=_windows_texts(ev.objects["windows"], zone))
    return table.rename(columns={"baseline_principals": "allowed_anyway"})


def _windows_texts(column: pd.Series, zone: str) -> pd.Series:
    """`windows_text` of a whole column, each distinct value once (45,000 exposed objects
    share a handful of windows)."""
    return column.map({w: windows_text(w, zone) for w in column.unique()})


def _when_locals(column: pd.Series, zone: str) -> pd.Series:
    """`when_local` of a whole column of times, each distinct time once."""
    return column.map({t: when_local(t, zone) for t in column.dropna().unique()})


def windows_text(windows: str, zone: str = "UTC") -> str:
    """`start/end;start/end` of objects.csv in the report's time format (the case's local
    time beside UTC)."""
    spans = []
    for window in str(windows).split(";"):
        start, _, end = window.partition("/")
        if start:
            until = when_local(end, zone) if end else "still open"
            spans.append(f"{when_local(start, zone)} to {until}")
    return "; ".join(spans)


def window_rows(ev: Evidence) -> pd.DataFrame:
    """One row per exposure window: table, start, end ('open' when the history has none),
    each UTC with the case's local time beside."""
    table = findings.windows(ev)
    zone = case_zone(ev)
    return table.assign(
        start=_when_locals(table["start"], zone),
        end=_when_locals(table["end"], zone).fillna("still open"),
        hours=table["hours"].round(2),
    )


def outside_reads(ev: Evidence) -> pd.DataFrame:
    """Reads outside every window (unexplained_reads.csv), with their log line and id."""
    reads = ev.unexplained_reads
    return _with_source(reads)[
        ["time", "principal", "object", "engine", "via", "log_line", "trace"]
    ]


def _with_source(events: pd.DataFrame) -> pd.DataFrame:
    """`log_line` (file:line) and the `forensics trace` command that prints it."""
    return events.assign(
        log_line=_log_line(events), trace="forensics trace . " + events["event_id"].astype(str)
    )


def _log_line(rows: pd.DataFrame) -> pd.Series:
    """`file:line` of each row (the raw record `forensics trace` prints)."""
    lines = rows["source_line"].map(lambda n: "" if pd.isna(n) else str(int(n)))
    return rows["source_file"].astype(str) + ":" + lines.astype(str)


def reader_heading(ev: Evidence, principal: str) -> str:
    """The reader page's heading and one sentence saying who this is and what they did."""
    rows = ev.principals[ev.principals["principal"] == principal]
    zone = case_zone(ev)
    if rows.empty:
        who = "not a reader of exposed data or its copies (other accesses are listed below)"
    else:
        row = rows.iloc[0]
        org = f" in {row['org']}" if row["org"] else ""
        who = (
            f"a {row['kind'] or 'unknown'} account{org}: "
            f"{_plural(int(row['exposure_enabled_events']), 'read')} only the exposure "
            f"allowed, {_plural(int(row['secondary_events']), 'read')} of copies, "
            f"{_plural(int(row['derived_copies_made']), 'copy', 'copies')} made; first read "
            f"{when_local(row['first_read'], zone)}, last {when_local(row['last_read'], zone)}"
        )
    return (
        f"<h1>Reader {html.escape(principal)}</h1>"
        f"<p>{html.escape(principal)} is {html.escape(who)}. {html.escape(zone_note(zone))}</p>"
    )


def reader_events(ev: Evidence, principal: str) -> pd.DataFrame:
    """Every event of one principal, in time order, with its log line and trace command."""
    shown = _with_source(findings.principal_events(ev, principal))
    return shown[
        [
            "time",
            "object",
            "classification",
            "engine",
            "action",
            "via",
            "result",
            "query_redacted",
            "log_line",
            "trace",
        ]
    ]


def reader_copies(ev: Evidence, principal: str) -> pd.DataFrame:
    """The copies one principal made, with their log line."""
    made = findings.principal_copies(ev, principal)
    return made.assign(log_line=_log_line(made))[
        ["time", "source_object", "derived_object", "statement_kind", "generation", "log_line"]
    ]


def copy_rows(ev: Evidence) -> pd.DataFrame:
    """derived_copies.csv as the copies page lists it (log line joined)."""
    made = ev.derived_copies
    return made.assign(log_line=_log_line(made))[
        [
            "source_object",
            "derived_object",
            "principal",
            "time",
            "statement_kind",
            "generation",
            "log_line",
        ]
    ]


def object_heading(ev: Evidence, obj: str) -> str:
    """The table page's heading and one sentence: kind of data, windows, readers."""
    rows = ev.objects[ev.objects["object"] == obj]
    zone = case_zone(ev)
    if rows.empty:
        what = "not exposed itself (a copy or a view over exposed data)"
    else:
        row = rows.iloc[0]
        windows = windows_text(row["windows"], zone)
        what = (
            f"a {row['type']} holding {row['sensitivity'] or 'unclassified'} data, exposed "
            f"{windows}; {_plural(int(row['exposure_enabled_principals']), 'reader')} only "
            f"the exposure allowed ({_plural(int(row['exposure_enabled_events']), 'read')}), "
            f"{_plural(int(row['baseline_principals']), 'principal')} allowed anyway"
        )
    return (
        f"<h1>Table {html.escape(obj)}</h1>"
        f"<p>{html.escape(obj)} is {html.escape(what)}. {html.escape(zone_note(zone))}</p>"
    )


def top_objects(ev: Evidence, n: int) -> pd.DataFrame:
    """`findings.top_objects` with its windows in the report's time format."""
    table = findings.top_objects(ev, n)
    zone = case_zone(ev)
    return table.assign(windows=_windows_texts(table["windows"], zone))
