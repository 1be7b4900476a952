"""Findings: the evidence folder read back as DataFrames, and the numbers people ask for.

Notebooks and reports call these; they never recompute evidence, so what a report shows
is exactly what the evidence files say.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forensics.errors import EvidenceError
from forensics.evidence import COVERAGE, CSV_QUOTE, CSV_QUOTED, EVIDENCE_FILES, MANIFEST
from forensics.names import is_object_name
from forensics.subjects import SUBJECT_FILES

_TIME_COLUMNS = (
    "time",
    "first_read",
    "last_read",
    "first_exposure_enabled_read",
    "last_exposure_enabled_read",
)


@dataclass(frozen=True)
class Evidence:
    """The evidence files of one folder, as DataFrames with parsed UTC times."""

    folder: Path
    exposure_enabled_reads: pd.DataFrame
    access_events: pd.DataFrame
    objects: pd.DataFrame
    principals: pd.DataFrame
    derived_copies: pd.DataFrame
    unexplained_reads: pd.DataFrame
    quarantine: pd.DataFrame
    unparsed_statements: pd.DataFrame
    exposure_windows: pd.DataFrame
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)  # empty: no coverage.csv


#: The last evidence folder read, keyed by its files' (path, size, mtime): the report's
#: pages run in one kernel and each reads the same folder (at 1M events, 240,000 access
#: events: seconds each time). Any change to a file is a new key.
_LAST: dict[tuple, Evidence] = {}


def load_evidence(folder: str | Path) -> Evidence:
    """Read an evidence folder written by `forensics investigate` (the folder read last is
    kept, and given again while none of its files changed; its frames are copies that
    share data, so a caller changing one does not change the next caller's)."""
    folder = Path(folder)
    key = _fingerprint(folder)
    if key is None or key not in _LAST:
        evidence = _read_evidence(folder)
        _LAST.clear()
        if key is not None:
            _LAST[key] = evidence
    else:
        evidence = _LAST[key]
    return Evidence(
        **{
            f: (v.copy(deep=False) if isinstance(v, pd.DataFrame) else v)
            for f, v in vars(evidence).items()
        }
    )


def _fingerprint(folder: Path) -> tuple | None:
    """(path, size, mtime) of the manifest and every evidence file, or None if one is
    missing (then the folder is read, and fails, as without a cache)."""
    names = [MANIFEST, *(f"{n}.csv" for n in EVIDENCE_FILES), f"{COVERAGE}.csv"]
    stats = []
    for name in names:
        try:
            st = (folder / name).stat()
        except FileNotFoundError:
            if name == f"{COVERAGE}.csv":
                stats.append((name, None))
                continue
            return None
        stats.append((name, st.st_size, st.st_mtime_ns, st.st_ino))
    return (str(folder.resolve()), tuple(stats))


def _read_evidence(folder: Path) -> Evidence:
    """Read every evidence file of `folder` (no cache)."""
    if not (folder / MANIFEST).is_file():
        where = "" if folder.is_absolute() else f" (relative to {Path.cwd()})"
        raise EvidenceError(
            f"{folder}{where}: no {MANIFEST}; run forensics investigate first, or give the "
            'evidence folder\'s absolute path (papermill: -p evidence_dir "$PWD/out/...")'
        )
    frames = {}
    for name in EVIDENCE_FILES:
        frame = _read_text_csv(folder / f"{name}.csv")
        _unquote(frame)
        for column in _TIME_COLUMNS:
            if column in frame:
                frame[column] = pd.to_datetime(frame[column].replace("", None), utc=True)
        for column in frame.columns:
            if (
                column.endswith(("_events", "_principals", "_read", "generation", "source_line"))
                and column not in _TIME_COLUMNS
            ):
                frame[column] = pd.to_numeric(frame[column].replace("", None))
        frames[name] = frame
    if (folder / f"{COVERAGE}.csv").is_file():
        frames[COVERAGE] = _load_coverage(folder / f"{COVERAGE}.csv")
    return Evidence(folder=folder, **frames)


def _read_text_csv(path: Path) -> pd.DataFrame:
    """An evidence CSV with every cell as text ('' for empty), read by Arrow's multithreaded
    reader (quoted line breaks allowed): the same frame as `pd.read_csv(dtype=str,
    keep_default_na=False)`, in a third of the time (240,000 access events: 5.6 s)."""
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f), [])
    table = pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table.to_pandas().astype(str)


