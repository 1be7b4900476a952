"""The case file: what the investigator hands the toolkit, loaded and validated once.

Every mistake is reported as one `CaseError` naming the key and what to put there, before
anything is read or written (see the case file section of the evidence contract).
"""

from __future__ import annotations

import difflib
import glob
import os
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from forensics.errors import CaseError

#: The `at` of an export in force throughout the case (a `tag_policies:` path).
ALWAYS = datetime(1, 1, 2, tzinfo=timezone.utc)
CASE_NAME = re.compile(r"^[a-z0-9._-]{1,128}$")

#: Log formats this version parses; the contract names more for later stages.
SUPPORTED_FORMATS = (
    "ranger-audit",
    "ranger-solr",
    "hdfs-audit",
    "metastore-audit",
    "trino-event",
    "hive-lineage",
    "hiveserver2-log",
    "generic",
)
LATER_FORMATS = ("spark-eventlog",)
HISTORY_FORMATS = ("ranger-policy-versions", "ranger-admin-audit")
TOP_KEYS = frozenset(
    {
        "case",
        "timezone",
        "window",
        "policies",
        "policy_history",
        "roles",
        "service_config",
        "profile",
        "directory",
        "catalog",
        "logs",
        "on_behalf_services",
        "coverage",
        "subjects",
        "tags",
        "tag_policies",
        "annotations",
        "ranger_timezone",
    }
)
#: Event fields a `generic` log's `mapping:` may fill, and which of them it must.
GENERIC_FIELDS = frozenset(
    {
        "time",
        "principal",
        "object",
        "database",
        "table",
        "path",
        "columns",
        "action",
        "op",
        "result",
        "engine",
        "event_count",
        "client_ip",
        "session_id",
        "query_id",
        "query_text",
        "event_id",
    }
)
PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DIRECTORY_KEYS = frozenset({"groups", "people"})
CATALOG_KEYS = frozenset({"tables", "views", "sensitivity"})
DEFAULT_ON_BEHALF = ("hive", "presto", "spark", "trino")
PRINCIPAL = re.compile(r"^[a-z0-9_][a-z0-9_.$-]{0,127}$")


@dataclass(frozen=True)
class LogSource:
    """One `logs:` entry: a format and the files its glob matched, in sorted order.

    `mapping` (event field -> column) and `time_format` are set for `generic` logs only."""

    format: str
    pattern: str
    files: tuple[Path, ...]
    mapping: tuple[tuple[str, str], ...] = ()
    time_format: str | None = None


@dataclass(frozen=True)
class HistorySource:
    """One `policy_history:` entry: Ranger Admin's record of policy changes."""

    format: str  # one of HISTORY_FORMATS
    files: tuple[Path, ...]


@dataclass(frozen=True)
class PolicySnapshot:
    """A Ranger policy export and the instant from which it was in force."""

    at: datetime
    path: Path


@dataclass(frozen=True)
class ExpectedSource:
    """One `coverage.sources` entry: a log source the case expects to have written."""

    format: str  # one of SUPPORTED_FORMATS
    source: str  # agent host, NameNode, coordinator or file set, as coverage.csv names it


@dataclass(frozen=True)
class Coverage:
    """What the logs are expected to cover (`coverage:`): a period and the sources that
    should have written during it, so that a source that wrote nothing is a gap."""

    period: tuple[datetime, datetime] | None = None
    sources: tuple[ExpectedSource, ...] = ()


@dataclass(frozen=True)
class SubjectsSource:
    """The `subjects:` entry: who is in the exposed data, from its owner, as per-partition
    `counts` (object,partition,subjects,records) or an `index` (object,partition,subject_id)."""

    kind: str  # counts | index
    path: Path


