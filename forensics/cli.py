"""The `forensics` command: the only place that prints, picks exit codes and shows tracebacks.

Library errors become one line on stderr and a non-zero exit status; `--debug` shows the
traceback instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from forensics.errors import EvidenceError, ForensicsError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except ForensicsError as exc:
        if args.debug:
            raise
        print(f"forensics: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("forensics: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours, not the user's input: say so, keep it short
        if args.debug:
            raise
        if type(exc).__name__ == "OutOfMemoryException":  # duckdb's, without importing it
            from forensics.engine import DEFAULT_MEMORY_LIMIT

            limit = getattr(args, "memory_limit", None) or f"the default {DEFAULT_MEMORY_LIMIT}"
            print(
                f"forensics: error: the engine ran out of memory within its limit ({limit}) "
                "on a step that cannot spill to disk; nothing was written. Rerun with a "
                "larger --memory-limit.",
                file=sys.stderr,
            )
            return 1
        print(
            f"forensics: internal error ({type(exc).__name__}); nothing was written. "
            "Rerun with --debug and report the traceback.",
            file=sys.stderr,
        )
        return 70


def _parser() -> argparse.ArgumentParser:
    from forensics.engine import DEFAULT_MEMORY_LIMIT

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser = argparse.ArgumentParser(
        prog="forensics",
        description="Reconstruct who read which exposed warehouse tables, from the logs.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    evidence_opts = argparse.ArgumentParser(add_help=False)
    evidence_opts.add_argument("case", help="the case file (YAML)")
    evidence_opts.add_argument("--out", required=True, help="evidence folder to (re)write")
    evidence_opts.add_argument(
        "--keep-literals",
        action="store_true",
        help="keep literals in query_redacted (they may contain exposed data)",
    )
    evidence_opts.add_argument(
        "--pseudonymize", metavar="KEYFILE", help="replace principals by keyed pseudonyms"
    )
    evidence_opts.add_argument(
        "--seal", metavar="KEYFILE", help="seal the manifest with an HMAC under this key"
    )
    evidence_opts.add_argument(
        "--allow-quarantine",
        action="store_true",
        help="go on when a log source's lines were (nearly) all quarantined, recording it "
        "as a warning in the manifest (by default the run stops: the format is likely wrong)",
    )
    evidence_opts.add_argument(
        "--memory-limit",
        metavar="SIZE",
        type=_memory_limit,
        default=None,
        help=f"the engine's memory, such as 2GB (default {DEFAULT_MEMORY_LIMIT}: what keeps "
        "the whole run within 2 GiB, or half the machine's memory); beyond it the engine "
        "spills to a private temporary folder: slower, same evidence",
    )

    evidence_opts.add_argument(
        "--cache",
        metavar="DIR",
        help="keep each log file's normalized events, the scope and the evidence in this "
        "private folder and reuse each when everything it was made from is unchanged "
        "(default: OUT.cache beside the evidence folder); it holds what the logs hold",
    )
    evidence_opts.add_argument(
        "--no-cache",
        action="store_true",
        help="read every log file and keep nothing beside the evidence",
    )

    warehouse_opts = argparse.ArgumentParser(add_help=False)
    warehouse_opts.add_argument(
        "--profile",
        metavar="NAME",
        help="read the normalized events where they are kept: the warehouse this connection "
        "profile names (default: the case's profile:, else the embedded engine on the logs)",
    )
    warehouse_opts.add_argument(
        "--profiles",
        metavar="FILE",
        help="the profiles file (default: $FORENSICS_PROFILES, "
        "else ~/.config/forensics/profiles.yaml)",
    )

    p = sub.add_parser(
        "investigate",
        parents=[common, evidence_opts, warehouse_opts],
        help="write the evidence folder for a case",
        epilog="example: forensics investigate fixtures/incident-small/case.yaml --out out/ev",
    )
    p.set_defaults(run=_investigate)

    p = sub.add_parser(
        "report",
        parents=[common, evidence_opts, warehouse_opts],
        help="write the evidence and the notebook report beside it",
        epilog="example: forensics report fixtures/incident-small/case.yaml --out out/ev",
    )
    p.add_argument(
        "--top",
        type=int,
        default=5,
        metavar="N",
        help="also render one page for each of the N top readers and objects (default 5)",
    )
    p.set_defaults(run=_report)

    p = sub.add_parser(
        "verify",
        parents=[common],
        help="re-check an evidence folder against its manifest",
        epilog="example: forensics verify out/ev --case fixtures/incident-small/case.yaml",
    )
    p.add_argument("folder", help="the evidence folder")
    p.add_argument("--case", help="also re-hash the case's inputs")
    p.add_argument("--seal", metavar="KEYFILE", help="also check the manifest's seal")
    p.set_defaults(run=_verify)

    p = sub.add_parser(
        "trace",
        parents=[common],
        help="print the raw input line(s) behind an evidence event",
        epilog="example: forensics trace out/ev EVENT_ID",
    )
    p.add_argument("folder", help="the evidence folder")
    p.add_argument("event_id", help="an event_id from access_events.csv")
    p.add_argument("--case", help="the case file, if it moved since the run")
    p.set_defaults(run=_trace)

    export = sub.add_parser("export", parents=[common], help="the evidence for other tools")
    esub = export.add_subparsers(dest="export_command", metavar="SUBCOMMAND", required=True)
    p = esub.add_parser(
        "timesketch",
        parents=[common],
        help="every access event as Timesketch JSON lines (message, datetime, timestamp_desc)",
        epilog="example: forensics export timesketch out/ev --out out/ev-timesketch.jsonl",
    )
    p.add_argument("folder", help="the evidence folder")
    p.add_argument("--out", required=True, help="the JSON lines file to write")
    p.set_defaults(run=_export_timesketch)
    p = esub.add_parser(
        "notification",
        parents=[common],
        help="every reader with org, kind, tables, categories, first/last read, event ids",
        epilog="example: forensics export notification out/ev --out out/notification.csv",
    )
    p.add_argument("folder", help="the evidence folder")
    p.add_argument("--out", required=True, help="the CSV file to write")
    p.set_defaults(run=_export_notification)

    sql = sub.add_parser("sql", parents=[common], help="statement analysis").add_subparsers(
        dest="sql_command", metavar="SUBCOMMAND", required=True
    )
    p = sql.add_parser(
        "objects",
        parents=[common],
        help="objects each statement read and wrote, one JSON line per statement",
        epilog="example: forensics sql objects --sql 'SELECT * FROM mci.keystrokes'",
    )
    p.add_argument("file", nargs="?", help="JSON lines with id, query, database, views")
    p.add_argument("--sql", help="one statement instead of a file")
    p.add_argument("--database", default="default", help="current database (with --sql)")
    p.set_defaults(run=_sql_objects)

    subjects = sub.add_parser("subjects", parents=[common], help="data subjects in exposed data")
    ssub = subjects.add_subparsers(dest="subjects_command", metavar="SUBCOMMAND", required=True)
    p = ssub.add_parser(
        "query",
        parents=[common],
        help="print one read-only HiveQL per exposed table, for its owner to run: distinct "
        "data subjects and records per partition (the subjects: counts file)",
        epilog="example: forensics subjects query fixtures/incident-small/case.yaml",
    )
    p.add_argument("case", help="the case file (YAML)")
    p.add_argument(
        "--index",
        action="store_true",
        help="one row per subject and partition instead (the subjects: index file)",
    )
    p.add_argument(
        "--subject-column",
        metavar="COLUMN",
        help="the column naming the subject where the catalog lists no subject_column",
    )
    p.set_defaults(run=_subjects_query)

    policy = sub.add_parser("policy", parents=[common], help="Ranger policy evaluation")
    psub = policy.add_subparsers(dest="policy_command", metavar="SUBCOMMAND", required=True)
    p = psub.add_parser(
        "check",
        parents=[common],
        help="Ranger's decision for each request",
        epilog="example: forensics policy check POLICIES.json --user alice --groups analysts "
        "--access select --resource mci/keystrokes",
    )
    p.add_argument("policies", help="Ranger policy export (JSON)")
    p.add_argument("requests", nargs="?", help="JSON lines of requests")
    p.add_argument("--service-def", default=None, help="service definition JSON (default: hive)")
    p.add_argument("--roles", default=None, help="Ranger roles export (JSON)")
    p.add_argument("--tag-policies", default=None, help="the tag service's policy export")
    p.add_argument("--tags", default=None, help="ServiceTags export (the resources' tags)")
    p.add_argument("--user")
    p.add_argument("--groups", default="", help="comma-separated groups")
    p.add_argument("--access", default="select")
    p.add_argument("--resource", help="db/table[/column] for hive, a path for hdfs")
    p.set_defaults(run=_policy_check)
    p = psub.add_parser(
        "who-can",
        parents=[common],
        help="the directory's principals allowed to read an object at a time",
        epilog="example: forensics policy who-can CASE.yaml --object mci.keystrokes "
        "--at 2026-06-18T10:00:00Z",
    )
    p.add_argument("case", help="the case file (YAML)")
    p.add_argument("--object", required=True, help="db.table")
    p.add_argument("--at", required=True, help="ISO-8601 time with Z or an offset")
    p.set_defaults(run=_who_can)
    return parser


def _who_can(args: argparse.Namespace) -> int:
    from forensics.case import load_case, parse_instant
    from forensics.catalog import load_catalog
    from forensics.errors import CaseError
    from forensics.names import is_object_name
    from forensics.scope import who_can

    if not is_object_name(args.object):
        raise CaseError(f"--object: {args.object[:60]!r} is not a db.table name")
    case = load_case(args.case)
    at = parse_instant(args.at, "--at", case.timezone)
    for grant in who_can(case, load_catalog(case), args.object.lower(), at):
        print(f"{grant.principal}\t{grant.construct}\t{grant.snapshot}")
    return 0


def _investigate(args: argparse.Namespace) -> int:
    from forensics.pushdown import investigate_where_kept

    out = investigate_where_kept(_settings(args), args.profile, args.profiles, _progress())
    _print_warnings(out)
    print(f"evidence: {out}")
    _closing_summary(out)
    return 0


def _print_warnings(out: Path) -> None:
    """The warnings the run recorded in its manifest, on stderr."""
    from forensics.evidence import read_manifest

    manifest = read_manifest(out)
    cache = manifest.get("run", {}).get("cache", {})
    for warning in [*manifest.get("warnings", []), *cache.get("warnings", [])]:
        print(f"forensics: warning: {warning}", file=sys.stderr)


def _progress() -> Callable[[str], None] | None:
    """Warehouse query progress on stderr, on a terminal only."""
    from forensics.ingest import show_progress

    return _warehouse_progress if show_progress() else None


def _warehouse_progress(message: str) -> None:
    print(f"\rwarehouse query {message}", end="", file=sys.stderr, flush=True)


def _report(args: argparse.Namespace) -> int:
    from forensics.report import run_report

    on_page = _page_progress if _progress() is not None else None
    out, index = run_report(
        _settings(args), args.top, args.profile, args.profiles, _progress(), on_page
    )
    if on_page is not None:
        print(file=sys.stderr)  # end the progress line
    _print_warnings(out)
    print(f"evidence: {out}")
    print(f"report:   {index}")
    _closing_summary(out)
    return 0


def _page_progress(done: int, total: int, title: str) -> None:
    print(f"\r\033[Kreport page {done}/{total}: {title[:60]}", end="", file=sys.stderr, flush=True)


def _closing_summary(folder: Path) -> None:
    """The headline figures, on a terminal only (quiet under CI, papermill and pipes)."""
    if _progress() is None:
        return
    from forensics.findings import load_evidence
    from forensics.narrative import figures

    for figure in figures(load_evidence(folder)):
        print(f"  {figure.value:>8,}  {figure.label}")


def _settings(args: argparse.Namespace):
    from forensics.errors import InputError
    from forensics.ingest.cache import default_folder
    from forensics.investigation import Settings

    if args.no_cache and args.cache:
        raise InputError("give --cache DIR or --no-cache, not both")
    settings = Settings.build(
        args.case,
        args.out,
        args.keep_literals,
        args.pseudonymize,
        args.seal,
        allow_quarantine=args.allow_quarantine,
        cache=None if args.no_cache else args.cache or default_folder(Path(args.out)),
    )
    if args.memory_limit is not None:
        settings = dataclasses.replace(settings, memory_limit=args.memory_limit)
    return settings


def _memory_limit(text: str) -> str:
    from forensics.engine import memory_limit

    try:
        return memory_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _verify(args: argparse.Namespace) -> int:
    from forensics.case import load_case
    from forensics.evidence import verify
    from forensics.privacy import load_key

    case = load_case(args.case) if args.case else None
    key = load_key(args.seal, "seal") if args.seal else None
    problems = verify(Path(args.folder), case, key)
    for problem in problems:
        print(f"DIFFERS {problem}")
    if problems:
        raise EvidenceError(f"{args.folder}: {len(problems)} difference(s) from the manifest")
    print(f"ok: {args.folder} matches its manifest")
    return 0


def _trace(args: argparse.Namespace) -> int:
    from forensics.provenance import trace

    for hit in trace(Path(args.folder), args.event_id, Path(args.case) if args.case else None):
        print(f"{hit.source_file}:{hit.source_line}: {hit.text}")
    return 0


def _export_timesketch(args: argparse.Namespace) -> int:
    from forensics.evidence import read_manifest
    from forensics.export import write_timesketch
    from forensics.findings import load_evidence

    case = str(read_manifest(Path(args.folder)).get("case", ""))
    count = write_timesketch(load_evidence(args.folder), case, Path(args.out))
    print(f"timesketch: {count} events in {args.out}")
    return 0


def _export_notification(args: argparse.Namespace) -> int:
    from forensics.export import write_notification
    from forensics.findings import load_evidence

    count = write_notification(load_evidence(args.folder), Path(args.out))
    print(f"notification: {count} readers in {args.out}")
    return 0


def _sql_objects(args: argparse.Namespace) -> int:
    from forensics.errors import InputError
    from forensics.sqlrefs import extract_objects, objects_jsonl

    if (args.file is None) == (args.sql is None):
        raise InputError("give either FILE.jsonl or --sql 'STATEMENT', not both or neither")
    if args.sql is not None:
        print(json.dumps(extract_objects(args.sql, database=args.database).as_record()))
        return 0
    with _open_text(args.file) as lines:
        for record in objects_jsonl(lines):
            print(json.dumps(record))
    return 0


def _subjects_query(args: argparse.Namespace) -> int:
    from forensics.case import load_case
    from forensics.subjects import owner_queries

    for query in owner_queries(load_case(args.case), args.index, args.subject_column):
        print(query)
        print()
    return 0


def _policy_check(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from forensics.policy import check_requests

    source = _open_text(args.requests) if args.requests else nullcontext([_one_request(args)])
    with source as lines:
        for result in check_requests(
            args.policies, lines, args.service_def, args.roles, args.tag_policies, args.tags
        ):
            print(json.dumps(result))
    return 0


def _one_request(args: argparse.Namespace) -> str:
    """The request line that --user/--groups/--access/--resource describe."""
    from forensics.errors import PolicyError

    if not args.user or not args.resource:
        raise PolicyError("give REQUESTS.jsonl, or --user and --resource for one request")
    service = "hdfs" if args.resource.startswith("/") else "hive"
    keys = ("database", "table", "column")
    resource = (
        {"path": args.resource}
        if service == "hdfs"
        else dict(zip(keys, args.resource.split("/", 2), strict=False))
    )
    request = {
        "id": "1",
        "service": service,
        "user": args.user,
        "groups": [g for g in args.groups.split(",") if g],
        "access": args.access,
        "resource": resource,
    }
    return json.dumps(request)


def _open_text(path: str):
    from forensics.errors import InputError

    try:
        return open(path, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


if __name__ == "__main__":
    sys.exit(main())