def _unquote(frame: pd.DataFrame) -> None:
    """The logged values in place of their CSV-safe form (`evidence.csv_value`: one leading
    quote dropped), in the columns that have one: finding none costs a tenth of replacing
    (240,000 access events: 0.04 s against 0.4 s), and most columns have none."""
    for column in frame.columns:
        if frame[column].str.startswith(CSV_QUOTE).any():
            frame[column] = frame[column].str.replace(CSV_QUOTED, "", n=1, regex=True)


def _load_coverage(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    _unquote(frame)
    for column in ("start", "end"):
        frame[column] = pd.to_datetime(frame[column].replace("", None), utc=True)
    frame["events"] = pd.to_numeric(frame["events"])
    return frame


def headline(ev: Evidence) -> pd.DataFrame:
    """The counts a regulator asks for first, each with the evidence file that backs it."""
    reads = ev.exposure_enabled_reads
    ee_events = ev.access_events[ev.access_events["classification"] == "exposure_enabled"]
    rows = [
        ("exposed objects", len(ev.objects), "objects.csv"),
        (
            "exposed objects read by someone only the exposure let in",
            reads["object"].nunique(),
            "exposure_enabled_reads.csv",
        ),
        (
            "principals with exposure-enabled reads",
            reads["principal"].nunique(),
            "exposure_enabled_reads.csv",
        ),
        *(
            (
                f"principals with exposure-enabled reads: {row.kind}",
                row.principals,
                "principals.csv",
            )
            for row in readers_by_kind(ev).itertuples()
        ),
        (
            "sensitivity categories read by someone only the exposure let in",
            len(by_category(ev)),
            "exposure_enabled_reads.csv",
        ),
        (
            "exposure-enabled read events",
            int(reads["read_events"].sum()),
            "exposure_enabled_reads.csv",
        ),
        (
            "derived copies of exposed data",
            ev.derived_copies["derived_object"].nunique(),
            "derived_copies.csv",
        ),
        (
            "reads outside the windows (window may be wrong)",
            len(ev.unexplained_reads),
            "unexplained_reads.csv",
        ),
        ("input lines quarantined", len(ev.quarantine), "quarantine.csv"),
        (
            "statements in scope that could not be read",
            len(ev.unparsed_statements),
            "unparsed_statements.csv",
        ),
        ("first exposure-enabled read", _when(ee_events["time"].min()), "access_events.csv"),
        ("last exposure-enabled read", _when(ee_events["time"].max()), "access_events.csv"),
    ]
    covered = window_coverage(ev)  # computed once: the note below reads it too
    if len(covered):
        share = (
            covered["covered_hours"].sum() / covered["hours"].sum()
            if covered["hours"].sum()
            else 1.0
        )
        rows += [
            ("exposure-window time covered by the logs", f"{share:.0%}", "coverage.csv"),
            (
                "gaps, expired ranges and unaudited objects in the windows",
                int(covered["missing"].sum()),
                "coverage.csv",
            ),
        ]
    table = pd.DataFrame(rows, columns=["measure", "value", "evidence_file"])
    table["coverage"] = coverage_note(ev, covered)  # every count holds as far as the logs do
    return table


def top_principals(ev: Evidence, n: int = 15) -> pd.DataFrame:
    """Principals by exposure-enabled read events, most first."""
    reads = ev.exposure_enabled_reads
    table = (
        reads.groupby("principal")
        .agg(
            objects=("object", "nunique"),
            read_events=("read_events", "sum"),
            first_read=("first_read", "min"),
            last_read=("last_read", "max"),
        )
        .reset_index()
        .sort_values(["read_events", "principal"], ascending=[False, True])
    )
    return table.head(n).reset_index(drop=True)


def top_objects(ev: Evidence, n: int = 15) -> pd.DataFrame:
    """Exposed objects by number of principals who read them only because of the exposure."""
    columns = [
        "object",
        "sensitivity",
        "exposure_enabled_principals",
        "exposure_enabled_events",
        "baseline_principals",
        "windows",
    ]
    table = ev.objects[columns].sort_values(
        ["exposure_enabled_principals", "exposure_enabled_events", "object"],
        ascending=[False, False, True],
    )
    return table.head(n).reset_index(drop=True)


def _when(moment: pd.Timestamp) -> str:
    return "" if pd.isna(moment) else moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def check_principal(ev: Evidence, principal: str) -> str:
    """`principal` if it is a name found in the evidence; else a clear error.

    Membership is the check: a log may name a principal in any characters (`<script>`,
    `=1+2`), and a report that refused them would hide exactly the reader to look at."""
    if not isinstance(principal, str) or len(principal) > 256:
        raise EvidenceError(f"principal {str(principal)[:80]!r} is not a principal name")
    if not ev.access_events["principal"].eq(principal).any():  # no set of every name (slow)
        raise EvidenceError(
            f"principal {principal[:80]!r} has no events in {ev.folder}/access_events.csv"
        )
    return principal


def check_object(ev: Evidence, obj: str) -> str:
    """`obj` if it is a `db.table` name found in the evidence; else a clear error."""
    if not isinstance(obj, str) or not is_object_name(obj):
        raise EvidenceError(f"object {str(obj)[:80]!r} is not a db.table name")
    if not (ev.access_events["object"].eq(obj).any() or ev.objects["object"].eq(obj).any()):
        raise EvidenceError(f"object {obj} is not in the evidence of {ev.folder}")
    return obj


def principal_events(ev: Evidence, principal: str) -> pd.DataFrame:
    """Every event of one principal in time order, with where it was logged."""
    check_principal(ev, principal)
    events = ev.access_events[ev.access_events["principal"] == principal]
    columns = [
        "time",
        "object",
        "classification",
        "engine",
        "action",
        "via",
        "result",
        "query_redacted",
        "source_file",
        "source_line",
        "event_id",
    ]
    return events.sort_values(["time", "object", "event_id"])[columns].reset_index(drop=True)


def principal_copies(ev: Evidence, principal: str) -> pd.DataFrame:
    """Copies this principal made from exposed data (or from copies of it)."""
    check_principal(ev, principal)
    copies = ev.derived_copies[ev.derived_copies["principal"] == principal]
    return copies.sort_values(["time", "derived_object"]).reset_index(drop=True)


def object_readers(ev: Evidence, obj: str) -> pd.DataFrame:
    """Who read one object, when first and last, how often and through which path."""
    check_object(ev, obj)
    events = ev.access_events[ev.access_events["object"] == obj]
    table = (
        events.groupby(["principal", "classification"])
        .agg(
            events=("event_id", "count"),
            first=("time", "min"),
            last=("time", "max"),
            via=("via", lambda v: ";".join(sorted(set(v)))),
            engines=("engine", lambda v: ";".join(sorted(set(v)))),
        )
        .reset_index()
    )
    return table.sort_values(["first", "principal", "classification"]).reset_index(drop=True)


def by_category(ev: Evidence) -> pd.DataFrame:
    """Exposure-enabled readers and read events per sensitivity category."""
    reads = ev.exposure_enabled_reads.assign(
        category=ev.exposure_enabled_reads["sensitivity"].replace("", "(none)").str.split(";")
    ).explode("category")
    table = (
        reads.groupby("category")
        .agg(
            principals=("principal", "nunique"),
            objects=("object", "nunique"),
            read_events=("read_events", "sum"),
        )
        .reset_index()
    )
    return table.sort_values(["principals", "category"], ascending=[False, True]).reset_index(
        drop=True
    )


def by_engine_and_path(ev: Evidence) -> pd.DataFrame:
    """Exposure-enabled read events per engine and access path (direct, view, file, Trino)."""
    events = ev.access_events[ev.access_events["classification"] == "exposure_enabled"]
    path = events["via"].str.replace(r"^view:.*$", "view", regex=True)
    table = (
        events.assign(path=path)
        .groupby(["engine", "path"])
        .agg(events=("event_id", "count"), principals=("principal", "nunique"))
        .reset_index()
    )
    return table.sort_values(
        ["events", "engine", "path"], ascending=[False, True, True]
    ).reset_index(drop=True)


def windows(ev: Evidence) -> pd.DataFrame:
    """One row per exposure window of each object: start, end and length in hours.

    Each distinct `windows` value is parsed once (45,000 exposed objects share a handful)
    and joined back to its objects."""
    column = ev.objects["windows"].fillna("").astype(str)
    parts = [
        (value, start, end)
        for value in column.unique()
        for start, _, end in (w.partition("/") for w in value.split(";"))
        if start
    ]
    distinct = pd.DataFrame(parts, columns=["windows", "start", "end"])
    distinct["start"] = pd.to_datetime(distinct["start"], utc=True)
    distinct["end"] = pd.to_datetime(distinct["end"].replace("", None), utc=True)
    objects = pd.DataFrame({"object": ev.objects["object"].to_numpy(), "windows": column})
    table = objects.merge(distinct, on="windows")[["object", "start", "end"]]
    table["hours"] = (table["end"] - table["start"]).dt.total_seconds() / 3600
    return table.sort_values(["start", "object"]).reset_index(drop=True)


def secondary_readers(ev: Evidence) -> pd.DataFrame:
    """Who read a derived copy after it was made (secondary reads), per copy."""
    events = ev.access_events[ev.access_events["classification"] == "secondary"]
    table = (
        events.groupby(["object", "principal"])
        .agg(events=("event_id", "count"), first=("time", "min"), last=("time", "max"))
        .reset_index()
        .rename(columns={"object": "copy"})
    )
    return table.sort_values(["copy", "first", "principal"]).reset_index(drop=True)


def reader_matrix(ev: Evidence, n: int = 30) -> pd.DataFrame:
    """Exposure-enabled read events, top `n` principals x top `n` objects (0 = none)."""
    reads = ev.exposure_enabled_reads
    if reads.empty:
        return pd.DataFrame()
    top_p = top_principals(ev, n)["principal"]
    top_o = reads.groupby("object")["read_events"].sum().sort_values(ascending=False).head(n).index
    subset = reads[reads["principal"].isin(top_p) & reads["object"].isin(top_o)]
    matrix = subset.pivot_table(
        index="principal", columns="object", values="read_events", aggfunc="sum", fill_value=0
    )
    return matrix.sort_index().sort_index(axis=1)


def readers_by_kind(ev: Evidence) -> pd.DataFrame:
    """Distinct principals with exposure-enabled reads, per kind (human, service, unknown)."""
    readers = set(ev.exposure_enabled_reads["principal"])
    people = ev.principals[ev.principals["principal"].isin(readers)]
    kinds = people.assign(kind=people["kind"].replace("", "unknown"))
    table = kinds.groupby("kind").agg(principals=("principal", "nunique")).reset_index()
    return table.sort_values("kind").reset_index(drop=True)


def headline_html(ev: Evidence, link_prefix: str = "") -> str:
    """The headline as an HTML table whose evidence column links to the files."""
    table = headline(ev)
    table["evidence_file"] = [
        f'<a href="{html.escape(link_prefix + name, quote=True)}">{html.escape(name)}</a>'
        for name in table["evidence_file"]
    ]
    table["measure"] = table["measure"].map(html.escape)
    table["value"] = table["value"].map(lambda v: html.escape(str(v)))
    table["coverage"] = table["coverage"].map(html.escape)
    return table.to_html(index=False, escape=False)


def display_options() -> None:
    """Show whole cell texts and long tables in notebooks (pandas truncates at 50 chars)."""
    pd.set_option("display.max_colwidth", 300)
    pd.set_option("display.max_rows", 500)


def baseline_readers(ev: Evidence) -> pd.DataFrame:
    """Who read exposed objects with authorization the baseline already gave them."""
    events = ev.access_events[ev.access_events["classification"] == "baseline"]
    table = (
        events.groupby(["object", "principal"])
        .agg(events=("event_id", "count"), first=("time", "min"), last=("time", "max"))
        .reset_index()
    )
    return table.sort_values(["object", "principal"]).reset_index(drop=True)


# --- coverage: what the logs could not show (coverage.csv) ----------------------------------

#: Where an open interval of coverage.csv is taken to end (fits every datetime unit).
_OPEN_END = pd.Timestamp("2200-01-01", tz="UTC")
#: Statuses of coverage.csv that say events may be missing from the evidence.
MISSING = ("gap", "expired", "unaudited")


def window_coverage(
    ev: Evidence, starts: set[pd.Timestamp] | None = None, spans: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per exposure window interval (objects sharing it counted): its length, how much of
    it the logs covered (any source), by which sources (`format source share`, `;`-joined)
    and how many gaps, expired ranges and unaudited objects overlap it. With `starts`, only
    the intervals starting then (one object's page: a few of thousands, the same rows).
    `spans`: `windows(ev)` when already computed."""
    columns = ["window", "objects", "hours", "covered_hours", "sources", "missing", "complete"]
    spans = windows(ev) if spans is None else spans
    if starts is not None:
        spans = spans[spans["start"].isin(starts)]
    if spans.empty or ev.coverage.empty:
        return pd.DataFrame(columns=columns)
    cov = ev.coverage
    last = cov[["start", "end"]].max().max()
    rows = []
    for (start, end), group in spans.groupby(["start", "end"], dropna=False, sort=True):
        finish = end if pd.notna(end) else max(last, start)
        hours = (finish - start).total_seconds() / 3600
        covered = cov[(cov["status"] == "covered") & _overlaps(cov, start, finish)]
        by_source = []
        for (fmt, src), runs in covered.groupby(["source_format", "source"], sort=True):
            share = _hours_inside(runs, start, finish) / hours if hours else 1.0
            by_source.append(f"{fmt} {src} {share:.0%}")
        union = _hours_inside(_union(covered), start, finish)
        objects = set(group["object"])
        missing = _missing(ev, start, finish, objects)
        rows.append(
            (
                f"{_when(start)}/{_when(end)}",
                len(objects),
                hours,
                union,
                "; ".join(by_source),
                len(missing),
                missing.empty and union >= hours - 1e-9,
            )
        )
    return pd.DataFrame(rows, columns=columns)


def coverage_gaps(
    ev: Evidence, obj: str | None = None, spans: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Gaps, expired ranges and unaudited objects overlapping an exposure window (of `obj`
    when given), in time order: what the logs could not show (`spans`: `windows(ev)` when
    already computed)."""
    columns = ["source_format", "source", "start", "end", "status", "reason", "object"]
    spans = windows(ev) if spans is None else spans
    if obj is not None:
        spans = spans[spans["object"] == obj]
    if spans.empty or ev.coverage.empty:
        return pd.DataFrame(columns=columns)
    found = []
    for (start, end), group in spans.groupby(["start", "end"], dropna=False, sort=True):
        finish = end if pd.notna(end) else _OPEN_END
        found.append(_missing(ev, start, finish, set(group["object"])))
    table = pd.concat(found).drop_duplicates()[columns]
    return table.sort_values(["start", "source_format", "source", "object"]).reset_index(drop=True)


def coverage_note(ev: Evidence, table: pd.DataFrame | None = None) -> str:
    """One line to stand beside every count: whether the windows' coverage was complete
    (`table`: `window_coverage(ev)`, when already computed)."""
    table = window_coverage(ev) if table is None else table
    if ev.coverage.empty:
        return "coverage unknown (no coverage.csv)"
    if table.empty:
        return "no exposure window"
    share = table["covered_hours"].sum() / table["hours"].sum() if table["hours"].sum() else 1.0
    if table["complete"].all():
        return f"complete: windows {share:.0%} covered, no gap (coverage.csv)"
    return (
        f"not complete: windows {share:.0%} covered; {int(table['missing'].sum())} gaps, "
        "expired ranges or unaudited objects overlap them (coverage.csv)"
    )


def coverage_basis(ev: Evidence) -> str:
    """What the coverage ledger rests on, as the manifest's `coverage.basis` says: the log
    files themselves, or (a warehouse run) the hourly counts the warehouse aggregated, on
    which sequence numbers, cut or missing rotated files, Solr TTL and NameNode failovers
    cannot be checked. Empty when the manifest does not say (an older one)."""
    try:
        manifest = json.loads((ev.folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    coverage = manifest.get("coverage") if isinstance(manifest, dict) else None
    basis = coverage.get("basis") if isinstance(coverage, dict) else None
    return basis if isinstance(basis, str) else ""


def coverage_statement(ev: Evidence, obj: str | None = None) -> str:
    """What the logs could and could not show over the exposure windows (of `obj` when
    given), as plain text for the first page: every window with the sources that covered
    it, then every gap, expired range and unaudited policy overlapping a window. A count of
    reads (none included) holds only as far as this coverage."""
    if ev.coverage.empty:
        return "Coverage of the exposure windows: unknown (the evidence has no coverage.csv)."
    spans = windows(ev)  # once for the windows' coverage and the gaps (~0.04 s at 1M)
    if obj is None:
        table = window_coverage(ev, spans=spans)
    else:
        starts = set(spans.loc[spans["object"] == obj, "start"])
        table = window_coverage(ev, starts, spans)
        own = {_when(start) for start in starts}
        table = table[table["window"].str.split("/").str[0].isin(own)]
    if table.empty:
        return "No exposure window" + (f" of {obj}." if obj else ".")
    complete = bool(table["complete"].all())
    subject = f"the exposure windows of {obj}" if obj else "the exposure windows"
    lines = [
        f"Coverage of {subject}: {'complete' if complete else 'not complete'}."
        + (
            ""
            if complete
            else " What the logs could not show is listed below; an absence "
            "of reads there proves nothing."
        )
    ]
    basis = coverage_basis(ev)
    if obj is None and basis:
        lines.append(f"This coverage rests on the {basis}.")
    for row in table.itertuples():
        share = row.covered_hours / row.hours if row.hours else 1.0
        lines.append(
            f"- window {row.window} ({row.objects} object{'s' if row.objects != 1 else ''}, "
            f"{row.hours:.1f} h): {share:.0%} covered; by {row.sources or 'no source'}"
        )
    for row in coverage_gaps(ev, obj, spans).itertuples():
        span = f"from {_when(row.start)} to {_when(row.end) or 'the end'}"
        if row.status == "unaudited":
            why = (
                f"{row.reason} decided its accesses with auditing off"
                if row.reason.startswith("policy ")
                else row.reason
            )
            lines.append(f"- unaudited: {row.object or 'every object'} {span} ({why})")
        else:
            lines.append(f"- {row.status}: {row.source_format} {row.source} {span} ({row.reason})")
    summarized = ev.coverage[
        (ev.coverage["status"] == "summarized") & (ev.coverage["windows_overlapped"] != "")
    ]
    if obj is None and len(summarized):
        lines.append(
            f"Note: in {len(summarized)} hour(s) of the windows a Ranger plugin summarized events "
            "(event_count > 1): those accesses are counted, their times approximate."
        )
    return "\n".join(lines)


def object_coverage(ev: Evidence, obj: str) -> pd.DataFrame:
    """The coverage rows that bear on one object: its unaudited rows and every source's rows
    overlapping its windows."""
    check_object(ev, obj)
    if ev.coverage.empty:
        return ev.coverage
    spans = windows(ev)
    spans = spans[spans["object"] == obj]
    cov = ev.coverage
    keep = (cov["object"] == obj) | ((cov["object"] == "") & _any_window(cov, spans))
    return cov[keep].reset_index(drop=True)


def _overlaps(cov: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    finish = cov["end"].fillna(_OPEN_END)
    return (cov["start"] < end) & (
        (finish > start) | ((finish == cov["start"]) & (cov["start"] >= start))
    )


def _any_window(cov: pd.DataFrame, spans: pd.DataFrame) -> pd.Series:
    found = pd.Series(False, index=cov.index)
    for w in spans.itertuples():
        end = w.end if pd.notna(w.end) else _OPEN_END
        found |= _overlaps(cov, w.start, end)
    return found


def _missing(
    ev: Evidence, start: pd.Timestamp, end: pd.Timestamp, objects: set[str]
) -> pd.DataFrame:
    cov = ev.coverage
    hit = cov["status"].isin(MISSING) & _overlaps(cov, start, end)
    # each of the few coverage rows looked up in the set (not `isin` of 45,000 names,
    # which builds an Arrow array of them at every call)
    listed = pd.Series([name in objects for name in cov["object"]], index=cov.index, dtype=bool)
    hit &= (cov["status"] != "unaudited") | listed | (cov["object"] == "")
    return cov[hit]


def _union(runs: pd.DataFrame) -> pd.DataFrame:
    """Covered intervals of several sources merged into one set of intervals."""
    merged: list[list] = []
    far = _OPEN_END
    for start, end in sorted(zip(runs["start"], runs["end"].fillna(far), strict=True)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return pd.DataFrame(merged, columns=["start", "end"])


def _hours_inside(runs: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> float:
    far = _OPEN_END
    total = 0.0
    for a, b in zip(runs["start"], runs["end"].fillna(far), strict=True):
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total += (hi - lo).total_seconds() / 3600
    return total


# --- data subjects and what each read read (columns, partitions) ------------------------

_SUBJECT_NUMBERS = (
    "subjects_lower",
    "subjects_upper",
    "records_lower",
    "records_upper",
    "subjects",
    "records",
    "readers",
)


def subject_file(ev: Evidence, name: str) -> pd.DataFrame | None:
    """One subject evidence file as a DataFrame (numbers as numbers, times as UTC), or
    None when the case had no `subjects:` input."""
    if name not in SUBJECT_FILES:
        raise EvidenceError(f"{name}: not a subject evidence file; use {', '.join(SUBJECT_FILES)}")
    path = ev.folder / f"{name}.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    _unquote(frame)
    for column in frame.columns:
        if column in _SUBJECT_NUMBERS:
            frame[column] = pd.to_numeric(frame[column].replace("", None))
        elif column in _TIME_COLUMNS:
            frame[column] = pd.to_datetime(frame[column].replace("", None), utc=True)
    return frame


def subjects_concerned(ev: Evidence) -> pd.DataFrame | None:
    """The numbers a breach notification states, per category and for all reads: data
    subjects and records concerned, lower and upper bound (None without `subjects:`)."""
    table = subject_file(ev, "subjects_concerned")
    if table is None:
        return None
    table = table.assign(reads=table["event_ids"].map(lambda v: len(v.split(";")) if v else 0))
    return table.drop(columns=["event_ids"])


def subjects_html(ev: Evidence, link_prefix: str = "") -> str:
    """The subjects and records concerned as an HTML table linked to its evidence file, or
    a sentence saying they are not known and why."""
    table = subjects_concerned(ev)
    if table is None:
        return (
            "<p>The case has no <code>subjects:</code> input, so the data subjects and "
            "records concerned are not known; <code>forensics subjects query CASE</code> "
            "prints the queries their owner can run to give them.</p>"
        )
    link = html.escape(link_prefix + "subjects_concerned.csv", quote=True)
    basis = ", ".join(sorted(set(table["basis"])))
    note = (
        f'<p>From <a href="{link}">subjects_concerned.csv</a> (basis: {html.escape(basis)}). '
        "Lower bound: the partitions the exposure-enabled reads could have read; upper bound: "
        "the whole objects they read. <code>(all)</code> counts every read, including reads "
        "of no sensitive column.</p>"
    )
    body = table[
        ["category", "subjects_lower", "subjects_upper", "records_lower", "records_upper", "reads"]
    ]
    return note + body.to_html(index=False, escape=True, na_rep="not given")


def object_columns(ev: Evidence, obj: str) -> pd.DataFrame:
    """What each principal read of one object: the columns (`*`: unknown), their
    categories and the partitions (`*`: all), per classification and access path."""
    check_object(ev, obj)
    events = ev.access_events[ev.access_events["object"] == obj]
    if "columns" not in events:
        return pd.DataFrame(columns=["principal", "classification", "via", "columns"])

    def joined(values: pd.Series) -> str:
        parts = {p for v in values for p in str(v).split(";") if p}
        return "*" if "*" in parts else ";".join(sorted(parts))

    table = (
        events.groupby(["principal", "classification", "via"])
        .agg(
            columns=("columns", joined),
            categories=("categories", joined),
            partitions=("partitions", joined),
        )
        .reset_index()
    )
    return table.sort_values(["classification", "principal", "via"]).reset_index(drop=True)