@dataclass(frozen=True)
class Case:
    """A validated case: every path exists and every time is timezone-aware UTC."""

    path: Path
    name: str
    timezone: ZoneInfo
    window: tuple[datetime, datetime] | None
    policies: tuple[PolicySnapshot, ...]
    groups: Path | None
    people: Path | None
    tables: Path
    views: Path | None
    sensitivity: Path | None
    logs: tuple[LogSource, ...]
    on_behalf_services: tuple[str, ...]
    policy_history: tuple[HistorySource, ...] = ()
    roles: Path | None = None
    service_config: Path | None = None
    profile: str | None = None
    coverage: Coverage = Coverage()
    subjects: SubjectsSource | None = None
    #: ServiceTags exports (the resources' tags) over time, oldest first
    tags: tuple[PolicySnapshot, ...] = ()
    #: the tag service's policy exports over time (one path: in force throughout)
    tag_policies: tuple[PolicySnapshot, ...] = ()
    annotations: Path | None = None  # reviewers' notes (shown in the report, never evidence)
    #: the Ranger plugin host's time zone (Java's default zone), on whose clock Ranger
    #: matches validity-schedule recurrences; None: each schedule's own `timeZone`
    ranger_timezone: ZoneInfo | None = None

    @property
    def root(self) -> Path:
        """The folder of the case file: every relative path is relative to it."""
        return self.path.parent

    def relpath(self, path: Path) -> str:
        """`path` relative to the case folder, with `/` separators, as evidence names it."""
        return Path(os.path.relpath(path, self.root)).as_posix()

    def input_files(self) -> list[Path]:
        """Every file the case reads, sorted by its path relative to the case folder."""
        files = [p for p in (self.groups, self.people, self.tables, self.views, self.sensitivity)]
        files += [self.roles, self.service_config]
        files += [self.subjects.path] if self.subjects is not None else []
        files += [self.annotations]
        files += [s.path for s in self.policies]
        files += [s.path for s in self.tags] + [s.path for s in self.tag_policies]
        files += [f for src in self.policy_history for f in src.files]
        files += [f for src in self.logs for f in src.files]
        unique = {f.resolve(): f for f in files if f is not None}
        return sorted(unique.values(), key=self.relpath)


def load_case(path: str | os.PathLike[str]) -> Case:
    """Read and validate a case file; raise `CaseError` naming the first mistake found."""
    case_path = Path(path).absolute()
    if not case_path.is_file():
        raise CaseError(f"case file {path}: not found; give the path of a case YAML file")
    try:
        raw = yaml.safe_load(case_path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        if isinstance(exc, yaml.constructor.ConstructorError):
            raise CaseError(
                f"case file {path}{line}: a YAML tag or key the case file cannot hold "
                "(it is plain YAML: no !tags, no list as a key); remove it"
            ) from None
        raise CaseError(f"case file {path}{line}: not valid YAML; fix the syntax") from None
    if not isinstance(raw, Mapping):
        raise CaseError(f"case file {path}: expected a mapping of keys (case, timezone, logs, ...)")
    return _build_case(case_path, raw)


def _build_case(case_path: Path, raw: Mapping[str, Any]) -> Case:
    """Validate the parsed YAML key by key, in the order of the contract."""
    for key in raw:
        if key not in TOP_KEYS:
            allowed = ", ".join(sorted(TOP_KEYS))
            raise CaseError(
                f"{_show_key(key)}: unknown key{did_you_mean(key, TOP_KEYS)}; "
                f"the case file accepts {allowed}"
            )
    root = case_path.parent
    name = _required(raw, "case")
    if not isinstance(name, str) or not CASE_NAME.match(name):
        raise CaseError("case: must be an identifier of a-z, 0-9, '.', '_' or '-'")
    tz = _timezone(raw.get("timezone", "UTC"))
    window = _window(raw.get("window"), tz)
    policies = _policies(raw.get("policies"), root, tz)
    history = _history(raw.get("policy_history"), root)
    if window is None and len(policies) < 2 and not history:
        raise CaseError(
            "window: required unless policies lists at least two snapshots "
            "(a baseline and a change) or policy_history is given, from which windows "
            "can be derived"
        )
    directory = _section(raw, "directory", DIRECTORY_KEYS)
    catalog = _section(raw, "catalog", CATALOG_KEYS)
    if "tables" not in catalog:
        raise CaseError("catalog.tables: required; give a CSV with columns object,type,location")
    return Case(
        path=case_path,
        name=name,
        timezone=tz,
        window=window,
        policies=policies,
        groups=_file(directory, "groups", "directory.groups", root),
        people=_file(directory, "people", "directory.people", root),
        tables=_file(catalog, "tables", "catalog.tables", root),
        views=_file(catalog, "views", "catalog.views", root),
        sensitivity=_file(catalog, "sensitivity", "catalog.sensitivity", root),
        logs=_logs(raw.get("logs"), root),
        on_behalf_services=_on_behalf(raw.get("on_behalf_services")),
        policy_history=history,
        roles=None if raw.get("roles") is None else _existing(raw["roles"], "roles", root),
        service_config=(
            None
            if raw.get("service_config") is None
            else _existing(raw["service_config"], "service_config", root)
        ),
        profile=_profile(raw.get("profile")),
        coverage=_coverage(raw.get("coverage"), tz),
        subjects=_subjects(raw.get("subjects"), root),
        tags=_policies(raw.get("tags"), root, tz, "tags"),
        tag_policies=_policies(raw.get("tag_policies"), root, tz, "tag_policies"),
        annotations=(
            None
            if raw.get("annotations") is None
            else _existing(raw["annotations"], "annotations", root)
        ),
        ranger_timezone=(
            None
            if raw.get("ranger_timezone") is None
            else _timezone(raw["ranger_timezone"], "ranger_timezone")
        ),
    )


def _required(raw: Mapping[str, Any], key: str) -> Any:
    if key not in raw or raw[key] in (None, ""):
        raise CaseError(f"{key}: required; see the case file section of the evidence contract")
    return raw[key]


def _timezone(value: Any, key: str = "timezone") -> ZoneInfo:
    if not isinstance(value, str) or not value:
        raise CaseError(f"{key}: must be an IANA zone name such as UTC or Europe/Berlin")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CaseError(
            f"{key}: unknown zone {_show(value)}; use an IANA name such as UTC or America/New_York"
        ) from None


def parse_instant(value: Any, key: str, tz: ZoneInfo) -> datetime:
    """A case-file time as aware UTC. A time without a UTC offset is refused: read in the
    case timezone (the zone of the logs) it silently moves a window by hours, and an
    investigation then answers for the wrong interval (`tz` names that zone in the error)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise CaseError(
                f"{key}: {_show(value)} is not an ISO-8601 time; write e.g. 2026-06-18T09:00:00Z"
            ) from None
    else:
        raise CaseError(f"{key}: expected an ISO-8601 time such as 2026-06-18T09:00:00Z")
    if moment.tzinfo is None or moment.utcoffset() is None:
        as_case = moment.replace(tzinfo=tz).astimezone(timezone.utc)
        raise CaseError(
            f"{key}: {_show(str(value))} has no UTC offset; add Z or an offset such as "
            f"+02:00 (in the case timezone {tz.key} it would be "
            f"{as_case.strftime('%Y-%m-%dT%H:%M:%SZ')})"
        )
    return moment.astimezone(timezone.utc)


def _window(value: Any, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"start", "end"}:
        raise CaseError(
            f"window: must have exactly the keys start and end{_near(value, {'start', 'end'})}"
        )
    start = parse_instant(value["start"], "window.start", tz)
    end = parse_instant(value["end"], "window.end", tz)
    if end <= start:
        raise CaseError("window.end: must be after window.start")
    return start, end


def _policies(
    value: Any, root: Path, tz: ZoneInfo, name: str = "policies"
) -> tuple[PolicySnapshot, ...]:
    if value is None:
        return ()
    if name == "tag_policies" and isinstance(value, str):  # one export, in force throughout
        return (PolicySnapshot(at=ALWAYS, path=_existing(value, name, root)),)
    if not isinstance(value, list) or not value:
        raise CaseError(f"{name}: must be a list of {{at, path}}, oldest (the baseline) first")
    snapshots = []
    for i, item in enumerate(value):
        key = f"{name}[{i}]"
        if not isinstance(item, Mapping) or set(item) != {"at", "path"}:
            raise CaseError(
                f"{key}: must have exactly the keys at and path{_near(item, {'at', 'path'})}"
            )
        at = parse_instant(item["at"], f"{key}.at", tz)
        if snapshots and at <= snapshots[-1].at:
            raise CaseError(f"{key}.at: snapshots must be listed oldest first, each later")
        snapshots.append(PolicySnapshot(at=at, path=_existing(item["path"], f"{key}.path", root)))
    return tuple(snapshots)


def _section(raw: Mapping[str, Any], key: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        raise CaseError(f"{key}: must be a mapping with keys {', '.join(sorted(allowed))}")
    for sub in value:
        if sub not in allowed:
            raise CaseError(
                f"{key}.{_show_key(sub)}: unknown key{did_you_mean(sub, allowed)}; "
                f"use {', '.join(sorted(allowed))}"
            )
    return value


def _file(section: Mapping[str, Any], sub: str, key: str, root: Path) -> Path | None:
    if section.get(sub) in (None, ""):
        return None
    return _existing(section[sub], key, root)


def inside(value: str, key: str) -> str:
    """`value` if it is a relative path that stays inside the case folder (read lexically;
    each file it leads to is then checked for symbolic links leading outside); otherwise a
    `CaseError` naming `key`."""
    if (
        not value
        or len(value) > 4096
        or "\x00" in value
        or PurePosixPath(value).is_absolute()
        or Path(value).is_absolute()
        or os.path.normpath(value).split(os.sep)[0] == ".."
    ):
        raise CaseError(
            f"{key}: {_show(value)} must be a path relative to the case file, inside its folder; "
            "copy or link the files there"
        )
    return value


def _existing(value: Any, key: str, root: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise CaseError(f"{key}: must be a file path relative to the case file")
    path = root / inside(value, key)
    if not path.exists() and not path.is_symlink():
        raise CaseError(
            f"{key}: file {_show(value)} not found (paths are relative to the case file)"
        )
    return _regular_inside(path, key, root)


def _folder_inside(path: Path, root: Path) -> bool:
    """Whether `path` is a folder inside the case folder (a glob such as `logs/**` matches
    folders too; they hold the files, they are not read)."""
    real = path.resolve()
    return real.is_dir() and (real == root.resolve() or root.resolve() in real.parents)


def _regular_inside(path: Path, key: str, root: Path) -> Path:
    """`path` if it is a regular file whose real location is inside the case folder.

    A symbolic link that leads outside is refused: a case folder handed over by someone
    else could otherwise make the toolkit read (and `trace` print) any file of the
    investigator's. A FIFO or device is refused too: reading one blocks or never ends."""
    shown = _show(os.path.relpath(path, root))
    real = path.resolve()
    if real != root.resolve() and root.resolve() not in real.parents:
        raise CaseError(
            f"{key}: {shown} is a symbolic link to a file outside the case folder; "
            "copy the file into the case folder (or hard-link or bind-mount it there)"
        )
    if not real.is_file():
        raise CaseError(
            f"{key}: {shown} is not a regular file (a FIFO, device, socket, folder or "
            "broken link); give the path of a log or export file"
        )
    return path


def _logs(value: Any, root: Path) -> tuple[LogSource, ...]:
    if not isinstance(value, list) or not value:
        raise CaseError("logs: required; list {format, path} entries, e.g. format: ranger-audit")
    sources = []
    for i, item in enumerate(value):
        key = f"logs[{i}]"
        if not isinstance(item, Mapping) or not {"format", "path"} <= set(item):
            raise CaseError(f"{key}: must have the keys format and path")
        fmt, pattern = item["format"], item["path"]
        extra = set(item) - {"format", "path"}
        if extra and (fmt != "generic" or not extra <= {"mapping", "time_format"}):
            wrong = sorted(map(str, extra))[0]
            raise CaseError(
                f"{key}: unknown key {_show_key(wrong)}"
                f"{did_you_mean(wrong, {'format', 'path', 'mapping', 'time_format'})}; "
                "a log entry has format and path (and mapping, time_format for format generic)"
            )
        if fmt in LATER_FORMATS:
            raise CaseError(f"{key}.format: {fmt} is not supported by this version yet")
        if fmt not in SUPPORTED_FORMATS:
            raise CaseError(
                f"{key}.format: unknown format {_show(fmt)}; "
                f"use one of {', '.join(SUPPORTED_FORMATS)}"
            )
        matched = _matched(pattern, f"{key}.path", root)
        mapping, time_format = _generic(item, key) if fmt == "generic" else ((), None)
        sources.append(LogSource(fmt, pattern, matched, mapping, time_format))
    return tuple(sources)


def _generic(item: Mapping[str, Any], key: str) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """The column mapping and time format of a `generic` log entry, checked."""
    mapping = item.get("mapping")
    if not isinstance(mapping, Mapping) or not mapping:
        raise CaseError(
            f"{key}.mapping: required for format generic; map event fields to column names, "
            "e.g. {time: ts, principal: user_name, object: table_name}"
        )
    for field, column in mapping.items():
        if field not in GENERIC_FIELDS:
            raise CaseError(
                f"{key}.mapping.{_show(field)}: unknown event field"
                f"{did_you_mean(field, GENERIC_FIELDS)}; use "
                f"{', '.join(sorted(GENERIC_FIELDS))}"
            )
        if not isinstance(column, str) or not column or len(column) > 256:
            raise CaseError(f"{key}.mapping.{field}: must be the name of a column")
    for field in ("time", "principal"):
        if field not in mapping:
            raise CaseError(f"{key}.mapping.{field}: required; name the column that holds it")
    if not ({"object", "path"} & set(mapping) or {"database", "table"} <= set(mapping)):
        raise CaseError(
            f"{key}.mapping: name the column of the object (object, or database and table) "
            "or of the storage path (path)"
        )
    time_format = item.get("time_format")
    if time_format is not None and (
        not isinstance(time_format, str) or not time_format or len(time_format) > 64
    ):
        raise CaseError(
            f"{key}.time_format: a strftime pattern such as '%Y-%m-%d %H:%M:%S', "
            "or epoch_s / epoch_ms"
        )
    return tuple(sorted((str(f), str(c)) for f, c in mapping.items())), time_format


def _history(value: Any, root: Path) -> tuple[HistorySource, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise CaseError(
            "policy_history: must be a list of {format, path} with format "
            f"{' or '.join(HISTORY_FORMATS)}"
        )
    sources = []
    for i, item in enumerate(value):
        key = f"policy_history[{i}]"
        if not isinstance(item, Mapping) or set(item) != {"format", "path"}:
            raise CaseError(
                f"{key}: must have exactly the keys format and path"
                f"{_near(item, {'format', 'path'})}"
            )
        if item["format"] not in HISTORY_FORMATS:
            raise CaseError(
                f"{key}.format: unknown format {_show(item['format'])}; "
                f"use one of {', '.join(HISTORY_FORMATS)}"
            )
        pattern = item["path"]
        matched = _matched(pattern, f"{key}.path", root)
        sources.append(HistorySource(item["format"], matched))
    return tuple(sources)


def _matched(pattern: Any, key: str, root: Path) -> tuple[Path, ...]:
    """The files a case-relative glob matches, sorted; an error when it matches none."""
    if not isinstance(pattern, str) or not pattern:
        raise CaseError(f"{key}: must be a glob relative to the case file")
    inside(pattern, key)
    found = [Path(p) for p in glob.glob(str(root / pattern), recursive=True)]
    matched = sorted(_regular_inside(p, key, root) for p in found if not _folder_inside(p, root))
    if not matched:
        raise CaseError(f"{key}: glob {_show(pattern)} matches no file; fix the path")
    return tuple(matched)


def _subjects(value: Any, root: Path) -> SubjectsSource | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or len(value) != 1 or set(value) - {"counts", "index"}:
        raise CaseError(
            "subjects: must be {counts: FILE} (columns object,partition,subjects,records) "
            "or {index: FILE} (columns object,partition,subject_id)"
        )
    ((kind, path),) = value.items()
    return SubjectsSource(kind, _existing(path, f"subjects.{kind}", root))


def _profile(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not PROFILE_NAME.match(value):
        raise CaseError(
            "profile: the name of a connection profile in your profiles file "
            "(letters, digits, '.', '_', '-'); the profile itself stays outside the case"
        )
    return value


COVERAGE_KEYS = frozenset({"period", "sources"})


def _coverage(value: Any, tz: ZoneInfo) -> Coverage:
    """The `coverage:` section: `{period: {start, end}, sources: [{format, source}]}`."""
    if value is None:
        return Coverage()
    if not isinstance(value, Mapping) or not value:
        raise CaseError("coverage: must be a mapping with keys period and/or sources")
    for key in value:
        if key not in COVERAGE_KEYS:
            raise CaseError(f"coverage.{_show(key)}: unknown key; use period, sources")
    period = None
    if value.get("period") is not None:
        raw = value["period"]
        if not isinstance(raw, Mapping) or set(raw) != {"start", "end"}:
            raise CaseError("coverage.period: must have exactly the keys start and end")
        start = parse_instant(raw["start"], "coverage.period.start", tz)
        end = parse_instant(raw["end"], "coverage.period.end", tz)
        if end <= start:
            raise CaseError("coverage.period.end: must be after coverage.period.start")
        period = (start, end)
    sources = []
    raw_sources = value.get("sources")
    if raw_sources is not None and not isinstance(raw_sources, list):
        raise CaseError("coverage.sources: must be a list of {format, source}")
    for i, item in enumerate(raw_sources or []):
        key = f"coverage.sources[{i}]"
        if not isinstance(item, Mapping) or set(item) != {"format", "source"}:
            raise CaseError(f"{key}: must have exactly the keys format and source")
        if item["format"] not in SUPPORTED_FORMATS:
            raise CaseError(
                f"{key}.format: unknown format {_show(item['format'])}; "
                f"use one of {', '.join(SUPPORTED_FORMATS)}"
            )
        source = item["source"]
        if not isinstance(source, str) or not source.strip() or len(source) > 512:
            raise CaseError(
                f"{key}.source: the agent host, NameNode, coordinator or file set "
                "(as coverage.csv names it), e.g. hs2-01.corp.example.com"
            )
        sources.append(ExpectedSource(item["format"], source.strip()))
    return Coverage(period, tuple(sources))


def _on_behalf(value: Any) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_ON_BEHALF
    if not isinstance(value, list) or not all(
        isinstance(v, str) and PRINCIPAL.match(v.lower()) for v in value
    ):
        raise CaseError("on_behalf_services: must be a list of principal short names")
    return tuple(sorted({v.lower() for v in value}))


def did_you_mean(given: Any, allowed: Any) -> str:
    """`" (did you mean X?)"` when `given` is a near miss of one allowed key, else "": a
    misspelt key is how a case quietly loses a setting."""
    if not isinstance(given, str):
        return ""
    close = difflib.get_close_matches(given.lower(), sorted(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _near(value: Any, allowed: set[str]) -> str:
    """The did-you-mean hint for the first key of mapping `value` that is not allowed."""
    if not isinstance(value, Mapping):
        return ""
    extra = sorted(str(k) for k in value if k not in allowed)
    return f"; {_show_key(extra[0])} is not one{did_you_mean(extra[0], allowed)}" if extra else ""


def _show_key(key: Any) -> str:
    """A key as an error message names it: bare when it is a plain name, else quoted."""
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_.-]{1,60}", text) else _show(key)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 64


def _show(value: Any) -> str:
    """A value as an error message quotes it: repr, cut to 60 characters. The repr itself is
    bounded (a YAML alias bomb is a small file whose value has a billion elements)."""
    text = _SHORT.repr(value) if not isinstance(value, str) else repr(value[:64])
    return text if len(text) <= 60 else text[:57] + "..."
